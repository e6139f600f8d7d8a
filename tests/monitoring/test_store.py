"""The monitoring store: every task, try and transition of a run, read back from a fresh process."""

from __future__ import annotations

import os
import sqlite3
import warnings

import pytest

import parsl_nb as parsl
from parsl_nb import Config, ThreadPoolExecutor, python_app
from parsl_nb.dataflow.events import BlockEvent
from parsl_nb.monitoring import Run, runs
from tests.conftest import wait_until
from tests.monitoring._helpers import read_run_in_fresh_process


@python_app
def inc(x):
    return x + 1


@python_app
def add(a, b):
    return a + b


@python_app
def flaky(counter_path, fail_times):
    with open(counter_path, "a+") as f:
        f.seek(0)
        seen = len(f.read())
        f.write("x")
    if seen < fail_times:
        raise RuntimeError(f"flaky try {seen}")
    return "ok"


@python_app
def boom():
    raise ValueError("boom")


@python_app(cache=True)
def cached(x):
    return x * 10


def _config(run_dir, **options):
    return Config(executors=[ThreadPoolExecutor(label="threads", max_threads=4)], run_dir=run_dir, **options)


def _workflow(tmp_path):
    a = [inc(i) for i in range(5)]
    s = add(add(a[0], a[1]), add(a[2], a[3]))
    f = flaky(str(tmp_path / "count"), 2)
    b = boom()
    d = inc(b)
    c1 = cached(4)
    c1.result()
    c2 = cached(4)
    for fut in (*a, s, f, c1, c2):
        fut.result()
    for fut in (b, d):
        with pytest.raises(Exception):
            fut.result()
    return {"s": s.tid, "flaky": f.tid, "boom": b.tid, "dep": d.tid, "memo": c2.tid}


def test_every_task_try_and_transition_is_in_the_store_read_from_a_fresh_process(run_dir, tmp_path):
    dfk = parsl.load(_config(run_dir, retries=2))
    tids = _workflow(tmp_path)
    records = {tid: list(r.history) for tid, r in dfk.tasks.items()}
    apps = {tid: r.app_name for tid, r in dfk.tasks.items()}
    parsl.clear()

    got = read_run_in_fresh_process(run_dir)
    info = got["info"]
    assert got["finished"] and info["run_id"] == dfk.run_id
    assert info["tasks_total"] == len(records)
    assert info["tasks_failed"] == 1 and info["tasks_dep_fail"] == 1 and info["tasks_memo"] == 1
    began, ended = info["time_began"], info["time_completed"]

    tasks = {t["task_id"]: t for t in got["tasks"]}
    assert set(tasks) == set(records)
    for tid, t in tasks.items():
        assert t["app"] == apps[tid]
        assert t["state"] == records[tid][-1][0].name
        assert began <= t["time_invoked"] <= t["time_returned"] <= ended

    # every transition, in order, with the kernel's own timestamps
    by_task: dict[int, list[tuple[str, float]]] = {}
    for s in got["states"]:
        by_task.setdefault(s["task_id"], []).append((s["state"], s["time"]))
    for tid, history in records.items():
        assert by_task[tid] == [(state.name, t) for state, t in history], tid
        times = [t for _, t in history]
        assert times == sorted(times)

    # one try per launch; retries are more tries of the same task
    launches = {tid: sum(1 for state, _ in h if state.name == "LAUNCHED") for tid, h in records.items()}
    tries: dict[int, list[dict]] = {}
    for t in got["tries"]:
        tries.setdefault(t["task_id"], []).append(t)
    assert {tid: len(v) for tid, v in tries.items()} == {tid: n for tid, n in launches.items() if n}
    for t in got["tries"]:
        assert t["time_launched"] <= t["time_running"] <= t["time_returned"], t
        assert t["executor"] == "threads"
    assert [t["state"] for t in tries[tids["flaky"]]] == ["FAIL_RETRYABLE", "FAIL_RETRYABLE", "EXEC_DONE"]
    assert "RuntimeError: flaky try 0" in tries[tids["flaky"]][0]["exception"]
    assert tries[tids["flaky"]][2]["exception"] is None
    assert [t["state"] for t in tries[tids["boom"]]] == ["FAIL_RETRYABLE", "FAIL_RETRYABLE", "FAILED"]
    assert tasks[tids["boom"]]["tries"] == 3 and tasks[tids["boom"]]["fail_count"] == 3

    # dependencies, memo keys, no try for a task that never ran
    assert len(tasks[tids["s"]]["depends"]) == 2
    assert tasks[tids["dep"]]["depends"] == [tids["boom"]] and tids["dep"] not in tries
    memo = tasks[tids["memo"]]
    assert memo["state"] == "MEMO_DONE" and memo["memoize"] and len(memo["hashsum"]) == 64
    assert tids["memo"] not in tries and memo["args"] == "4"


def test_inputs_outputs_and_std_streams_are_recorded(run_dir, tmp_path):
    @parsl.bash_app
    def copy(inputs=(), outputs=(), stdout=None, stderr=None):
        return f"cat {inputs[0]} > {outputs[0]}; echo copied"

    src = tmp_path / "in.txt"
    src.write_text("hello")
    with parsl.load(_config(run_dir)):
        fut = copy(inputs=[parsl.File(str(src))], outputs=[parsl.File(str(tmp_path / "out.txt"))],
                   stdout=parsl.AUTO_LOGNAME, stderr=str(tmp_path / "err.txt"))
        fut.result()
    (task,) = runs(run_dir)[-1].tasks()
    assert task.inputs == (str(src),) and task.outputs == (str(tmp_path / "out.txt"),)
    assert task.stdout.endswith(".stdout") and os.path.exists(task.stdout)
    assert task.stderr == str(tmp_path / "err.txt")


def test_store_is_readable_while_the_run_goes_on(run_dir):
    dfk = parsl.load(_config(run_dir))
    [inc(i).result() for i in range(3)]
    dfk.events.flush()
    run = runs(run_dir)[-1]
    assert not run.finished and run.counts() == {"EXEC_DONE": 3}
    parsl.clear()
    assert Run(run.path).finished


def test_block_events_are_recorded(run_dir):
    dfk = parsl.load(_config(run_dir))
    dfk.events.publish(BlockEvent(1.0, "threads", "0", "job-17", "PENDING"))
    dfk.events.publish(BlockEvent(2.0, "threads", "0", "job-17", "RUNNING", detail="3 engines"))
    parsl.clear()
    blocks = runs(run_dir)[-1].blocks()
    assert [(b.block_id, b.job_id, b.state, b.time) for b in blocks] == [("0", "job-17", "PENDING", 1.0),
                                                                         ("0", "job-17", "RUNNING", 2.0)]
    assert blocks[1].detail == "3 engines"


def test_monitoring_false_writes_no_store(run_dir):
    dfk = parsl.load(_config(run_dir, monitoring=False))
    inc(1).result()
    parsl.clear()
    assert dfk.monitoring is None
    assert not os.path.exists(os.path.join(dfk.run_dir, "monitoring.db"))
    assert runs(run_dir) == []


def _degrades_and_tasks_go_on(dfk, store, fault) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fault()
        assert [inc(i).result() for i in range(10)] == list(range(1, 11))
        wait_until(lambda: not store.active, 30, "the store to notice the fault")
        assert [inc(i).result() for i in range(3)] == [1, 2, 3]
        parsl.clear()  # closing a failed store neither raises nor hangs
    return list(caught)


def test_database_locked_by_another_process_stops_monitoring_with_a_warning_and_tasks_go_on(run_dir):
    dfk = parsl.load(_config(run_dir))
    assert [inc(i).result() for i in range(3)] == [1, 2, 3]
    dfk.events.flush()
    store = dfk.monitoring
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        caught = _degrades_and_tasks_go_on(dfk, store, lambda: other.execute("BEGIN EXCLUSIVE"))
    finally:
        other.close()
    assert any("monitoring stopped" in str(w.message) and "locked" in str(w.message) for w in caught)
    assert isinstance(store.error, sqlite3.OperationalError)
    run = runs(run_dir)[-1]
    assert run.counts() == {"EXEC_DONE": 3}  # what was written before stays readable


def test_writer_process_killed_stops_monitoring_with_a_warning_and_tasks_go_on(run_dir):
    dfk = parsl.load(_config(run_dir))
    assert [inc(i).result() for i in range(3)] == [1, 2, 3]
    dfk.events.flush()
    store = dfk.monitoring
    caught = _degrades_and_tasks_go_on(dfk, store, lambda: os.kill(store.pid, 9))
    assert any("monitoring stopped" in str(w.message) and "writer process" in str(w.message) for w in caught)
    assert runs(run_dir)[-1].counts() == {"EXEC_DONE": 3}


def test_writer_process_ends_with_the_kernel(run_dir):
    import psutil

    dfk = parsl.load(_config(run_dir))
    inc(1).result()
    writer = psutil.Process(dfk.monitoring.pid)
    assert writer.is_running() and "parsl_nb.monitoring.writer" in " ".join(writer.cmdline())
    parsl.clear()
    assert not writer.is_running() or writer.status() == psutil.STATUS_ZOMBIE


def test_unwritable_run_dir_at_start_warns_and_runs_without_store(run_dir, monkeypatch):
    import parsl_nb.monitoring.store as store_mod

    def refuse(*args, **kwargs):
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(store_mod.sqlite3, "connect", refuse)
    with pytest.warns(RuntimeWarning, match="monitoring is off"):
        dfk = parsl.load(_config(run_dir))
    assert dfk.monitoring is None
    assert inc(1).result() == 2


def test_dataframes_when_pandas_is_installed(run_dir):
    pd = pytest.importorskip("pandas")
    with parsl.load(_config(run_dir)):
        inc(1).result()
    frame = runs(run_dir)[-1].dataframe("tries")
    assert isinstance(frame, pd.DataFrame) and len(frame) == 1


def test_dataframe_names_the_fix_without_pandas(run_dir, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas")
        return real_import(name, *args, **kwargs)

    with parsl.load(_config(run_dir)):
        inc(1).result()
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="pip install pandas"):
        runs(run_dir)[-1].dataframe()


def test_cli_runs_and_show(run_dir, capsys):
    from parsl_nb.cli import main

    with parsl.load(_config(run_dir, retries=1)):
        inc(1).result()
        with pytest.raises(ValueError):
            boom().result()
    assert main(["runs", run_dir]) == 0
    out = capsys.readouterr().out
    assert "000" in out and "tasks" in out
    assert main(["show", "0", "--run-dir", run_dir]) == 0
    out = capsys.readouterr().out
    assert "inc" in out and "boom" in out and "task 1 try 1: ValueError: boom" in out
    assert main(["show", "nope", "--run-dir", run_dir]) == 1
    assert "parsl-nb runs" in capsys.readouterr().err


def test_runs_of_a_missing_folder_is_empty(tmp_path):
    assert runs(str(tmp_path / "nothing")) == []
    with pytest.raises(FileNotFoundError, match="run directory"):
        Run(tmp_path)


@pytest.mark.parametrize(("argv0", "name"), [("/home/me/sweep.py", "sweep.py"),
                                             ("/site-packages/parsl_nb/__main__.py", "parsl_nb"),
                                             ("-c", "python")])
def test_a_run_is_named_after_the_script_or_the_package_run_with_python_m(monkeypatch, argv0, name):
    from parsl_nb.monitoring.store import default_workflow_name

    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setattr("sys.argv", [argv0])
    assert default_workflow_name() == name


@python_app
def nap(seconds):
    import time

    time.sleep(seconds)
    return seconds


def test_summary_times_tries_from_when_they_ran_not_from_the_queue(run_dir):
    # one thread, three naps: the later ones wait their turn, which is not part of their try
    with parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=1)], run_dir=run_dir)):
        assert [f.result() for f in [nap(0.2) for _ in range(3)]] == [0.2] * 3
    run = runs(run_dir)[-1]
    tries = run.tries()
    assert all(y.time_launched <= y.time_running <= y.time_returned for y in tries)
    assert max(y.time_running - y.time_launched for y in tries) > 0.2  # the last one did wait
    (naps,) = [s for s in run.summary() if s.app == "nap"]
    ran = [y.time_returned - y.time_running for y in tries]
    assert naps.tries == 3
    assert naps.max_duration == pytest.approx(max(ran))
    assert naps.mean_duration == pytest.approx(sum(ran) / 3)
