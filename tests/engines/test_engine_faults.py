"""Engine loss, cancel, scaling, block failure and wrong keys on real engines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import zmq

import parsl_nb as parsl
from parsl_nb.errors import ExecutorError, WorkerLost
from parsl_nb.executors.engines.wire import Signer
from parsl_nb.providers import JobState, LocalProvider

from .conftest import alive, descendants, engine_pid, pid_in, sleep_and_mark, wait_until

pytestmark = pytest.mark.engines


@parsl.python_app
def add(a, b):
    return a + b


def test_killed_engine_fails_its_task_with_worker_lost(engines_dfk, tmp_path):
    engines_dfk()
    assert add(1, 1).result(timeout=30) == 2
    mark = str(tmp_path / "pid")
    fut = sleep_and_mark(mark, 60)
    pid = engine_pid(mark, 20)
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerLost):
        fut.result(timeout=10)
    assert time.monotonic() - t0 < 10
    assert add(2, 3).result(timeout=10) == 5  # the other engine goes on


def test_killed_engine_task_is_retried_when_retries_are_set(engines_dfk, tmp_path):
    engines_dfk(config_kw={"retries": 1})
    mark = str(tmp_path / "pid")
    fut = sleep_and_mark(mark, 1)
    pid = engine_pid(mark, 30)
    os.remove(mark)
    os.kill(pid, signal.SIGKILL)
    assert fut.result(timeout=20) == "slept"


def test_cancel_stops_a_running_task_on_its_engine(engines_dfk, tmp_path):
    engines_dfk(engines_per_node=1)
    mark = str(tmp_path / "pid")
    fut = sleep_and_mark(mark, 60)
    pid = engine_pid(mark, 30)
    wait_until(lambda: fut.task_status() == "running", 5, "the task to be RUNNING")
    assert fut.cancel() is True
    assert fut.cancelled()
    t0 = time.monotonic()
    assert add(1, 2).result(timeout=10) == 3  # same (only) engine, free again
    assert time.monotonic() - t0 < 5
    assert pid_in(mark) == pid and alive([__import__("psutil").Process(pid)])


def test_scale_out_and_in(engines_dfk):
    dfk, ex = engines_dfk(engines_per_node=1, init_blocks=1, max_blocks=2, strategy="none")
    assert add(1, 1).result(timeout=30) == 2
    assert len(ex.scale_out(1)) == 1
    wait_until(lambda: len(ex.engines) == 2, 20, "the second block's engine")
    wait_until(lambda: [b.state for b in ex.blocks] == [JobState.RUNNING] * 2, 5, "both blocks RUNNING")
    assert len(ex.scale_in(1)) == 1
    wait_until(lambda: len(ex.engines) == 1, 10, "the retired engine to leave")
    assert sorted(b.state.value for b in ex.blocks) == ["cancelled", "running"]
    assert add(2, 2).result(timeout=10) == 4


def test_simple_strategy_retires_idle_blocks_and_starts_on_demand(engines_dfk):
    dfk, ex = engines_dfk(engines_per_node=1, init_blocks=1, min_blocks=0, max_blocks=1, max_idletime=1.0)
    assert add(1, 1).result(timeout=30) == 2
    wait_until(lambda: not ex.engines and ex.blocks[0].state is JobState.CANCELLED, 15, "idle block retired")
    assert add(2, 2).result(timeout=30) == 4  # demand starts a new block
    assert len(ex.blocks) == 2


def test_repeated_block_failures_fail_tasks_clearly(engines_dfk):
    provider = LocalProvider(worker_init="echo no-such-module >&2; exit 3", init_blocks=1, max_blocks=1)
    dfk, ex = engines_dfk(provider=provider, max_block_failures=2)
    with pytest.raises(ExecutorError, match="no-such-module"):
        add(1, 1).result(timeout=30)
    assert all(b.state is JobState.FAILED for b in ex.blocks)


def test_wrong_key_cannot_run_tasks(engines_dfk):
    import ipyparallel as ipp

    dfk, ex = engines_dfk(engines_per_node=1)
    assert add(1, 1).result(timeout=30) == 2
    info = json.load(open(ex.controller.client_file))
    info["key"] = "0" * 64
    bad = os.path.join(os.path.dirname(ex.controller.client_file), "bad-client.json")
    with open(os.open(bad, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        json.dump(info, f)
    with pytest.raises(Exception):  # the hub drops the unsigned connection request
        client = ipp.Client(bad, timeout=3)
        client[:].apply_sync(os.getpid)
    # the kernel's task channel ignores a forged engine, and would accept a genuine one
    ctx = zmq.Context()
    for key, expect in ((b"wrong", 1), (ex.controller.key, 2)):
        sock = ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(ex._dispatch.address)
        sock.send_multipart(Signer(key).pack(("hello", {"engine": "x", "block": "x", "pid": 1, "host": "h"})))
        if expect == 1:
            time.sleep(0.3)  # the forged hello had its chance to be (wrongly) accepted
        else:
            wait_until(lambda: len(ex._dispatch.engines) == 2, 10, "the genuine hello to be accepted")
        assert len(ex._dispatch.engines) == expect
        sock.close()
    ctx.destroy(linger=0)


def test_no_process_left_after_cleanup(tmp_path):
    from parsl_nb.executors import EngineExecutor

    before = {p.pid for p in descendants()}  # the session's shared engines, if started, stay
    dfk = parsl.load(parsl.Config(executors=[EngineExecutor(engines_per_node=2)], run_dir=str(tmp_path / "ri")))
    assert add(1, 1).result(timeout=30) == 2
    procs = [p for p in descendants() if p.pid not in before]
    assert len(procs) >= 4  # watchdogs, controller, engines
    t0 = time.monotonic()
    dfk.cleanup()
    wait_until(lambda: not alive(procs), 5, "every controller and engine process to exit")
    assert time.monotonic() - t0 < 5


DRIVER = """
import os, sys, time, psutil
import parsl_nb as parsl
from parsl_nb.executors import EngineExecutor
parsl.load(parsl.Config(executors=[EngineExecutor(engines_per_node=2)], run_dir=sys.argv[1]))
@parsl.python_app
def f():
    return 1
assert f().result(timeout=30) == 1
from tests.engines.conftest import descendants
print(" ".join(str(p.pid) for p in descendants()), flush=True)
time.sleep(600)
"""


def test_no_orphans_after_driver_is_sigkilled(tmp_path):
    import psutil

    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path / "ri")], stdout=subprocess.PIPE, text=True)
    try:
        line = driver.stdout.readline()
        procs = [psutil.Process(int(p)) for p in line.split()]
        assert len(procs) >= 4, line
    finally:
        driver.kill()
        driver.wait()
    wait_until(lambda: not alive(procs), 30, "controller and engines to notice the kernel died")
