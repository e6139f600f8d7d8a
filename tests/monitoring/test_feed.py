"""The monitoring feed gives the writer every transition the kernel published, however batched."""

from __future__ import annotations

import io
import marshal
import random

import pytest

import parsl_nb as parsl
from parsl_nb import Config, ThreadPoolExecutor, python_app
from parsl_nb.dataflow.events import TaskEvent
from parsl_nb.monitoring.feed import decode, encode


@python_app
def inc(x):
    return x + 1


@python_app
def fails_once(path):
    import os

    if not os.path.exists(path):
        open(path, "w").close()
        raise RuntimeError("first try fails")
    return 1


def _transitions(events):
    per_task: dict[int, list[tuple]] = {}
    for ev in events:
        if type(ev) is TaskEvent:
            per_task.setdefault(ev.tid, []).append((ev.old, ev.new, ev.time, ev.try_id, ev.executor, ev.detail))
    return per_task


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_transition_comes_back_in_each_tasks_order_however_the_events_are_batched(tmp_path, seed):
    events: list = []
    with parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=3)], run_dir=str(tmp_path / "runs"),
                           monitoring=False, retries=1)) as dfk:
        dfk.subscribe(events.extend)
        futs = [inc(inc(i)) for i in range(40)] + [fails_once(str(tmp_path / "flag"))]
        assert [f.result() for f in futs] == [i + 2 for i in range(40)] + [1]
        dfk.events.flush()
        records = dict(dfk.tasks)
    assert any(ev.new.name == "FAIL_RETRYABLE" for ev in events if type(ev) is TaskEvent)
    rng = random.Random(seed)
    decoded, i = [], 0
    while i < len(events):  # batches of random sizes, so tasks start in one and end in another
        n = rng.randint(1, 60)
        decoded.extend(ev for ev, _ in decode(encode(events[i:i + n], records.get, lambda label: None)))
        i += n
    assert _transitions(decoded) == _transitions(events)
    # a task that lived in one batch was folded: the feed is smaller than one item per event
    whole = encode(events, records.get, lambda label: None)
    stream, items = io.BytesIO(whole), 0
    while stream.tell() < len(whole):
        marshal.load(stream)
        items += 1
    assert items < len(events) and len(list(decode(whole))) == len(events)


@python_app
def gather(inputs=()):
    return sum(inputs)


def test_recording_futures_given_in_inputs_starts_no_tasks(tmp_path):
    # An AppFuture lifts attribute access onto its result (Parsl's fut.attr): the
    # recorder must never probe one with hasattr, or each probe submits a task.
    with parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir=str(tmp_path / "runs"))) as dfk:
        parts = [inc(i) for i in range(20)]
        total = gather(inputs=parts)
        assert total.result() == sum(range(1, 21))
        dfk.events.flush()
        assert len(dfk.tasks) == 21
    (task,) = [t for t in parsl.runs(str(tmp_path / "runs"))[-1].tasks() if t.app == "gather"]
    assert task.inputs[:2] == (f"<task {parts[0].tid}>", f"<task {parts[1].tid}>")
