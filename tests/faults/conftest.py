"""Fixtures for the fault, load, bad-input and security suite.

Every test here ends what it starts: kernels are cleaned up, driver
subprocesses are killed and reaped, and the Slurm fixture fails a test that
leaves a job of its own queued or running. Deadlines are polled (psutil over
the process tree), never slept out.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest

import parsl_nb as parsl
import tests.engines.conftest
from tests.cluster_fixtures import gridengine_cluster, gridengine_session, slurm_cluster, slurm_session  # noqa: F401
from tests.engines.conftest import alive, wait_until  # one definition of each: a live process; polling

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


# the process tree below a pid only: detached watchdogs are not followed here
descendants = functools.partial(tests.engines.conftest.descendants, watchdogs=False)


def ours(marker: str) -> list[psutil.Process]:
    """Live processes whose command line mentions ``marker`` (a test's unique run dir)."""
    found = []
    for p in psutil.process_iter(["cmdline", "environ"]):
        try:
            text = " ".join(p.info["cmdline"] or [])
            env = p.info["environ"] or {}
            if (marker in text or any(marker in v for v in env.values())) and p.pid != os.getpid():
                if p.status() != psutil.STATUS_ZOMBIE:
                    found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def all_resolved(futures: list[Any]) -> bool:
    return all(f.done() for f in futures)


@pytest.fixture
def engines_kernel(tmp_path: Any) -> Iterator[Callable[..., Any]]:
    """Call with EngineExecutor options (and ``config_kw``); loads a kernel, cleans it up after."""
    from parsl_nb.executors import EngineExecutor

    loaded: list[Any] = []

    def load(config_kw: dict[str, Any] | None = None, extra: list[Any] | None = None, **kw: Any) -> Any:
        kw.setdefault("engines_per_node", 2)
        ex = EngineExecutor(**kw)
        dfk = parsl.load(parsl.Config(executors=[ex, *(extra or [])], run_dir=str(tmp_path / "runinfo"),
                                      **(config_kw or {})))
        loaded.append(dfk)
        return dfk, ex

    before = {p.pid for p in descendants()}
    yield load
    for dfk in loaded:
        dfk.cleanup()
    parsl.clear()
    wait_until(lambda: not [p for p in alive(descendants()) if p.pid not in before], 10,
               "every engine and controller process of the test to exit")


@pytest.fixture
def driver() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start a Python driver script (the 'kernel') in its own session; killed and reaped afterwards."""
    started: list[subprocess.Popen[str]] = []

    def start(code: str, *args: str) -> subprocess.Popen[str]:
        env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True, env=env, cwd=REPO)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.communicate(timeout=10)


def read_line(proc: subprocess.Popen[str], prefix: str, timeout: float = 60.0) -> str:
    """The first stdout line of ``proc`` starting with ``prefix`` (fails with stderr if it exits)."""
    import selectors

    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        if sel.select(timeout=0.2):
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith(prefix):
                return line[len(prefix):].strip()
    err = proc.stderr.read() if proc.poll() is not None and proc.stderr else "(still running)"
    pytest.fail(f"driver printed no {prefix!r} line within {timeout} s; stdout: {''.join(seen)[-2000:]}\n"
                f"stderr: {err[-3000:]}", pytrace=False)
