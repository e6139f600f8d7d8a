"""The ipyparallel controller of one executor: private profile, cluster id and key."""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
import uuid

from ...errors import ExecutorError
from ...providers.watchdog import wrap

__all__ = ["Controller"]

HOOK = "import parsl_nb.executors.engines.worker as w; w.schedule()"


class Controller:
    """Starts ``ipcontroller`` under a watchdog in ``<run_dir>/engines/<label>``.

    The key is generated here and written (mode 0600) into the private
    profile's config, so messages are HMAC-signed from the first one and the
    kernel knows the key without waiting for the controller.
    """

    def __init__(self, run_dir: str, label: str, ip: str = "127.0.0.1", heartbeat_ms: int = 500) -> None:
        self.label, self.ip, self.heartbeat_ms = label, ip, heartbeat_ms
        self.root = os.path.abspath(os.path.join(run_dir, "engines", label))
        self.profile_dir = os.path.join(self.root, "profile")
        self.cluster_id = f"parsl_nb-{uuid.uuid4().hex[:8]}"
        self.key = secrets.token_hex(32).encode()
        self.log_path = os.path.join(self.root, "controller.log")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def security_dir(self) -> str:
        """Where the connection files are."""
        return os.path.join(self.profile_dir, "security")

    @property
    def engine_file(self) -> str:
        """The engines' connection file (mode 0600)."""
        return os.path.join(self.security_dir, f"ipcontroller-{self.cluster_id}-engine.json")

    @property
    def client_file(self) -> str:
        """The clients' connection file (mode 0600)."""
        return os.path.join(self.security_dir, f"ipcontroller-{self.cluster_id}-client.json")

    def start(self) -> None:
        """Write the private profile and start the controller process group."""
        os.makedirs(self.security_dir, mode=0o700, exist_ok=True)
        for d in (self.root, self.profile_dir, self.security_dir):
            os.chmod(d, 0o700)
        _write_private(os.path.join(self.profile_dir, "ipcontroller_config.py"),
                       f"c.Session.key = {self.key!r}\nc.Session.signature_scheme = 'hmac-sha256'\n")
        argv = [sys.executable, "-m", "ipyparallel.controller", f"--profile-dir={self.profile_dir}",
                f"--cluster-id={self.cluster_id}", f"--ip={self.ip}", f"--ping={self.heartbeat_ms}",
                "--nodb", "--usethreads", "--log-level=WARN"]
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(wrap(argv), stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)

    def engine_command(self, channel: str, block: str, kernel_timeout: float) -> str:
        """The shell command that starts one engine of ``block``."""
        env = (f"PARSL_NB_CHANNEL={shlex.quote(channel)} PARSL_NB_BLOCK={shlex.quote(block)} "
               f"PARSL_NB_KERNEL_TIMEOUT={kernel_timeout:g}")
        argv = [sys.executable, "-m", "ipyparallel.engine", f"--file={self.engine_file}",
                "--IPEngine.enable_nanny=False", "--IPEngine.wait_for_url_file=60",
                "--IPEngine.max_heartbeat_misses=20", "--log-level=WARN", f"--IPEngine.startup_command={HOOK}"]
        # exec: the engine replaces the shell that launched it, so a batch system's
        # process tracking (and its SIGKILL after a cancel) reaches the engine itself,
        # even while ipyparallel's start-up ignores SIGTERM
        return f"{env} exec {shlex.join(argv)}"

    def secure_files(self) -> None:
        """Make every connection file mode 0600 (ipyparallel already does; be sure)."""
        for name in os.listdir(self.security_dir):
            os.chmod(os.path.join(self.security_dir, name), 0o600)

    def check(self) -> None:
        """Raise ExecutorError with the log's tail if the controller has exited."""
        proc = self._proc
        if proc is not None and proc.poll() is not None:
            raise ExecutorError(self.label, f"its ipyparallel controller exited with code {proc.returncode}; "
                                f"its log {self.log_path} ends with:\n{_tail(self.log_path)}")

    @property
    def pid(self) -> int | None:
        """The watchdog's pid (the controller's process group)."""
        return self._proc.pid if self._proc is not None else None

    def stop(self, grace: float = 2.0) -> None:
        """End the controller's process group (SIGTERM, then SIGKILL)."""
        proc = self._proc
        if proc is None:
            return
        _killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        _killpg(proc.pid, signal.SIGKILL)
        proc.poll()


def _write_private(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: str, n: int = 2000) -> str:
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode(errors="replace").strip()
    except OSError as e:
        return f"(could not read it: {e})"
