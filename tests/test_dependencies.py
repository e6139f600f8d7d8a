"""Dependencies: futures passed directly, in inputs=, and nested in containers."""

from __future__ import annotations

import collections
import concurrent.futures as cf

import pytest

import parsl_nb as parsl
from parsl_nb import python_app
from parsl_nb.config import Config
from parsl_nb.dataflow.dependency_resolvers import SHALLOW_DEPENDENCY_RESOLVER
from parsl_nb.errors import DependencyError


@python_app
def inc(x):
    return x + 1


@python_app
def show(*args, **kwargs):
    return args, kwargs


@python_app
def total(inputs=()):
    return sum(inputs)


def test_chain_and_fan_in(dfk):
    a = inc(0)
    b = inc(a)
    c = inc(b)
    assert total(inputs=[a, b, c]).result() == 1 + 2 + 3
    assert c.task_record.depends == [b.tid]


def test_futures_nested_in_containers_are_resolved(dfk):
    a, b = inc(0), inc(10)
    Pair = collections.namedtuple("Pair", "left right")
    fut = show([a, (b, [a])], {a, 5}, frozenset([b]), Pair(a, b), mapping={"k": a, b: "v", "deep": [{"x": b}]})
    args, kwargs = fut.result()
    assert args[0] == [1, (11, [1])]
    assert args[1] == {1, 5}
    assert args[2] == frozenset([11])
    assert args[3] == Pair(1, 11) and type(args[3]) is Pair
    assert kwargs["mapping"] == {"k": 1, 11: "v", "deep": [{"x": 11}]}
    assert sorted(set(fut.task_record.depends)) == sorted([a.tid, b.tid])


def test_nested_dependency_waits(dfk):
    gate = cf.Future()
    fut = show([gate])
    assert fut.task_status() == "pending"
    assert not fut.done()
    gate.set_result("open")
    assert fut.result(timeout=10) == ((["open"],), {})


def test_any_concurrent_future_is_a_dependency(dfk):
    with cf.ThreadPoolExecutor(1) as pool:
        plain = pool.submit(lambda: 41)
        assert inc(plain).result(timeout=10) == 42


# A future passed through unresolved is shared memory: it cannot travel to an engine
# (there the call fails with a SerializationError naming the argument, as tests/engines shows).
@pytest.mark.threads_only
def test_shallow_resolver_passes_nested_futures_through(make_config):
    parsl.load(make_config(dependency_resolver=SHALLOW_DEPENDENCY_RESOLVER))
    gate = cf.Future()

    @python_app
    def kinds(direct, nested, inputs=()):
        return direct, type(nested[0]).__name__, list(inputs)

    a = inc(1)
    fut = kinds(a, [gate], inputs=[inc(a)])
    assert fut.result(timeout=10) == (2, "Future", [3])
    assert not gate.done()


def test_dependency_error_names_the_chain(dfk):
    @python_app
    def boom():
        return 1 / 0

    root = boom()
    middle = inc(root)
    leaf = inc(middle)
    with pytest.raises(DependencyError) as info:
        leaf.result(timeout=10)
    err = info.value
    expected = f"task {leaf.tid} <- task {middle.tid} <- task {root.tid} failed: ZeroDivisionError"
    assert str(err).startswith(f"Dependency failure for task {leaf.tid}: {expected}")
    assert isinstance(err.__cause__, ZeroDivisionError)
    assert err.__cause__ is root.exception()
    assert err.chain() == [leaf.tid, middle.tid, root.tid]
    assert (root.task_status(), middle.task_status(), leaf.task_status()) == ("failed", "dep_fail", "dep_fail")


def test_dependency_error_from_plain_future(dfk):
    plain = cf.Future()
    plain.set_exception(KeyError("gone"))
    fut = inc(plain)
    with pytest.raises(DependencyError, match=r"failed: KeyError") as info:
        fut.result(timeout=10)
    assert isinstance(info.value.__cause__, KeyError)


def test_long_failed_chain_ends_every_task(dfk):
    gate = cf.Future()
    futures = [inc(gate)]
    for _ in range(1500):
        futures.append(inc(futures[-1]))
    gate.set_exception(ValueError("root"))
    done, not_done = cf.wait(futures, timeout=20)
    assert not not_done
    assert {f.task_status() for f in futures} == {"dep_fail"}


def test_long_chain_runs(dfk):
    futures = [inc(0)]
    for _ in range(300):
        futures.append(inc(futures[-1]))
    assert futures[-1].result(timeout=30) == 301


def test_default_config_is_deep(run_dir):
    assert Config(run_dir=run_dir).dependency_resolver is None  # None selects the deep resolver
    with parsl.load(Config(run_dir=run_dir)):
        assert show([inc(1)]).result(timeout=10) == (([2],), {})


def test_dependency_error_counts_every_failed_dependency(dfk):
    bad = [cf.Future() for _ in range(3)]
    for i, f in enumerate(bad):
        f.set_exception(ValueError(i))
    fut = show(*bad)
    with pytest.raises(DependencyError, match=r"\(and 2 more failed dependencies\)") as info:
        fut.result(timeout=10)
    assert len(info.value.dependent_exceptions_tids) == 3
