"""The monitoring feed gives the writer every transition the kernel made, whenever the records are read."""

from __future__ import annotations

import random
import threading
import time

import pytest

import parsl_nb as parsl
from parsl_nb import Config, ThreadPoolExecutor, python_app
from parsl_nb.dataflow.events import TaskEvent
from parsl_nb.monitoring.feed import FeedReader, TaskScanner


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


@pytest.mark.parametrize(("seed", "full"), [(0, True), (1, True), (2, False), (3, False)])
def test_every_transition_comes_back_in_each_tasks_order_whenever_the_records_are_scanned(tmp_path, seed, full):
    # the kernel's own events are the truth; a scanner reads the records at random
    # moments while tasks run, so tasks are seen new, half-way, and finished
    events: list = []
    feeds: list[bytes] = []
    rng = random.Random(seed)
    with parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=3)], run_dir=str(tmp_path / "runs"),
                           monitoring=False, retries=1)) as dfk:
        dfk.subscribe(events.extend)
        scanner = TaskScanner(dfk.tasks, live_after=0.003)
        dfk.final_hooks.append(scanner.task_finished)
        stop = threading.Event()

        def scan_now_and_then() -> None:
            while not stop.is_set():
                feeds.append(scanner.scan(full))
                time.sleep(rng.random() * 0.004)

        t = threading.Thread(target=scan_now_and_then)
        t.start()
        futs = []
        for i in range(40):
            futs.append(inc(inc(i)))
            time.sleep(rng.random() * 0.002)
        futs.append(fails_once(str(tmp_path / "flag")))
        assert [f.result() for f in futs] == [i + 2 for i in range(40)] + [1]
        stop.set()
        t.join()
        feeds.append(scanner.scan())
        dfk.events.flush()
    assert any(ev.new.name == "FAIL_RETRYABLE" for ev in events if type(ev) is TaskEvent)
    assert sum(1 for f in feeds if f) > 2, "the scans should catch the run in several states"
    reader = FeedReader()
    decoded = [ev for feed in feeds for ev, _ in reader.decode(feed)]
    assert _transitions(decoded) == _transitions(events)
    assert scanner.open_tasks == 0


gate = threading.Event()


@python_app
def wait_for_gate():
    return gate.wait(30)


def test_a_periodic_scan_sends_a_task_once_final_or_once_it_has_gone_on_for_a_while(tmp_path):
    with parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir=str(tmp_path / "runs"),
                           monitoring=False)) as dfk:
        scanner, reader = TaskScanner(dfk.tasks, live_after=0.5), FeedReader()
        dfk.final_hooks.append(scanner.task_finished)
        slow, quick = wait_for_gate(), inc(1)
        assert quick.result() == 2

        def scanned(full: bool = False) -> dict[int, list[str]]:
            got: dict[int, list[str]] = {}
            for ev, _ in reader.decode(scanner.scan(full)):
                got.setdefault(ev.tid, []).append(ev.new.name)
            return got

        assert scanned() == {quick.tid: ["UNSCHED", "PENDING", "LAUNCHED", "RUNNING", "EXEC_DONE"]}
        assert scanner.open_tasks == 1
        time.sleep(0.6)  # the slow task has gone on past live_after: it is sent as it is
        assert scanned() == {slow.tid: ["UNSCHED", "PENDING", "LAUNCHED", "RUNNING"]}
        assert scanned() == {}  # nothing changed
        gate.set()
        assert slow.result() is True
        assert scanned() == {slow.tid: ["EXEC_DONE"]}
        assert scanner.open_tasks == 0 and scanned(full=True) == {}


def test_a_retry_keeps_each_tries_exception(tmp_path):
    with parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir=str(tmp_path / "runs"),
                           monitoring=False, retries=1)) as dfk:
        fut = fails_once(str(tmp_path / "flag"))
        assert fut.result() == 1
        decoded = list(FeedReader().decode(TaskScanner(dfk.tasks).scan(full=True)))
    first, _ = decoded[0]
    assert first.old is None and first.new.name == "UNSCHED" and first.app == "fails_once"
    ends = [(ev.new.name, ev.try_id, extra.exception) for ev, extra in decoded if extra is not None]
    assert ends == [("FAIL_RETRYABLE", 0, "RuntimeError: first try fails"), ("EXEC_DONE", 1, None)]
    retry = next(ev for ev, _ in decoded if ev.new.name == "FAIL_RETRYABLE")
    assert retry.detail == "RuntimeError: first try fails"  # as a final failure's note reads


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


def _record(tid: int, final: bool):
    from parsl_nb.dataflow.states import TaskState as S
    from parsl_nb.dataflow.taskrecord import TaskRecord

    record = TaskRecord(tid, "app", len, (), {}, "all")
    record.executor = "threads"
    for state in (S.PENDING, S.LAUNCHED, S.RUNNING) + ((S.EXEC_DONE,) if final else ()):
        record.transition(state)
    return record


def test_a_task_submitted_on_another_thread_during_a_scan_does_not_hide_a_finished_one():
    # tids 0 and 2 are in, 2 has ended; tid 1's submit (another thread) lands while the
    # scan walks the ids: counting records alone would stop at 1 and miss 2 at the close
    class LandsDuringTheWalk(dict):
        def __contains__(self, tid):
            if tid == 0 and not super().__contains__(1):
                self[1] = _record(1, final=False)
            return super().__contains__(tid)

    tasks = LandsDuringTheWalk({0: _record(0, final=False), 2: _record(2, final=True)})
    scanner = TaskScanner(tasks)
    scanner.task_finished(2)
    sent = {ev.tid: ev.new.name for ev, _ in FeedReader().decode(scanner.scan(full=True))}
    assert sent == {0: "RUNNING", 1: "RUNNING", 2: "EXEC_DONE"}


def test_a_note_written_with_its_transition_reaches_the_feed_even_if_read_in_between():
    from parsl_nb.dataflow.states import TaskState as S

    record = _record(0, final=False)
    scanner, reader = TaskScanner({0: record}), FeedReader()
    feeds = [scanner.scan(full=True)]

    class ScanWhileWritten(dict):  # the scanner's thread reads the record in the middle of transition()
        def __setitem__(self, key, value):
            feeds.append(scanner.scan(full=True))
            super().__setitem__(key, value)

    record.notes = ScanWhileWritten()
    record.transition(S.FAILED, detail="ValueError: boom")
    feeds.append(scanner.scan(full=True))
    events = [ev for feed in feeds for ev, _ in reader.decode(feed)]
    assert [(ev.new.name, ev.detail) for ev in events][-1] == ("FAILED", "ValueError: boom")
