"""Python apps as a notebook uses them: call, get a future, read the result."""

from __future__ import annotations

import inspect
import math
import traceback

import pytest

import parsl_nb as parsl
from parsl_nb import python_app
from parsl_nb.errors import AppTimeout, NoDataFlowKernelError


def test_decorator_with_and_without_parentheses(dfk):
    @python_app
    def double(x):
        return 2 * x

    @python_app()
    def triple(x):
        return 3 * x

    @python_app(cache=False, executors="all")
    def add(x, y=1):
        return x + y

    assert double(21).result() == 42
    assert triple(2).result() == 6
    assert add(1, y=5).result() == 6


def test_library_function_as_plain_call(dfk):
    sqrt = python_app(math.sqrt)
    joined = python_app(str.join)
    assert sqrt(16.0).result() == 4.0
    assert joined("-", ["a", "b"]).result() == "a-b"


def test_app_keeps_name_doc_and_signature():
    def area(width: float, height: float = 1.0) -> float:
        """Area of a rectangle."""
        return width * height

    app = python_app(area)
    assert app.__name__ == "area"
    assert app.__doc__ == "Area of a rectangle."
    assert inspect.signature(app) == inspect.signature(area)


def test_future_reports_tid_and_state(dfk):
    @python_app
    def one():
        return 1

    futures = [one() for _ in range(3)]
    assert [f.result() for f in futures] == [1, 1, 1]
    tids = [f.tid for f in futures]
    assert tids == sorted(tids) and len(set(tids)) == 3
    assert all(f.task_status() == "exec_done" for f in futures)
    assert futures[0].task_record.status is parsl.TaskState.EXEC_DONE


def test_exception_keeps_type_and_traceback(dfk):
    @python_app
    def divide(a, b):
        return a / b

    fut = divide(1, 0)
    with pytest.raises(ZeroDivisionError):
        fut.result()
    assert fut.task_status() == "failed"
    text = "".join(traceback.format_exception(fut.exception()))
    assert "in divide" in text and "return a / b" in text


def test_app_without_loaded_kernel_says_what_to_do():
    @python_app
    def f():
        return 1

    with pytest.raises(NoDataFlowKernelError, match=r"parsl_nb.load\(\)"):
        f()
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()


def test_python_walltime_raises_app_timeout(dfk):
    @python_app
    def spin(seconds):
        import time

        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass
        return "finished"

    slow = spin(30, walltime=0.3)
    with pytest.raises(AppTimeout):
        slow.result(timeout=10)
    assert slow.task_status() == "failed"
    assert spin(0, walltime=5).result(timeout=10) == "finished"


def test_walltime_must_be_positive(dfk):
    @python_app
    def f():
        return 1

    with pytest.raises(ValueError, match="walltime"):
        f(walltime=-1)


def test_special_kwargs_reach_functions_that_declare_them(dfk):
    @python_app
    def echo(x, inputs=(), walltime=60):
        return x, list(inputs), walltime

    assert echo(1, inputs=[2, 3]).result() == (1, [2, 3], 60)
    assert echo(1, inputs=[4], walltime=30).result() == (1, [4], 30)


def test_app_as_method(dfk):
    class Scaler:
        def __init__(self, k):
            self.k = k

        @python_app
        def scale(self, x):
            return self.k * x

    assert Scaler(3).scale(2).result() == 6


def test_generator_and_async_functions_are_refused():
    def gen():
        yield 1

    async def coro():
        return 1

    with pytest.raises(TypeError, match="generator"):
        python_app(gen)
    with pytest.raises(TypeError, match="async"):
        python_app(coro)


@pytest.mark.threads_only
def test_thread_apps_share_memory(thread_dfk):
    """Thread-only: apps see and mutate the notebook's own objects."""
    seen = []

    @python_app
    def record(item, sink):
        sink.append(item)
        return len(sink)

    @python_app
    def make():
        return "made"

    first = record("a", seen)
    first.result()
    record(make(), seen).result()  # a dependency in another argument must not copy `seen`
    assert seen == ["a", "made"]


@pytest.mark.threads_only
def test_walltime_counts_from_start_not_from_queueing(run_dir):
    """Thread-only: a task waiting for a free thread is not timed yet."""
    import threading

    from parsl_nb.config import Config
    from parsl_nb.executors import ThreadPoolExecutor

    parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=1)], run_dir=run_dir))
    release = threading.Event()

    @python_app
    def hold():
        release.wait(10)

    @python_app
    def quick():
        return "ok"

    busy = hold()
    fut = quick(walltime=0.2)
    threading.Timer(0.5, release.set).start()
    busy.result(timeout=10)
    assert fut.result(timeout=10) == "ok"
