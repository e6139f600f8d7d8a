"""The Jupyter surface, driven through a real kernel as a notebook would."""

from __future__ import annotations

import time

import psutil
import pytest

from .kernel_harness import Kernel

pytestmark = pytest.mark.timeout(90)

SQUARE = "%%parsl_app square(x, y=2)\nz = x ** y\nreturn z"
SLOW = "%%parsl_app slow(t)\nimport time\ntime.sleep(t)\nreturn t"
ONE_THREAD = "%parsl_load Config(executors=[parsl_nb.ThreadPoolExecutor(max_threads=1)])"


def test_python_cell_app_runs_and_keeps_defaults(kernel: Kernel) -> None:
    kernel.ok(SQUARE)
    assert kernel.value("square(3).result()") == "9"
    assert kernel.value("square(2, y=3).result()") == "8"
    assert kernel.value("type(square).__name__") == "'PythonApp'"


def test_bash_cell_is_a_template_formatted_with_the_arguments(kernel: Kernel) -> None:
    kernel.ok('%%parsl_app --bash greet(name, greeting="hello", stdout="greet.txt")\necho {greeting} {name}')
    assert kernel.value("greet('world').result()") == "0"
    assert kernel.value("open('greet.txt').read()") == "'hello world\\n'"


def test_join_cell_returns_futures(kernel: Kernel) -> None:
    kernel.ok(SQUARE)
    kernel.ok("%%parsl_app --join fan(n)\nreturn [square(i) for i in range(n)]")
    assert kernel.value("fan(4).result()") == "[0, 1, 4, 9]"


def test_rerun_redefines_app_and_cache_never_serves_old_code(kernel: Kernel) -> None:
    cell = "%%parsl_app --cache inc(x)\nreturn x + 1"
    kernel.ok(cell)
    assert kernel.value("inc(1).result()") == "2"
    kernel.ok(cell)  # the same code again: the memo table may answer
    assert kernel.value("f = inc(1); f.result(), f.task_status()") == "(2, 'memo_done')"
    kernel.ok("%%parsl_app --cache inc(x)\nreturn x + 100")  # edited: must run the new code
    assert kernel.value("f = inc(1); f.result(), f.task_status()") == "(101, 'exec_done')"


@pytest.mark.parametrize("line", ["--bogus f(x)", "f(x", "--bash --join f(x)", "", "1abc(x)", "f(x y)"])
def test_bad_magic_line_gives_usage_not_a_traceback(kernel: Kernel, line: str) -> None:
    reply = kernel.run(f"%%parsl_app {line}\nreturn 1")
    assert reply.status == "error"
    shown = reply.stderr + reply.traceback
    assert "usage:" in shown
    assert "parsl_nb/" not in shown and "Traceback" not in shown


def test_bad_line_magics_give_usage(kernel: Kernel) -> None:
    for line in ["%parsl_tasks --bogus", "%parsl_cancel", "%parsl_scale", "%parsl_load --wait --cancel"]:
        reply = kernel.run(line)
        assert reply.status == "error", line
        assert "usage:" in reply.stderr + reply.traceback, line
        assert "parsl_nb/" not in reply.stderr + reply.traceback, line


def test_syntax_error_points_at_the_cells_own_line(kernel: Kernel) -> None:
    reply = kernel.run("%%parsl_app broken(x)\ny = 1\nz = = 2\nreturn z")
    assert reply.status == "error"
    tb = reply.traceback
    assert "line 3" in tb and "z = = 2" in tb and "SyntaxError" in tb
    assert "parsl_nb/" not in tb
    # an error the compiler finds (not the parser) is located the same way
    reply = kernel.run("%%parsl_app broken2(x)\ny = 1\n\nawait y")
    assert "line 4" in reply.traceback and "await y" in reply.traceback


def test_task_exception_shows_the_users_line_not_internals(kernel: Kernel) -> None:
    kernel.ok("%%parsl_app boom(x)\ny = x + 1\nreturn y / 0")
    reply = kernel.run("boom(1).result()")
    assert reply.error is not None and reply.error["ename"] == "ZeroDivisionError"
    tb = reply.traceback
    assert "return y / 0" in tb and "line 3" in tb
    assert "concurrent/futures" not in tb and "parsl_nb/" not in tb and "threading.py" not in tb


def test_dependency_failure_names_the_chain_without_internals(kernel: Kernel) -> None:
    kernel.ok("%%parsl_app boom(x)\nreturn x / 0")
    kernel.ok(SQUARE)
    reply = kernel.run("square(boom(1)).result()")
    assert reply.error is not None and reply.error["ename"] == "DependencyError"
    assert "return x / 0" in reply.traceback and "parsl_nb/" not in reply.traceback


def test_await_and_asyncio_gather(kernel: Kernel) -> None:
    kernel.ok(SQUARE)
    assert kernel.value("await square(4)") == "16"
    assert kernel.value("import asyncio\nawait asyncio.gather(*[square(i) for i in range(5)])") == \
        "[0, 1, 4, 9, 16]"


def test_status_tasks_cancel_clear_magics(kernel: Kernel) -> None:
    kernel.ok(SQUARE)
    kernel.ok("%%parsl_app boom(x)\nreturn x / 0")
    kernel.ok("square(2).result(); b = boom(1); import concurrent.futures as cf; cf.wait([b])")
    reply = kernel.ok("%parsl_status")
    assert "exec_done=1" in reply.text and "failed=1" in reply.text and "square" in reply.text
    assert "parsl-nb-status" in reply.html
    reply = kernel.ok("%parsl_tasks --state failed")
    assert "boom" in reply.text and "ZeroDivisionError" in reply.text and "square" not in reply.text
    kernel.ok(ONE_THREAD)
    kernel.ok(SLOW)
    kernel.ok("blocker = slow(1); waiting = [square(i) for i in range(3)]")
    reply = kernel.ok("%parsl_cancel square")
    assert "cancelled 3 task(s)" in reply.stdout
    assert kernel.value("[w.task_status() for w in waiting]") == "['cancelled', 'cancelled', 'cancelled']"
    reply = kernel.ok("%parsl_clear --wait")
    assert "waited for 1 unfinished task(s)" in reply.stdout
    assert kernel.value("blocker.result()") == "1"


def test_parsl_load_replaces_the_kernel_and_says_how(kernel: Kernel) -> None:
    kernel.ok(ONE_THREAD)
    kernel.ok(SLOW)
    kernel.ok("fs = [slow(1) for _ in range(3)]")
    reply = kernel.ok("%parsl_load threads")
    assert "cancelled 2 unfinished task(s)" in reply.stdout, reply.stdout
    assert "1 running task(s) could not be stopped" in reply.stdout and "shut it down" in reply.stdout
    assert kernel.value("[f.task_status() for f in fs]") == "['exec_done', 'cancelled', 'cancelled']"
    kernel.ok("gs = [slow(0.5) for _ in range(3)]")
    reply = kernel.ok("%parsl_load threads --wait")
    assert "waited for" in reply.stdout and "unfinished task(s)" in reply.stdout
    assert kernel.value("[g.task_status() for g in gs]") == "['exec_done', 'exec_done', 'exec_done']"
    reply = kernel.ok("%parsl_load Config(executors=[parsl_nb.ThreadPoolExecutor(label='mine')])")
    assert "['mine']" in reply.stdout
    reply = kernel.run("%parsl_load no_such_thing")
    assert reply.status == "error" and "could not evaluate" in reply.stderr


def test_interrupt_raises_in_the_waiting_cell_only(kernel: Kernel) -> None:
    kernel.ok(SLOW)
    kernel.ok("other = slow(1)")
    msg = kernel.send("slow(4).result()")
    time.sleep(1.0)
    kernel.km.interrupt_kernel()
    reply = kernel.collect(msg, timeout=15)
    assert reply.status == "error" and reply.error is not None and reply.error["ename"] == "KeyboardInterrupt"
    assert kernel.value("1 + 1") == "2"  # the kernel is alive
    assert kernel.value("other.result(timeout=10)") == "1"  # the other task went on
    assert kernel.value("parsl_nb_dfk = __import__('parsl_nb').dfk(); parsl_nb_dfk.cleanup_called") == "False"


def _wait_for_sleep(kernel: Kernel, timeout: float = 10) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = kernel.descendants()
        if any("sleep" in " ".join(_cmdline(p)) for p in kids):
            return kids
        time.sleep(0.1)
    raise AssertionError(f"the bash task never started a sleep process: {kernel.descendants()}")


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def _gone(procs: list[psutil.Process], timeout: float = 10) -> list[psutil.Process]:
    _dead, alive = psutil.wait_procs(procs, timeout=timeout)
    return alive


def test_shutdown_leaves_no_process_behind(kernel: Kernel) -> None:
    kernel.ok("%%parsl_app --bash sleeper(n)\nsleep {n}")
    kernel.ok("f = sleeper(120)")
    kids = _wait_for_sleep(kernel)
    kernel_proc = psutil.Process(kernel.pid)
    kernel.kc.stop_channels()
    kernel.km.shutdown_kernel(now=False)  # a graceful shutdown, as Jupyter's "Shut down kernel"
    assert _gone([kernel_proc, *kids]) == []


def test_restart_leaves_no_process_behind(kernel: Kernel) -> None:
    kernel.ok("%%parsl_app --bash sleeper(n)\nsleep {n}")
    kernel.ok("f = sleeper(120)")
    kids = _wait_for_sleep(kernel)
    kernel.km.restart_kernel(now=False)
    assert _gone(kids) == []


@pytest.mark.engines
def test_cell_apps_on_local_engines(kernel: Kernel) -> None:
    reply = kernel.ok("%parsl_load local", timeout=60)
    assert "engines" in reply.stdout
    kernel.ok("%%parsl_app --executors engines where(x)\nimport os\nreturn os.getpid(), x * 2")
    kernel.ok("%%parsl_app --bash --executors engines hello(name, stdout='e.txt')\necho hi {name}")
    pid, doubled = eval(kernel.value("where(21).result(timeout=30)"))
    assert doubled == 42 and pid != kernel.pid
    assert kernel.value("hello('x').result(timeout=30), open('e.txt').read()") == "(0, 'hi x\\n')"
    kids = kernel.descendants()
    kernel.kc.stop_channels()
    kernel.km.shutdown_kernel(now=False)
    assert _gone(kids, timeout=15) == []


def test_futures_and_kernel_display_as_html(kernel: Kernel) -> None:
    kernel.ok(SQUARE)
    reply = kernel.ok("f = square(5); f.result(); f")
    assert 'data-state="exec_done"' in reply.html and "square" in reply.html and "25" in reply.html
    assert "AppFuture task 0 square: exec_done" in reply.text
    reply = kernel.ok("parsl_nb_dfk = __import__('parsl_nb').dfk(); parsl_nb_dfk")
    assert "parsl-nb-kernel" in reply.html and "runinfo" in reply.html
