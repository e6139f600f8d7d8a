"""AppFuture and DataFuture with the standard library's future tools, and cancel()."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf

import pytest

from parsl_nb import AppFuture, DataFuture, File, python_app
from parsl_nb.errors import DependencyError


@python_app
def square(x):
    return x * x


@python_app
def record(**kwargs):
    return dict(kwargs)


def test_futures_are_concurrent_futures(dfk):
    futures = [square(i) for i in range(5)]
    assert all(isinstance(f, cf.Future) and isinstance(f, AppFuture) for f in futures)
    done, not_done = cf.wait(futures, timeout=10)
    assert len(done) == 5 and not not_done
    assert sorted(f.result() for f in cf.as_completed(futures, timeout=10)) == [0, 1, 4, 9, 16]


def test_futures_in_asyncio(dfk):
    async def main():
        direct = await square(3)
        wrapped = await asyncio.wrap_future(square(4))
        gathered = await asyncio.gather(square(5), square(6))
        return direct, wrapped, gathered

    assert asyncio.run(main()) == (9, 16, [25, 36])


def test_getitem_and_getattr_are_futures(dfk):
    @python_app
    def make():
        class Box:
            size = 7

        return {"a": [10, 20], "box": Box()}

    fut = make()
    item = fut["a"]
    assert isinstance(item, AppFuture)
    assert item[1].result(timeout=10) == 20
    assert fut["box"].size.result(timeout=10) == 7
    with pytest.raises(KeyError):
        fut["missing"].result(timeout=10)
    with pytest.raises(AttributeError):
        fut._private  # private names are not lifted onto the result


def test_cancel_before_start(dfk):
    gate = cf.Future()
    waiting = square(gate)
    dependant = square(waiting)
    assert waiting.task_status() == "pending"
    assert waiting.cancel() is True
    assert waiting.cancelled() and waiting.done()
    assert waiting.task_status() == "cancelled"
    with pytest.raises(cf.CancelledError):
        waiting.result(timeout=1)
    with pytest.raises(DependencyError, match=f"task {dependant.tid} <- task {waiting.tid}"):
        dependant.result(timeout=10)
    assert dependant.task_status() == "dep_fail"
    assert waiting.cancel() is True  # cancelling twice is fine
    gate.set_result(2)  # the late dependency must not revive the task
    assert waiting.task_status() == "cancelled"


def test_cancelled_future_works_with_wait_and_as_completed(dfk):
    gate = cf.Future()
    waiting = square(gate)
    assert waiting.cancel()
    done, not_done = cf.wait([waiting], timeout=5)
    assert done == {waiting} and not not_done
    assert list(cf.as_completed([waiting], timeout=5)) == [waiting]


def test_cancel_a_finished_task_returns_false(dfk):
    fut = square(2)
    assert fut.result(timeout=10) == 4
    assert fut.cancel() is False
    assert fut.task_status() == "exec_done"


def test_cancel_cancels_data_futures(dfk, tmp_path):
    @python_app
    def produce(gate, outputs=()):
        return gate

    gate = cf.Future()
    fut = produce(gate, outputs=[File(str(tmp_path / "x"))])
    out = fut.outputs[0]
    assert isinstance(out, DataFuture)
    assert out.cancel() is True
    assert fut.cancelled() and out.cancelled()
    assert cf.wait([out], timeout=5).done == {out}


def test_repr_says_state(dfk):
    fut = square(3)
    fut.result(timeout=10)
    text = repr(fut)
    assert f"task {fut.tid}" in text and "square" in text and "exec_done" in text


@pytest.mark.threads_only
@pytest.mark.parametrize("walltime", [None, 30])
def test_cancel_task_queued_behind_a_busy_thread(run_dir, walltime):
    """Thread-only: one worker thread is held busy, so the second task is launched but not started."""
    import threading

    import parsl_nb as parsl
    from parsl_nb.config import Config
    from parsl_nb.executors import ThreadPoolExecutor

    parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=1)], run_dir=run_dir))
    release = threading.Event()
    ran = []

    @python_app
    def hold():
        release.wait(10)

    @python_app
    def queued(walltime=None):
        ran.append(1)

    busy = hold()
    extra = {"walltime": walltime} if walltime else {}
    fut = queued(**extra)
    assert fut.task_status() == "launched"
    assert fut.cancel() is True
    assert fut.task_status() == "cancelled"
    release.set()
    busy.result(timeout=10)
    parsl.clear()  # waits for the pool: a task that was wrongly left queued would run now
    assert ran == []


@pytest.mark.threads_only
def test_cancel_running_thread_task_is_refused(thread_dfk):
    """Thread-only: a running thread cannot be stopped, so cancel() says so."""
    import threading

    release = threading.Event()

    @python_app
    def hold(walltime=None):
        release.wait(10)
        return "finished"

    from .conftest import wait_until

    for fut in (hold(), hold(walltime=30)):
        wait_until(lambda fut=fut: fut.task_status() == "running")
        assert fut.cancel() is False
        assert fut.task_status() == "running"
    release.set()
    assert hold().result(timeout=10) == "finished"


# ---------------------------------------------------------------- LeanFuture
def test_lean_future_behaves_as_a_standard_future_across_threads():
    import concurrent.futures as cf
    import threading

    from parsl_nb.futures import LeanFuture

    futs = [LeanFuture() for _ in range(50)]
    seen: list[int] = []
    futs[0].add_done_callback(lambda f: seen.append(f.result()))
    waiter = cf.ThreadPoolExecutor(1).submit(futs[1].result, 10)  # a thread blocked in result()

    def finish():
        for i, f in enumerate(futs):
            if i == 7:
                f.set_exception(ValueError("seven"))
            else:
                f.set_result(i)

    threading.Timer(0.05, finish).start()
    done, not_done = cf.wait(futs, timeout=10)
    assert not not_done and waiter.result(timeout=10) == 1
    assert sorted(f.result() for f in cf.as_completed(futs[:5])) == [0, 1, 2, 3, 4]
    assert isinstance(futs[7].exception(), ValueError) and seen == [0]
    late: list[int] = []
    futs[2].add_done_callback(lambda f: late.append(f.result()))  # already done: called at once
    assert late == [2]
    with pytest.raises(cf.InvalidStateError):
        futs[3].set_result(99)
    assert futs[3].result() == 3


def test_a_lean_future_in_flight_holds_no_condition_until_someone_waits():
    from parsl_nb.futures import LeanFuture

    fut = LeanFuture()
    fut.add_done_callback(lambda f: None)
    assert not fut.done() and not fut.running() and not fut.cancelled()
    assert "_cond" not in fut.__dict__  # nobody waited: no Condition made
    assert fut.cancel() and fut.cancelled()  # cancel works (and makes one)
    other = LeanFuture()
    other.set_result(5)
    assert other.result() == 5 and other.done()
