"""A TaskWatch polled at any moment reports each task once, then only real, forward moves of its state."""

from __future__ import annotations

import random
import sys
import threading
import time
from collections import Counter
from types import SimpleNamespace

import pytest

import parsl_nb as parsl
from parsl_nb import Config, ThreadPoolExecutor, join_app, python_app
from parsl_nb.dataflow.states import FINAL_STATES
from parsl_nb.dataflow.states import TaskState as S
from parsl_nb.dataflow.watch import Hooks, NewTasks, TaskWatch


def _load(tmp_path, **kw):
    return parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=3)], run_dir=str(tmp_path / "runs"),
                             monitoring=False, **kw))


@python_app
def inc(x):
    return x + 1


@python_app
def add(a, b):
    return a + b


@python_app
def nap(x, secs):
    time.sleep(secs)
    return x


@join_app
def fan(n):
    return [inc(j) for j in range(n)]


def _poll_at_random_moments(watch, seed, polls):
    """Poll on a thread every 0-4 ms; the returned function stops it and polls once more."""
    rng, stop = random.Random(seed), threading.Event()

    def run():
        while not stop.is_set():
            polls.append(watch.poll())
            time.sleep(rng.random() * 0.004)

    thread = threading.Thread(target=run)
    thread.start()

    def stop_polling():
        stop.set()
        thread.join()
        polls.append(watch.poll())

    return stop_polling


def _check(polls, tasks, only=None):
    """Each task once in the rows, then a chain of changes that follows its history; returns states seen."""
    seen: dict[int, list[int]] = {}
    for rows, changes in polls:
        assert [r[0] for r in rows] == sorted(r[0] for r in rows)
        for tid, app, depends, state in rows:
            assert tid not in seen, f"task {tid} reported new twice"
            assert app == (record := tasks[tid]).app_name
            if record.join:  # a join app's depends grow by its inner tasks once its body returns
                assert tuple(record.depends[:len(depends)]) == depends
            else:
                assert depends == tuple(record.depends)
            seen[tid] = [state]
        for tid, old, new in changes:
            assert tid in seen, f"change of task {tid} before its row"
            assert old == seen[tid][-1] and old != new and S(old) not in FINAL_STATES, (tid, seen[tid], old, new)
            seen[tid].append(new)
    assert set(seen) == (set(tasks) if only is None else set(only) & set(tasks))
    for tid, states in seen.items():
        assert states[-1] == int((record := tasks[tid]).status), (tid, states, record.history)
        history = iter(int(s) for s, _ in record.history)
        assert all(s in history for s in states), f"task {tid}: {states} not a subsequence of {record.history}"
    return seen


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_polls_at_random_moments_report_each_task_once_and_only_real_moves(tmp_path, seed):
    rng = random.Random(seed)
    polls: list = []
    with _load(tmp_path, retries=1) as dfk:
        watch = TaskWatch(dfk)
        stop_polling = _poll_at_random_moments(watch, seed + 100, polls)
        futs = []
        for i in range(30):
            a = inc(i)
            b = nap(a, rng.random() * 0.003)
            futs += [a, b, add(a, b), add(b, inc(a)), inc(i + 1), fan(2)]
            bad = inc("x")  # TypeError, also on its retry
            futs += [bad, add(bad, 1)]
            time.sleep(rng.random() * 0.001)
        for f in futs:
            f.exception()
        stop_polling()
        seen = _check(polls, dfk.tasks)
        assert watch.open_tasks == 0 and watch.poll() == ([], [])
        watch.close()
    ends = Counter(S(states[-1]).name for states in seen.values())
    assert ends == {"EXEC_DONE": 30 * 9, "FAILED": 30, "DEP_FAIL": 30}
    assert sum(1 for rows, changes in polls if rows or changes) > 2, "the polls should catch the run in several states"


def test_include_restricts_rows_and_changes_to_those_tasks(tmp_path):
    with _load(tmp_path) as dfk:
        include = set(range(0, 60, 3))
        watch = TaskWatch(dfk, include=include)
        polls, futs = [], []
        for i in range(60):
            futs.append(nap(i, 0.001) if i % 2 else inc(futs[-1] if futs else 0))
            if i % 10 == 0:
                polls.append(watch.poll())
        for f in futs:
            f.result()
        polls.append(watch.poll())
        assert {r[0] for rows, _ in polls for r in rows} | {c.tid for _, cs in polls for c in cs} <= include
        assert set(_check(polls, dfk.tasks, only=include)) == include


class _CountedRecord:
    def __init__(self, tid):
        self.tid, self.app_name, self.depends, self._status, self.reads = tid, "app", [], int(S.PENDING), 0

    @property
    def status(self):
        self.reads += 1
        return self._status


def test_poll_limit_bounds_the_reads_of_open_tasks_and_takes_them_in_turn():
    # a fake kernel, so each read of a task's state can be counted
    records = {tid: _CountedRecord(tid) for tid in range(50)}
    kernel = SimpleNamespace(tasks=records, final_hooks=Hooks())
    watch = TaskWatch(kernel, poll_limit=8)
    rows, changes = watch.poll()
    assert [r[0] for r in rows] == list(range(50)) and changes == [] and watch.open_tasks == 50
    last_read = dict.fromkeys(records, 0)
    for n, state in enumerate([S.LAUNCHED] * 7 + [S.RUNNING] * 7, start=1):
        if n in (1, 8):
            for rec in records.values():
                rec._status = int(state)
            reported: list[int] = []
        before = {tid: rec.reads for tid, rec in records.items()}
        rows, changes = watch.poll()
        read = {tid for tid, rec in records.items() if rec.reads > before[tid]}
        assert rows == [] and 0 < sum(rec.reads - before[tid] for tid, rec in records.items()) <= 8
        # in turn: none read in this poll was read more recently than one left for later
        assert max(last_read[t] for t in read) <= min(last_read[t] for t in records if t not in read)
        last_read.update(dict.fromkeys(read, n))
        assert all(c.new == state and c.old == state - 1 for c in changes)
        reported += [c.tid for c in changes]
        if n in (7, 14):  # 50 tasks, 8 a poll: each one's move reported within 7 polls
            assert sorted(reported) == list(range(50))


gate = threading.Event()


@python_app
def wait_for_gate():
    return gate.wait(30)


def test_with_a_low_poll_limit_the_tasks_that_end_are_all_reported_at_once(tmp_path):
    gate.clear()
    with _load(tmp_path) as dfk:
        watch = TaskWatch(dfk, poll_limit=8)
        futs = [wait_for_gate() for _ in range(50)]
        try:
            assert len(watch.poll()[0]) == 50 and watch.open_tasks == 50
        finally:
            gate.set()  # else cleanup waits for 50 blocked tasks
        assert all(f.result() for f in futs)
        assert sorted(c.tid for c in watch.poll()[1] if c.new == S.EXEC_DONE) == list(range(50))  # final hook
        assert watch.open_tasks == 0


def test_tasks_submitted_on_other_threads_during_polls_are_never_lost_and_close_detaches(tmp_path):
    with _load(tmp_path) as dfk:
        hooks_before = len(dfk.final_hooks)
        watch = TaskWatch(dfk)
        assert len(dfk.final_hooks) == hooks_before + 1
        polls, futs = [], []
        stop_polling = _poll_at_random_moments(watch, 7, polls)
        submitters = [threading.Thread(target=lambda: futs.extend(inc(i) for i in range(100))) for _ in range(4)]
        [t.start() for t in submitters]
        [t.join() for t in submitters]
        for f in futs:
            f.result()
        stop_polling()
        assert len(dfk.tasks) == 400
        seen = _check(polls, dfk.tasks)
        assert all(states[-1] == S.EXEC_DONE for states in seen.values())
        watch.close()
        assert len(dfk.final_hooks) == hooks_before


def test_hooks_added_and_removed_mid_run_never_make_the_kernel_skip_another(tmp_path):
    calls: list[tuple[int, int]] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads trade places often, also in the middle of the kernel's hook loop
    try:
        with _load(tmp_path) as dfk:
            # counters that stay attached throughout, each after one that goes: removing one mid-loop
            # must not shift the counter behind it out of the kernel's way
            going = []
            for k in range(200):
                going.append(lambda tid: None)
                dfk.final_hooks.append(going[-1])
                dfk.final_hooks.append(lambda tid, k=k: calls.append((k, tid)))
            stop = threading.Event()

            def churn():
                rng = random.Random(3)
                while not stop.is_set():
                    if going:
                        dfk.final_hooks.remove(going.pop(rng.randrange(len(going))))
                    extra = [lambda tid: None for _ in range(rng.randrange(1, 4))]
                    [dfk.final_hooks.append(fn) for fn in extra]
                    [dfk.final_hooks.remove(fn) for fn in extra]
                    time.sleep(0.0005)  # spreads the removals over the run

            churner = threading.Thread(target=churn)
            churner.start()
            futs = [inc(i) for i in range(500)]
            for f in futs:
                f.result()
            stop.set()
            churner.join()
    finally:
        sys.setswitchinterval(switch)
    assert Counter(calls) == {(k, tid): 1 for k in range(200) for tid in range(500)}


def test_new_tasks_looks_again_for_an_id_missing_between_others():
    tasks = {0: "a", 1: "b", 2: "c", 4: "e", 5: "f"}  # 3: a submit on another thread has its id, not its record
    new = NewTasks(tasks)
    assert new.take() == [0, 1, 2, 4, 5]
    assert new.unknown(3) and not new.unknown(4) and new.unknown(6)
    assert new.take() == [] and new.unknown(3)
    tasks[3], tasks[6] = "d", "g"
    assert sorted(new.take()) == [3, 6]
    assert not new.unknown(3) and not new.unknown(6) and new.take() == []


def test_new_tasks_finds_an_id_known_to_exist_even_when_a_late_record_makes_up_the_count():
    class LandsAfterCounting(dict):
        land: tuple | None = None  # a record another thread's submit adds just after take() counts

        def __len__(self):
            n = super().__len__()
            if self.land is not None:
                self[self.land[0]], self.land = self.land[1], None
            return n

    tasks = LandsAfterCounting({0: "a", 2: "c"})
    new = NewTasks(tasks)
    assert new.take() == [0, 2] and new.unknown(1)
    tasks[4] = "e"  # 3 still in flight; 4 has ended, so poll() asks for it by id
    tasks.land = (1, "b")  # found among the missing, it fills the count before the walk reaches 4
    assert sorted(new.take(upto=4)) == [1, 4] and new.unknown(3) and not new.unknown(4)
