"""Real servers on loopback for the staging tests: HTTP, FTP, rsync (folders and daemon).

Every server is started by the fixture itself, bound to 127.0.0.1 on a free
port, and stopped when the test ends.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import parsl_nb as parsl
from parsl_nb.config import Config
from parsl_nb.dataflow.kernel import DataFlowKernel
from parsl_nb.executors import ThreadPoolExecutor

CONTENT = b"line one\nline two\nline three\n"


@dataclass
class Server:
    """A running server: where its files are and how to reach it."""

    root: Path
    url: str


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        if self.path == "/truncated.bin":  # promises 100000 bytes, sends 10, hangs up
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[Server]:
    """Python's http.server serving a folder with ``data.txt``, in a thread."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "data.txt").write_bytes(CONTENT)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(root, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def ftp_server(tmp_path: Path) -> Iterator[Server]:
    """A pyftpdlib server (anonymous, and user alice/secret) serving a folder with ``data.txt``."""
    DummyAuthorizer, FTPHandler, ThreadedFTPServer = _pyftpdlib()
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    root = tmp_path / "ftp"
    root.mkdir()
    (root / "data.txt").write_bytes(CONTENT)
    auth = DummyAuthorizer()
    auth.add_anonymous(str(root))
    auth.add_user("alice", "secret", str(root), perm="elr")
    handler = type("Handler", (FTPHandler,), {"authorizer": auth})
    server = ThreadedFTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.1}, daemon=True)
    thread.start()
    try:
        yield Server(root, f"ftp://127.0.0.1:{server.socket.getsockname()[1]}")
    finally:
        server.close_all()
        thread.join(5)


def _pyftpdlib() -> Any:
    """pyftpdlib's classes; a skip outside CI if it is missing, a failure in CI."""
    try:
        with warnings.catch_warnings():  # it imports asyncore/asynchat, deprecated in 3.11
            warnings.simplefilter("ignore", DeprecationWarning)
            from pyftpdlib.authorizers import DummyAuthorizer
            from pyftpdlib.handlers import FTPHandler
            from pyftpdlib.servers import ThreadedFTPServer
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pyftpdlib is not installed but CI=true: pip install pyftpdlib")
        pytest.skip("pyftpdlib is not installed (pip install pyftpdlib)")
    return DummyAuthorizer, FTPHandler, ThreadedFTPServer


def need_rsync() -> str:
    """The rsync program; a skip outside CI if it is missing, a failure in CI."""
    path = shutil.which("rsync")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("rsync is not installed but CI=true: install it (apt-get install rsync)")
        pytest.skip("rsync is not installed (apt-get install rsync)")
    return path


@pytest.fixture
def rsync_daemon(tmp_path: Path) -> Iterator[Server]:
    """``rsync --daemon`` on loopback with a writable module ``data`` holding ``data.txt``."""
    program = need_rsync()
    root = tmp_path / "rsyncd"
    root.mkdir()
    (root / "data.txt").write_bytes(CONTENT)
    conf = tmp_path / "rsyncd.conf"
    conf.write_text(f"use chroot = false\npid file = {tmp_path / 'rsyncd.pid'}\n"
                    f"[data]\npath = {root}\nread only = false\nuid = {os.getuid()}\ngid = {os.getgid()}\n")
    port = free_port()
    proc = subprocess.Popen([program, "--daemon", "--no-detach", f"--config={conf}", f"--port={port}",
                             "--address=127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_listening(port, proc)
        yield Server(root, f"rsync://127.0.0.1:{port}/data")
    finally:
        proc.terminate()
        proc.wait(5)


def _wait_listening(port: int, proc: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"rsync daemon exited: {proc.stderr.read() if proc.stderr else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"rsync daemon did not listen on port {port}")


@pytest.fixture
def dfk(run_dir: str) -> Iterator[DataFlowKernel]:
    """A loaded kernel on a thread executor with the default staging providers."""
    kernel = parsl.load(Config(executors=[ThreadPoolExecutor(label="threads", max_threads=4)], run_dir=run_dir))
    yield kernel
    parsl.clear()


@parsl.python_app
def read_text(inputs: Any = ()) -> str:
    """Return the content of the first input file."""
    with open(inputs[0]) as f:
        return f.read()


@parsl.python_app
def read_arg(file: Any) -> tuple[str, str]:
    """Return the content of a File passed as an argument, and its path."""
    with open(file.filepath) as f:
        return f.read(), file.filepath


@parsl.python_app
def square(x: int) -> int:
    """An unrelated task that must not be affected by staging failures."""
    return x * x


@parsl.bash_app
def shout(inputs: Any = (), outputs: Any = ()) -> str:
    """Upper-case the first input into the first output."""
    return f"tr a-z A-Z < {inputs[0]} > {outputs[0]}"


@parsl.bash_app
def write(text: str, outputs: Any = ()) -> str:
    """Write text into the first output."""
    return f"echo {text} > {outputs[0]}"
