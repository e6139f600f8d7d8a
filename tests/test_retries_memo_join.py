"""Retries, the retry handler, memoization and join apps."""

from __future__ import annotations

import concurrent.futures as cf

import pytest

import parsl_nb as parsl
from parsl_nb import join_app, python_app
from parsl_nb.errors import DependencyError, JoinError


def bump(path):
    """Count a call in a file (works from any worker on this machine); return calls before it."""
    with open(path, "a+") as f:
        f.seek(0)
        n = len(f.read())
        f.write("x")
    return n


def flaky_app(failures, path):
    """An app that fails ``failures`` times, then returns the try number."""

    @python_app
    def flaky():
        n = bump(path)
        if n < failures:
            raise RuntimeError(f"try {n} failed")
        return n

    return flaky


@pytest.fixture
def counter_file(tmp_path):
    return str(tmp_path / "calls.count")


# -------------------------------------------------------------------- retries
def test_retries_until_success(make_config, counter_file):
    parsl.load(make_config(retries=2))
    fut = flaky_app(2, counter_file)()
    assert fut.result(timeout=10) == 2
    record = fut.task_record
    assert record.try_id == 2 and record.fail_count == 2
    assert [h.split(":")[0] for h in record.fail_history] == ["RuntimeError", "RuntimeError"]
    assert fut.task_status() == "exec_done"
    states = [state for state, _ in record.history]
    assert states.count(parsl.TaskState.FAIL_RETRYABLE) == 2
    assert states.count(parsl.TaskState.LAUNCHED) == 3
    assert parsl.dfk().graph.nodes[fut.tid]["tries"] == 3


def test_retries_exhausted_raises_last_error(make_config, counter_file):
    parsl.load(make_config(retries=1))
    fut = flaky_app(5, counter_file)()
    with pytest.raises(RuntimeError, match="try 1 failed"):
        fut.result(timeout=10)
    assert fut.task_record.fail_count == 2
    assert fut.task_status() == "failed"


def test_retry_handler_sets_the_cost(make_config, counter_file):
    seen = []

    def handler(exc, record):
        seen.append((type(exc).__name__, record["id"], record["fail_count"]))
        return 0.5 if isinstance(exc, RuntimeError) else 100

    parsl.load(make_config(retries=1, retry_handler=handler))
    fut = flaky_app(2, counter_file)()  # two failures cost 1.0 <= retries: a third try runs
    assert fut.result(timeout=10) == 2
    assert seen == [("RuntimeError", fut.tid, 1), ("RuntimeError", fut.tid, 2)]

    @python_app
    def fatal():
        raise KeyError("no")

    with pytest.raises(KeyError):
        fatal().result(timeout=10)
    assert seen[-1][0] == "KeyError"


def test_failing_retry_handler_fails_the_task(make_config, counter_file):
    def handler(exc, record):
        raise ValueError("handler broke")

    parsl.load(make_config(retries=3, retry_handler=handler))
    fut = flaky_app(1, counter_file)()
    with pytest.raises(ValueError, match="handler broke") as info:
        fut.result(timeout=10)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert fut.task_record.try_id == 0


def test_dependency_failure_is_never_retried(make_config, counter_file):
    parsl.load(make_config(retries=3))
    root = flaky_app(100, counter_file)()
    calls = []

    @python_app
    def child(x):
        calls.append(x)
        return x

    fut = child(root)
    with pytest.raises(DependencyError):
        fut.result(timeout=10)
    assert root.task_record.fail_count == 4
    assert fut.task_record.try_id == 0 and fut.task_record.fail_count == 0
    assert fut.task_status() == "dep_fail" and calls == []


# ---------------------------------------------------------------------- memo
def test_memo_serves_same_call(dfk, counter_file):
    @python_app(cache=True)
    def compute(x, y=1):
        return x * y, bump(counter_file)

    first = compute(2, y=3)
    assert first.result(timeout=10) == (6, 0)
    again = compute(2, y=3)
    assert again.result(timeout=10) == (6, 0)
    assert again.task_status() == "memo_done"
    other = compute(2, y=4)
    assert other.result(timeout=10) == (8, 1)


def test_memo_key_covers_function_source(dfk):
    def make_v1():
        @python_app(cache=True)
        def step(x):
            return x + 1

        return step

    def make_v2():
        @python_app(cache=True)
        def step(x):
            return x + 100

        return step

    assert make_v1()(1).result(timeout=10) == 2
    same = make_v1()(1)
    assert same.result(timeout=10) == 2 and same.task_status() == "memo_done"
    edited = make_v2()(1)
    assert edited.result(timeout=10) == 101
    assert edited.task_status() == "exec_done"


def test_memo_ignore_for_cache(dfk, counter_file):
    @python_app(cache=True, ignore_for_cache=["note"])
    def compute(x, note=""):
        return bump(counter_file)

    assert compute(1, note="a").result(timeout=10) == 0
    hit = compute(1, note="b")
    assert hit.result(timeout=10) == 0 and hit.task_status() == "memo_done"


def test_memo_does_not_keep_failures(dfk, counter_file):
    app = flaky_app(1, counter_file)
    cached = python_app(app.func, cache=True)
    with pytest.raises(RuntimeError):
        cached().result(timeout=10)
    assert cached().result(timeout=10) == 1


def test_memo_off_without_cache_flag_or_app_cache(make_config, counter_file):
    parsl.load(make_config(app_cache=False))
    @python_app(cache=True)
    def compute():
        return bump(counter_file)

    assert [compute().result(timeout=10) for _ in range(2)] == [0, 1]


def test_memo_waits_for_dependencies(dfk, counter_file):
    @python_app(cache=True)
    def compute(x):
        return x, bump(counter_file)

    gate = cf.Future()
    first = compute(5)
    first.result(timeout=10)
    later = compute(gate)
    gate.set_result(5)
    assert later.result(timeout=10) == (5, 0)
    assert later.task_status() == "memo_done"


# ---------------------------------------------------------------------- join
@python_app
def add(a, b):
    return a + b


def test_join_app_returns_inner_results(dfk):
    @join_app
    def fan(n):
        return [add(i, i) for i in range(n)]

    @join_app
    def single(x):
        return add(x, 1)

    assert fan(4).result(timeout=10) == [0, 2, 4, 6]
    assert single(single(1)).result(timeout=10) == 3


def test_join_app_inner_failure_raises_join_error(dfk):
    @python_app
    def boom():
        raise OSError("disk")

    @join_app
    def outer():
        return [add(1, 2), boom()]

    fut = outer()
    with pytest.raises(JoinError) as info:
        fut.result(timeout=10)
    assert isinstance(info.value.__cause__, OSError)
    assert str(info.value).startswith(f"Join failure for task {fut.tid}: task {fut.tid} <- task")
    assert fut.task_status() == "failed"


def test_join_app_must_return_futures(dfk):
    @join_app
    def wrong():
        return 42

    with pytest.raises(TypeError, match="must return a Future"):
        wrong().result(timeout=10)
