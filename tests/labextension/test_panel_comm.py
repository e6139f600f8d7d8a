"""The kernel side of the lab panel: snapshots, batching, failures and actions, without a browser."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import parsl_nb as parsl
from parsl_nb.jupyter import panel_comm
from parsl_nb.jupyter.panel_comm import PanelSession, snapshot

from ..conftest import wait_until


class Recorder:
    def __init__(self) -> None:
        self.msgs: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, msg: dict[str, Any]) -> None:
        with self.lock:
            self.msgs.append(msg)

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.msgs if m["type"] == kind]


@pytest.fixture
def session():
    rec = Recorder()
    s = PanelSession(rec, min_period=0.1, heartbeat=0.2)
    yield s, rec
    s.close()


@pytest.fixture
def threads(run_dir: str):
    return parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(label="threads", max_threads=4)],
                                   run_dir=run_dir))


@parsl.python_app
def double(x: int, gate: threading.Event | None = None) -> int:
    if gate is not None:
        gate.wait(30)
    return 2 * x


@parsl.python_app
def explode(x: int) -> int:
    raise ValueError(f"bad input {x}")


def test_snapshot_without_a_kernel_says_not_loaded():
    assert snapshot(None) == {"type": "snapshot", "loaded": False}


def test_hello_then_snapshots_that_follow_a_kernel_loaded_later(session, run_dir):
    s, rec = session
    s.start()
    assert rec.msgs[0] == {"type": "hello", "protocol": panel_comm.PROTOCOL, "version": parsl.__version__}
    wait_until(lambda: rec.of("snapshot"))
    assert rec.of("snapshot")[0]["loaded"] is False
    parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(label="threads", max_threads=2)], run_dir=run_dir))
    wait_until(lambda: rec.of("snapshot")[-1]["loaded"])
    last = rec.of("snapshot")[-1]
    assert last["executors"] == [{"label": "threads", "kind": "threads", "workers": 2, "blocks": [],
                                  "scalable": False}]
    assert last["run_dir"].startswith(run_dir)
    seqs = [m["seq"] for m in rec.of("snapshot")]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_counts_move_and_failures_carry_the_exception(session, threads):
    s, rec = session
    s.start()
    gate = threading.Event()
    held = [double(i, gate=gate) for i in range(3)]
    bad = explode(1)
    with pytest.raises(ValueError):
        bad.result(timeout=10)
    wait_until(lambda: rec.of("snapshot")[-1].get("counts", {}).get("failed") == 1)
    snap = rec.of("snapshot")[-1]
    assert snap["counts"].get("exec_done", 0) == 0
    assert snap["failures"][0]["exception"] == "ValueError: bad input 1"
    assert snap["failures"][0]["app"] == "explode"
    gate.set()
    [f.result(timeout=10) for f in held]
    wait_until(lambda: rec.of("snapshot")[-1]["counts"].get("exec_done") == 3)
    assert rec.of("snapshot")[-1]["apps"] == {"double": {"exec_done": 3}, "explode": {"failed": 1}}


def test_failures_before_the_panel_opened_are_read_from_the_records(threads, run_dir):
    with pytest.raises(ValueError):
        explode(7).result(timeout=10)
    rec = Recorder()
    s = PanelSession(rec, min_period=0.05)
    s.start()
    try:
        wait_until(lambda: rec.of("snapshot"))
        assert rec.of("snapshot")[0]["failures"][0]["exception"] == "ValueError: bad input 7"
    finally:
        s.close()


def test_many_task_events_give_a_few_batched_snapshots(threads):
    rec = Recorder()
    s = PanelSession(rec, min_period=0.25, heartbeat=1.0)
    s.start()
    try:
        started = time.monotonic()
        futures = [double(i) for i in range(3000)]
        [f.result(timeout=60) for f in futures]
        wait_until(lambda: rec.of("snapshot")[-1].get("counts", {}).get("exec_done") == 3000, timeout=20)
        elapsed = time.monotonic() - started
        snaps = len(rec.of("snapshot"))
        # 3000 tasks make about 9000 events; the panel gets at most 4 snapshots a second
        assert snaps <= elapsed / 0.25 + 3, (snaps, elapsed)
    finally:
        s.close()


def test_nothing_is_sent_when_nothing_changed(session, threads):
    s, rec = session
    s.start()
    wait_until(lambda: rec.of("snapshot"))
    time.sleep(0.2)
    before = len(rec.msgs)
    time.sleep(0.6)  # three heartbeats with no change
    assert len(rec.msgs) == before
    assert s.push() is False and s.push(force=True) is True


def test_a_comm_the_kernel_opened_stays_quiet_until_the_panel_speaks(threads):
    rec = Recorder()
    s = PanelSession(rec, min_period=0.05, heartbeat=0.1)
    s.start(active=False)
    try:
        time.sleep(0.3)
        assert [m["type"] for m in rec.msgs] == ["hello"]
        s.handle({"type": "refresh"})
        wait_until(lambda: rec.of("snapshot"))
    finally:
        s.close()


def test_cancel_pending_cancels_only_tasks_that_have_not_started(session, threads):
    s, rec = session
    s.start()
    gate = threading.Event()
    running = double(1, gate=gate)
    waiting = [double(running) for _ in range(4)]
    wait_until(lambda: threads.task_counts().get("running") == 1)
    s.handle({"type": "cancel_pending", "request": 7})
    reply = wait_until(lambda: rec.of("reply"))[0]
    assert reply == {"type": "reply", "request": 7, "ok": True, "message": "cancelled 4 task(s) that had not started"}
    assert all(f.cancelled() for f in waiting)
    gate.set()
    assert running.result(timeout=10) == 2


def test_scaling_a_thread_pool_is_refused_with_a_reason(session, threads):
    s, rec = session
    s.start()
    s.handle({"type": "scale", "request": 1, "blocks": 1})
    reply = wait_until(lambda: rec.of("reply"))[0]
    assert reply["ok"] is False and "has blocks to scale" in reply["message"]


def test_unknown_requests_are_answered(session):
    s, rec = session
    s.start()
    s.handle({"type": "explode", "request": 3})
    assert rec.of("reply")[0] == {"type": "reply", "request": 3, "ok": False,
                                  "message": "unknown panel request 'explode'; known: refresh, scale, cancel_pending"}


def test_register_needs_a_kernel_and_registers_the_target():
    class Manager:
        def __init__(self) -> None:
            self.targets: dict[str, Any] = {}

        def register_target(self, name: str, fn: Any) -> None:
            self.targets[name] = fn

    class Shell:
        kernel = type("K", (), {"comm_manager": Manager()})()

    assert panel_comm.register(object()) is False
    shell = Shell()
    assert panel_comm.register(shell, announce=False) is True
    assert panel_comm.TARGET in shell.kernel.comm_manager.targets


def _iopub_until(kc: Any, cond: Any, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=0.5)
        except Exception:  # queue.Empty
            continue
        if cond(msg):
            return msg
    pytest.fail(f"no matching iopub message within {timeout} s")


def _comm_data(kind: str, **match: Any) -> Any:
    def cond(msg: dict[str, Any]) -> bool:
        data = msg["content"].get("data", {}) if msg["msg_type"] == "comm_msg" else {}
        return data.get("type") == kind and all(data.get(k) == v for k, v in match.items())
    return cond


@pytest.mark.slow
def test_a_real_kernel_announces_the_panel_and_answers_one_it_did_not_open(tmp_path):
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path),
                              env={**__import__("os").environ, "IPYTHONDIR": str(tmp_path / "ipython")})
    try:
        kc.execute("%load_ext parsl_nb")
        opened = _iopub_until(kc, lambda m: m["msg_type"] == "comm_open")
        assert opened["content"]["target_name"] == panel_comm.TARGET
        comm_id = opened["content"]["comm_id"]
        _iopub_until(kc, _comm_data("hello"))
        # quiet until the panel speaks
        msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"type": "refresh"}})
        kc.shell_channel.send(msg)
        _iopub_until(kc, _comm_data("snapshot", loaded=False))
        kc.execute("%parsl_load threads")
        _iopub_until(kc, _comm_data("snapshot", loaded=True))
        # a panel opened later opens its own comm and gets hello and a snapshot at once
        mine = kc.session.msg("comm_open", {"comm_id": "panel-2", "target_name": panel_comm.TARGET, "data": {}})
        kc.shell_channel.send(mine)
        _iopub_until(kc, lambda m: m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == "panel-2"
                     and m["content"]["data"].get("type") == "snapshot" and m["content"]["data"]["loaded"])
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def test_a_failure_whose_future_is_gone_still_shows_why(session, threads):
    # the panel reads the reason the kernel gave as the task failed, not the future
    s, rec = session
    s.start()
    bad = explode(2)
    double(bad)  # its future is dropped at once: only the record says why it failed
    wait_until(lambda: rec.of("snapshot")[-1].get("counts", {}).get("dep_fail") == 1)
    # the snapshot that counts the failure lists it too
    failures = {f["app"]: f for f in rec.of("snapshot")[-1]["failures"]}
    assert failures["double"]["state"] == "dep_fail"
    assert failures["double"]["exception"].startswith("DependencyError"), failures["double"]
    assert failures["explode"]["exception"] == "ValueError: bad input 2"
    assert len(rec.of("snapshot")[-1]["failures"]) == 2, "each failure once"


def test_a_closed_panel_lets_go_of_the_kernel(threads):
    hooks = len(threads.final_hooks)
    rec = Recorder()
    s = PanelSession(rec, min_period=0.05)
    s.start()
    wait_until(lambda: rec.of("snapshot") and rec.of("snapshot")[-1].get("loaded"))
    assert len(threads.final_hooks) == hooks + 1
    s.close()
    assert len(threads.final_hooks) == hooks, "the panel's hook stays on the kernel after close"
    assert s.push() is False


def test_a_snapshot_that_counts_a_failure_also_lists_it(threads):
    # a task is final a moment before the kernel calls its final hooks: a hook ahead of the
    # panel's that takes its time stretches that moment, and snapshots are built within it
    def slow_hook(tid: int) -> None:
        if threads.tasks[tid].status == parsl.TaskState.FAILED:
            time.sleep(0.5)

    threads.final_hooks.append(slow_hook)
    rec = Recorder()
    s = PanelSession(rec, min_period=0.02)
    s.start()
    try:
        wait_until(lambda: rec.of("snapshot") and rec.of("snapshot")[-1].get("loaded"))
        with pytest.raises(ValueError):
            explode(3).result(timeout=10)
        wait_until(lambda: rec.of("snapshot")[-1]["counts"].get("failed") == 1)
        time.sleep(0.6)  # the hook has come by now
        counted = [m for m in rec.of("snapshot") if m["counts"].get("failed")]
        assert all([f["app"] for f in m["failures"]] == ["explode"] for m in counted), counted
        (failed,) = [r for r in threads.tasks.values() if r.status == parsl.TaskState.FAILED]
        assert all(m["failures"][0]["time"] == failed.history[-1][1] for m in counted), "when it failed"
    finally:
        s.close()
        threads.final_hooks.remove(slow_hook)
