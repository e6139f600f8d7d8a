"""Security: private files, loopback binds, signed messages, no key on a command line.

Extends tests/engines/test_engine_faults.py::test_wrong_key_cannot_run_tasks (a
client with another key cannot run a task through the hub, and the task
channel ignores an engine that signs its hello with another key). Here: the
modes of everything the controller writes, what the controller and the task
channel listen on, a crafted peer that forges results, and the key's absence
from every command line and environment of our processes.
"""

from __future__ import annotations

import os
import socket
import stat
import time

import psutil
import pytest
import zmq

import parsl_nb as parsl
from parsl_nb.executors.engines.wire import Signer

from .conftest import descendants

pytestmark = pytest.mark.engines


@parsl.python_app
def slow_value(seconds, value):
    import time
    time.sleep(seconds)
    return value


def _mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_controller_files_are_private(engines_kernel):
    dfk, ex = engines_kernel(engines_per_node=1)
    assert slow_value(0, 1).result(timeout=30) == 1
    c = ex.controller
    for d in (c.root, c.profile_dir, c.security_dir):
        assert _mode(d) == 0o700, (d, oct(_mode(d)))
    names = os.listdir(c.security_dir)
    assert os.path.basename(c.engine_file) in names and os.path.basename(c.client_file) in names
    for name in names:
        assert _mode(os.path.join(c.security_dir, name)) == 0o600, name
    assert _mode(os.path.join(c.profile_dir, "ipcontroller_config.py")) == 0o600  # holds the key
    blocks = os.path.join(c.root, "blocks")
    assert _mode(blocks) == 0o700
    assert all(_mode(os.path.join(blocks, n)) & 0o077 == 0 for n in os.listdir(blocks) if n.endswith(".sh"))


def _listening(pids: set[int]) -> set[str]:
    out = set()
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.pid in pids:
            out.add(conn.laddr.ip)
    return out


def test_controller_and_task_channel_bind_loopback_by_default(engines_kernel):
    dfk, ex = engines_kernel(engines_per_node=1)
    assert slow_value(0, 1).result(timeout=30) == 1
    controller = {p.pid for p in descendants(ex.controller.pid)}
    assert _listening(controller) == {"127.0.0.1"}
    assert ex._dispatch.address.startswith("tcp://127.0.0.1:")
    assert _listening({os.getpid()}) <= {"127.0.0.1"}  # the kernel's own task channel


def _other_address() -> str | None:
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                return a.address
    return None


def test_address_binds_the_named_interface_only(engines_kernel):
    addr = _other_address()
    if addr is None:
        pytest.skip("not applicable: this host has no interface besides loopback")
    dfk, ex = engines_kernel(engines_per_node=1, address=addr)
    assert slow_value(0, 2).result(timeout=30) == 2
    controller = {p.pid for p in descendants(ex.controller.pid)}
    listening = _listening(controller)
    assert addr in listening and listening <= {addr, "127.0.0.1"}, listening  # never 0.0.0.0
    assert ex._dispatch.address.startswith(f"tcp://{addr}:")


def test_forged_results_with_another_key_are_ignored(engines_kernel):
    """A crafted peer signs 'hello' and a 'done' carrying a forged result with another key."""
    dfk, ex = engines_kernel(engines_per_node=1)
    fut = slow_value(1.0, "genuine")
    ctx = zmq.Context()
    try:
        sock = ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(ex._dispatch.address)
        forger = Signer(b"not-the-cluster-key")
        sock.send_multipart(forger.pack(("hello", {"engine": "evil", "block": "0", "pid": 1, "host": "x"})))
        for key in range(8):  # guess task keys; the payload would decode as a result
            sock.send_multipart(forger.pack(("done", [key], [(key, 0, b"forged", 0, 0)])))
        time.sleep(0.3)
        assert "evil" not in ex.engines
        assert fut.result(timeout=30) == "genuine"
    finally:
        ctx.destroy(linger=0)


def test_key_is_on_no_command_line_or_environment(engines_kernel):
    dfk, ex = engines_kernel(engines_per_node=2)
    assert slow_value(0, 1).result(timeout=30) == 1
    key = ex.controller.key.decode()
    procs = descendants()
    assert len(procs) >= 3  # watchdogs, controller, engines
    for p in procs:
        try:
            assert key not in " ".join(p.cmdline()), p
            assert all(key not in v for v in p.environ().values()), p
        except psutil.NoSuchProcess:
            pass
