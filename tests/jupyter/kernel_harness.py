"""A real IPython kernel driven through jupyter_client, with helpers that never hang."""

from __future__ import annotations

import os
import queue
import time
from dataclasses import dataclass, field
from typing import Any

import psutil
from jupyter_client.manager import KernelManager


@dataclass
class Reply:
    """Everything one execute request produced."""

    status: str = ""
    stdout: str = ""
    stderr: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)  # execute_result / display_data bundles
    error: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        """stdout plus the text/plain of every result."""
        return self.stdout + "".join(r.get("text/plain", "") for r in self.results)

    @property
    def html(self) -> str:
        return "".join(r.get("text/html", "") for r in self.results)

    @property
    def traceback(self) -> str:
        import re

        raw = "\n".join(self.error["traceback"]) if self.error else ""
        return re.sub(r"\x1b\[[0-9;]*m", "", raw)


class Kernel:
    """A started kernel with a blocking client and helpers that never hang."""

    def __init__(self, cwd: str, ipython_dir: str) -> None:
        env = dict(os.environ, IPYTHONDIR=ipython_dir, PYTHONUNBUFFERED="1", JUPYTER_PLATFORM_DIRS="1")
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=cwd, env=env, extra_arguments=["--HistoryManager.enabled=False"])
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.pid = self.km.provisioner.process.pid  # type: ignore[union-attr]

    def send(self, code: str) -> str:
        """Start executing ``code``; return the message id (collect with :meth:`collect`)."""
        return self.kc.execute(code, store_history=True)

    def collect(self, msg_id: str, timeout: float = 30) -> Reply:
        """Gather iopub output of ``msg_id`` until the kernel is idle again, or fail at the deadline."""
        reply = Reply()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no idle status for execute {msg_id} within {timeout} s; got {reply}")
            try:
                msg = self.kc.get_iopub_msg(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                setattr(reply, content["name"], getattr(reply, content["name"]) + content["text"])
            elif kind in ("execute_result", "display_data"):
                reply.results.append(content["data"])
            elif kind == "error":
                reply.error = content
            elif kind == "status" and content["execution_state"] == "idle":
                break
        while True:
            shell = self.kc.get_shell_msg(timeout=max(1.0, deadline - time.monotonic()))
            if shell["parent_header"].get("msg_id") == msg_id:
                reply.status = shell["content"]["status"]
                return reply

    def run(self, code: str, timeout: float = 30) -> Reply:
        """Execute ``code`` and return its output."""
        return self.collect(self.send(code), timeout)

    def ok(self, code: str, timeout: float = 30) -> Reply:
        """Execute ``code`` and fail the test with the kernel's traceback if it raised."""
        reply = self.run(code, timeout)
        assert reply.status == "ok", f"cell failed:\n{code}\n---\n{reply.traceback}\n{reply.stderr}"
        return reply

    def value(self, expr: str, timeout: float = 30) -> str:
        """The text/plain of evaluating ``expr``."""
        reply = self.ok(expr, timeout)
        return reply.results[-1]["text/plain"] if reply.results else ""

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        try:
            self.kc.stop_channels()
        finally:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
