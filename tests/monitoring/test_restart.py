"""Kill a driver mid-run, start a new one on the same workflow: only unfinished or edited work runs again."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from parsl_nb.dataflow.checkpoint import read_records
from parsl_nb.monitoring import runs
from tests.conftest import wait_until
from tests.monitoring._helpers import read_run_in_fresh_process

DRIVER = '''
import os, sys, time
import parsl_nb as parsl
from parsl_nb.utils import get_all_checkpoints

RUN_DIR, LOG, GATE = sys.argv[1], sys.argv[2], sys.argv[3]


def note(*parts):
    with open(LOG, "a") as f:
        f.write(" ".join(str(p) for p in parts) + "\\n")


@parsl.python_app(cache=True)
def load(i):
    note("load", i)
    return i


@parsl.python_app(cache=True)
def square(x):
    note("square", x)
    return SQUARE


@parsl.python_app(cache=True)
def total(*xs):
    note("total", len(xs))
    return sum(xs)


@parsl.python_app(cache=True)
def slow(x, gate):
    note("slow", x)
    while not os.path.exists(gate):
        time.sleep(0.01)
    return x + 1


config = parsl.Config(executors=[parsl.ThreadPoolExecutor(max_threads=4)], run_dir=RUN_DIR,
                      checkpoint_mode="task_exit", checkpoint_files=get_all_checkpoints(RUN_DIR))
with parsl.load(config):
    squares = [square(load(i)) for i in range(6)]
    t = total(*squares)
    after = square(slow(t, GATE))
    print("RESULT", t.result(), after.result(), flush=True)
'''


def _write_driver(path, square_body):
    path.write_text(DRIVER.replace("SQUARE", square_body))


def _notes(path):
    return sorted(path.read_text().splitlines()) if path.exists() else []


def _checkpointed(run_dir, run):
    path = os.path.join(run_dir, run, "checkpoint", "tasks.pkl")
    if not os.path.exists(path):
        return 0
    with open(path, "rb") as f:
        return len(read_records(f.read())[0])


def _recorded_running(run_dir, app):
    try:
        found = runs(run_dir)
        return bool(found) and bool(found[0].tasks(app=app, state="RUNNING"))
    except sqlite3.Error:  # the driver is still creating the tables
        return False


def _run_to_end(tmp_path, run_dir, driver, log, gate):
    proc = subprocess.run([sys.executable, str(driver), run_dir, str(log), str(gate)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="not applicable: no SIGKILL on Windows")
def test_killed_run_then_rerun_serves_finished_tasks_and_reruns_edited_ones(tmp_path):
    run_dir = str(tmp_path / "runinfo")
    driver, gate = tmp_path / "driver.py", tmp_path / "gate"
    _write_driver(driver, "x * x")

    # run 1: 6 loads, 6 squares and the total finish; slow blocks; then the process is killed
    log1 = tmp_path / "ran1.log"
    proc = subprocess.Popen([sys.executable, str(driver), run_dir, str(log1), str(gate)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    try:
        wait_until(lambda: _checkpointed(run_dir, "000") == 13 and _recorded_running(run_dir, "slow"), timeout=30)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    killed = read_run_in_fresh_process(run_dir, 0)
    assert not killed["finished"]
    states = {t["task_id"]: t["state"] for t in killed["tasks"]}
    assert list(states.values()).count("EXEC_DONE") == 13 and "RUNNING" in states.values()

    # run 2, same code: nothing finished runs again; slow and what follows it do
    gate.write_text("open")
    log2 = tmp_path / "ran2.log"
    assert "RESULT 55 3136" in _run_to_end(tmp_path, run_dir, driver, log2, gate)
    assert _notes(log2) == ["slow 55", "square 56"]
    second = runs(run_dir)[1]
    memo = {t.app for t in second.tasks(state="MEMO_DONE")}
    assert memo == {"load", "square", "total"} and len(second.tasks(state="MEMO_DONE")) == 13
    assert second.counts() == {"MEMO_DONE": 13, "EXEC_DONE": 2}

    # run 3, square edited: every square and its dependants run again, the loads do not
    _write_driver(driver, "x * x + 1")
    log3 = tmp_path / "ran3.log"
    assert "RESULT 61 3845" in _run_to_end(tmp_path, run_dir, driver, log3, gate)
    assert _notes(log3) == sorted([f"square {i}" for i in range(6)] + ["total 6", "slow 61", "square 62"])
    third = runs(run_dir)[2]
    assert {t.app for t in third.tasks(state="MEMO_DONE")} == {"load"}
    assert third.counts() == {"MEMO_DONE": 6, "EXEC_DONE": 9}
