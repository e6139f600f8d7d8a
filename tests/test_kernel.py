"""The DataFlowKernel's life: load, clear, context manager, config, events, graph, logs."""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading

import networkx as nx
import pytest

import parsl_nb as parsl
from parsl_nb import python_app
from parsl_nb.config import Config
from parsl_nb.dataflow.events import BlockEvent, TaskEvent
from parsl_nb.errors import ConfigError, NoDataFlowKernelError, UnsupportedFeatureError
from parsl_nb.executors import ThreadPoolExecutor

from .conftest import wait_until

S = parsl.TaskState


@python_app
def inc(x):
    return x + 1


# ----------------------------------------------------------- load and clear
def test_load_twice_names_the_fix(make_config):
    parsl.load(make_config())
    with pytest.raises(ConfigError, match=r"parsl_nb\.clear\(\)"):
        parsl.load(make_config())
    assert inc(1).result(timeout=10) == 2  # the first kernel is still the loaded one


def test_dfk_without_load():
    with pytest.raises(NoDataFlowKernelError, match="load"):
        parsl.dfk()
    with pytest.raises(NoDataFlowKernelError):
        parsl.wait_for_current_tasks()


def test_clear_then_load_again_with_the_same_config(make_config):
    config = make_config()
    first = parsl.load(config)
    assert inc(1).result(timeout=10) == 2
    parsl.clear()
    assert first.cleanup_called
    second = parsl.load(config)  # a notebook re-running its cells
    assert second is not first and parsl.dfk() is second
    assert inc(2).result(timeout=10) == 3


def test_run_dirs_are_numbered(make_config, run_dir):
    first = parsl.load(make_config())
    parsl.clear()
    second = parsl.load(make_config())
    assert os.path.basename(first.run_dir) == "000"
    assert os.path.basename(second.run_dir) == "001"
    assert os.path.dirname(second.run_dir) == os.path.abspath(run_dir)


def test_log_file_in_run_dir(make_config):
    kernel = parsl.load(make_config())

    @python_app
    def fail():
        raise ValueError("logged failure")

    with pytest.raises(ValueError):
        fail().result(timeout=10)
    parsl.clear()
    path = os.path.join(kernel.run_dir, "parsl.log")
    assert os.path.exists(path)
    with open(path) as f:
        text = f.read()
    assert kernel.run_id in text and "logged failure" in text


def test_wait_for_current_tasks(dfk):
    gate = cf.Future()
    futures = [inc(gate) for _ in range(3)]
    threading.Timer(0.1, gate.set_result, [1]).start()
    parsl.wait_for_current_tasks()
    assert all(f.done() for f in futures)


# --------------------------------------------------------- context manager
def test_context_manager_cleans_up(make_config):
    with parsl.load(make_config()) as kernel:
        assert inc(1).result(timeout=10) == 2
    assert kernel.cleanup_called
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()


def test_exit_mode_wait_waits_for_tasks(make_config):
    gate = cf.Future()
    with parsl.load(make_config(exit_mode="wait")):
        fut = inc(gate)
        threading.Timer(0.1, gate.set_result, [1]).start()
    assert fut.result(timeout=0) == 2


def test_exit_mode_cleanup_cancels_tasks_not_started(make_config):
    gate = cf.Future()
    with parsl.load(make_config(exit_mode="cleanup")):
        fut = inc(gate)
    assert fut.cancelled() and fut.task_status() == "cancelled"


def test_exit_mode_wait_with_exception_does_not_wait(make_config):
    gate = cf.Future()
    with pytest.raises(KeyError):
        with parsl.load(make_config(exit_mode="wait")):
            fut = inc(gate)
            raise KeyError("cell failed")
    assert fut.task_status() == "cancelled"


def test_exit_mode_skip_leaves_kernel_loaded(make_config):
    with parsl.load(make_config(exit_mode="skip")) as kernel:
        pass
    assert not kernel.cleanup_called
    assert parsl.dfk() is kernel


@pytest.mark.threads_only
def test_cleanup_cancels_dependants_of_running_tasks(thread_dfk):
    """Thread-only: a task blocks on an Event until cleanup has begun."""
    release = threading.Event()

    @python_app
    def hold():
        release.wait(10)
        return 1

    running = hold()
    waiting = inc(running)
    wait_until(lambda: running.task_status() == "running")
    cleaner = threading.Thread(target=parsl.clear)
    cleaner.start()
    wait_until(lambda: thread_dfk.cleanup_called)
    release.set()
    cleaner.join(10)
    assert running.result(timeout=0) == 1
    assert waiting.task_status() == "cancelled"


def test_no_tasks_after_cleanup(make_config):
    kernel = parsl.load(make_config())
    parsl.clear()
    with pytest.raises(RuntimeError, match="load"):
        inc.__class__(inc.func, data_flow_kernel=kernel)(1)


# ------------------------------------------------------------------ config
@pytest.mark.parametrize(
    "options, match",
    [
        ({"retries": -1}, "retries"),
        ({"retries": 1.5}, "retries"),
        ({"strategy": "fastest"}, "strategy"),
        ({"exit_mode": "explode"}, "exit_mode"),
        ({"retry_handler": 3}, "retry_handler"),
        ({"checkpoint_mode": "periodic"}, "checkpoint_period"),
        ({"executors": []}, "at least one executor"),
        ({"executors": ["threads"]}, "executor objects"),
        ({"executors": [ThreadPoolExecutor(label="a"), ThreadPoolExecutor(label="a")]}, "label 'a'"),
        ({"executors": [ThreadPoolExecutor(label="_parsl_x")]}, "reserved"),
    ],
)
def test_config_validation(options, match):
    with pytest.raises(ConfigError, match=match):
        Config(**options)


@pytest.mark.threads_only
def test_thread_executor_validation():
    with pytest.raises(ConfigError, match="max_threads"):
        ThreadPoolExecutor(max_threads=0)
    with pytest.raises(ConfigError, match="label"):
        ThreadPoolExecutor(label="")


def test_unknown_executor_label(dfk):
    @python_app(executors=["nowhere"])
    def lost():
        return 1

    with pytest.raises(ConfigError, match="nowhere"):
        lost()


@pytest.mark.threads_only
def test_executor_labels_route_tasks(run_dir):
    config = Config(executors=[ThreadPoolExecutor(label="a"), ThreadPoolExecutor(label="b")], run_dir=run_dir)
    parsl.load(config)

    @python_app(executors=["b"])
    def where():
        return threading.current_thread().name

    fut = where()
    assert fut.result(timeout=10).startswith("parsl_nb-b")
    assert fut.task_record.executor == "b"


def test_executor_rejects_resource_specification(dfk):
    # neither threads nor engines reserve cores, memory or GPUs per task: they say so
    @python_app
    def heavy(parsl_resource_specification=None):
        return 1

    fut = heavy(parsl_resource_specification={"cores": 2})
    with pytest.raises(UnsupportedFeatureError, match="parsl_resource_specification") as info:
        fut.result(timeout=10)
    assert info.value.executor == dfk.config.executors[0].label
    assert heavy(parsl_resource_specification={}).result(timeout=10) == 1


# ------------------------------------------------------------------ events
def test_subscribe_delivers_typed_batches_off_the_task_thread(dfk):
    batches = []
    threads = set()

    def collect(events):
        batches.append(list(events))
        threads.add(threading.current_thread().name)

    sub = dfk.subscribe(collect)
    a = inc(1)
    b = inc(a)
    assert b.result(timeout=10) == 3
    dfk.events.flush()
    events = [e for batch in batches for e in batch]
    # executors with blocks (engines) also publish a BlockEvent per block state change
    assert events and all(isinstance(e, (TaskEvent, BlockEvent)) for e in events)
    events = [e for e in events if isinstance(e, TaskEvent)]
    assert all(isinstance(batch, list) for batch in batches)
    assert threads == {"parsl_nb-events"}
    for fut in (a, b):
        states = [e.new for e in events if e.tid == fut.tid]
        assert states[0] is S.UNSCHED and states[-1] is S.EXEC_DONE
        assert S.LAUNCHED in states
    first_b = next(e for e in events if e.tid == b.tid)
    assert first_b.old is None and first_b.depends == (a.tid,)
    sub.close()
    count = sum(len(batch) for batch in batches)
    inc(5).result(timeout=10)
    dfk.events.flush()
    assert sum(len(batch) for batch in batches) == count


def test_broken_subscriber_does_not_stop_others(dfk):
    got = []
    dfk.subscribe(lambda events: 1 / 0)
    dfk.subscribe(got.extend)
    inc(1).result(timeout=10)
    dfk.events.flush()
    assert got


# ------------------------------------------------------------------- graph
def test_graph_is_a_networkx_digraph(dfk):
    @python_app
    def boom(x):
        raise ValueError(x)

    a = inc(1)
    b = inc(a)
    c = boom(b)
    cf.wait([c], timeout=10)
    g = dfk.graph
    assert isinstance(g, nx.DiGraph)
    assert set(g.edges) == {(a.tid, b.tid), (b.tid, c.tid)}
    assert g.nodes[a.tid]["app"] == "inc"
    assert g.nodes[b.tid]["state"] == "exec_done"
    assert g.nodes[c.tid]["state"] == "failed"
    assert g.nodes[c.tid]["tries"] == 1
    assert g.nodes[a.tid]["time_returned"] >= g.nodes[a.tid]["time_invoked"]
    assert list(nx.topological_sort(g)) == [a.tid, b.tid, c.tid]


def test_task_counts_and_repr(dfk):
    inc(1).result(timeout=10)
    assert dfk.task_counts() == {"exec_done": 1}
    assert "exec_done=1" in repr(dfk)


def test_tasks_run_where_the_executor_says(dfk, executor_kind):
    @python_app
    def pid():
        return os.getpid()

    # threads share the notebook's process; engines are processes of their own
    assert (pid().result(timeout=10) == os.getpid()) is (executor_kind == "threads")


def test_load_without_config_uses_threads_under_cwd_runinfo(run_dir):
    kernel = parsl.load()
    assert inc(1).result(timeout=10) == 2
    assert kernel.run_dir == os.path.join(os.path.abspath("runinfo"), "000")
    assert [type(e).__name__ for e in kernel.config.executors] == ["ThreadPoolExecutor"]
