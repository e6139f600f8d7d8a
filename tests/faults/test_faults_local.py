"""Faults on local engines: every future resolves, nothing hangs, the kernel takes new work.

Each test names one fault. The Slurm versions of the block faults are in
``test_faults_slurm.py``; see README.md for the whole table.
"""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

import parsl_nb as parsl
from parsl_nb.errors import ExecutorError, WorkerLost
from parsl_nb.executors import ThreadPoolExecutor
from parsl_nb.providers import JobState, LocalProvider
from tests.engines.conftest import engine_pid, sleep_and_mark

from .conftest import alive, all_resolved, ours, read_line, wait_until

pytestmark = pytest.mark.engines


@parsl.python_app
def add(a, b):
    return a + b


@parsl.python_app
def nap(seconds, value=None):
    import time
    time.sleep(seconds)
    return value


def test_engine_sigkilled_mid_task(engines_kernel, tmp_path):
    """The killed engine's task fails with WorkerLost; queued tasks run on the survivor."""
    dfk, ex = engines_kernel(engines_per_node=2)
    assert add(1, 1).result(timeout=30) == 2
    mark = str(tmp_path / "pid")
    victim = sleep_and_mark(mark, 60)
    others = [nap(0.05, i) for i in range(40)]
    pid = engine_pid(mark, 20, "the long task to start")
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerLost, match=r"engine .* \(block 0\)"):
        victim.result(timeout=10)
    assert [f.result(timeout=30) for f in others] == list(range(40))
    assert add(2, 3).result(timeout=10) == 5
    assert all_resolved([victim, *others])


def test_block_job_killed_is_replaced(engines_kernel, tmp_path):
    """SIGKILL to a block's whole process group: its running task is lost, a new block replaces it."""
    provider = LocalProvider(init_blocks=1, min_blocks=1, max_blocks=1)
    dfk, ex = engines_kernel(engines_per_node=1, provider=provider, strategy="none")
    assert add(1, 1).result(timeout=30) == 2
    mark = str(tmp_path / "pid")
    running = sleep_and_mark(mark, 60)
    engine_pid(mark, 20)
    queued = [add(i, i) for i in range(5)]
    job = ex.blocks[0].job_id
    os.killpg(int(job), signal.SIGKILL)
    with pytest.raises(WorkerLost):
        running.result(timeout=15)
    assert [f.result(timeout=30) for f in queued] == [2 * i for i in range(5)]  # on the new block
    wait_until(lambda: len(ex.blocks) == 2 and ex.blocks[1].state is JobState.RUNNING, 10, "a replacement block")
    assert ex.blocks[0].state is JobState.FAILED
    assert add(5, 5).result(timeout=10) == 10


def test_controller_killed_fails_pending_futures_with_executor_error(engines_kernel, tmp_path):
    """Kill ipcontroller: queued tasks fail with ExecutorError (naming the controller) within 30 s."""
    # prefetch=1: at most two tasks sit on the engine, the rest wait in the kernel's queue
    dfk, ex = engines_kernel(engines_per_node=1, prefetch=1, extra=[ThreadPoolExecutor(label="threads")])
    eng_add = parsl.python_app(lambda a, b: a + b, executors=["engines"])
    on_threads = parsl.python_app(lambda a, b: a + b, executors=["threads"])
    assert eng_add(1, 1).result(timeout=30) == 2
    running = parsl.python_app(lambda: __import__("time").sleep(2) or "finished", executors=["engines"])()
    wait_until(lambda: running.task_status() == "running", 10, "the task to be RUNNING")
    queued = [eng_add(i, 1) for i in range(20)]
    watchdog = psutil.Process(ex.controller.pid)
    controller = [p for p in watchdog.children() if "ipyparallel.controller" in " ".join(p.cmdline())]
    assert controller, watchdog.children()
    t0 = time.monotonic()
    controller[0].kill()
    wait_until(lambda: all_resolved(queued), 30, "every queued future to resolve")
    took = time.monotonic() - t0
    for f in queued:
        err = f.exception()
        assert err is None or isinstance(err, ExecutorError), err
    failed = [f.exception() for f in queued if f.exception() is not None]
    assert len(failed) >= 15, "queued tasks did not fail; the controller's death went unnoticed"
    assert "controller exited" in str(failed[0]) and "controller.log" in str(failed[0])
    assert running.result(timeout=30) == "finished"  # a task already on an engine finishes
    assert took < 30
    with pytest.raises(ExecutorError, match="controller exited"):  # new work on it fails at once
        eng_add(2, 2).result(timeout=5)
    assert on_threads(2, 2).result(timeout=5) == 4  # the kernel still takes work elsewhere


KILLED_KERNEL = """
import sys, time
import parsl_nb as parsl
from parsl_nb.executors import EngineExecutor
parsl.load(parsl.Config(executors=[EngineExecutor(engines_per_node=2, kernel_timeout=10)], run_dir=sys.argv[1]))
@parsl.python_app
def nap(s):
    import time
    time.sleep(s)
    return s
assert nap(0).result(timeout=30) == 0
futs = [nap(30) for _ in range(4)]   # engines busy mid-task when the kernel dies
time.sleep(0.5)
print("READY", flush=True)
time.sleep(600)
"""


def test_kernel_sigkilled_leaves_no_process(driver, tmp_path):
    """SIGKILL the kernel (a driver process) mid-run: no controller, engine or watchdog survives 30 s."""
    marker = str(tmp_path / "killed-kernel-runinfo")
    proc = driver(KILLED_KERNEL, marker)
    read_line(proc, "READY")
    procs = ours(marker)
    assert len(procs) >= 4, procs  # watchdogs, controller, block, engines
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    wait_until(lambda: not alive(procs) and not ours(marker), 30, "every process of the killed kernel to exit")


INTERRUPTED = """
import sys, time
import parsl_nb as parsl
from parsl_nb.executors import EngineExecutor
parsl.load(parsl.Config(executors=[EngineExecutor(engines_per_node=2)], run_dir=sys.argv[1]))
@parsl.python_app
def nap(s, v):
    import time
    time.sleep(s)
    return v
assert nap(0, 0).result(timeout=30) == 0
futs = [nap(1.0, i) for i in range(6)]
print("WAITING", flush=True)
try:
    futs[-1].result()
    print("NOT-INTERRUPTED", flush=True)
except KeyboardInterrupt:
    print("INTERRUPTED", flush=True)
print("RESULTS", [f.result(timeout=30) for f in futs], flush=True)
print("AFTER", nap(0, "new").result(timeout=30), flush=True)
parsl.clear()
print("CLEARED", flush=True)
"""


def test_interrupt_during_result_keeps_the_kernel_going(driver, tmp_path):
    """SIGINT to the kernel's process group (what Jupyter's interrupt does) while it waits in result()."""
    proc = driver(INTERRUPTED, str(tmp_path / "ri"))
    read_line(proc, "WAITING")
    time.sleep(0.2)  # let the main thread block in result(); the signal is the event under test
    os.killpg(proc.pid, signal.SIGINT)
    assert read_line(proc, "INTERRUPTED", timeout=10) == ""
    assert read_line(proc, "RESULTS") == str(list(range(6)))  # the engines were not interrupted
    assert read_line(proc, "AFTER") == "new"
    read_line(proc, "CLEARED")
    assert proc.wait(timeout=15) == 0


def test_interrupt_in_process_with_threads(tmp_path):
    """The same in this process on threads: result() raises KeyboardInterrupt, the task finishes."""
    import threading

    parsl.load(parsl.Config(executors=[ThreadPoolExecutor(label="threads")], run_dir=str(tmp_path / "ri")))
    fut = nap(1.0, "done")
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        fut.result(timeout=10)
    assert fut.result(timeout=10) == "done"
    assert add(1, 2).result(timeout=5) == 3
