"""Fixtures for engine tests: a loaded kernel on local engines, and process-tree helpers."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest

import parsl_nb as parsl
import tests.conftest

# the conditions here walk the process table: poll them less often than the default
wait_until = functools.partial(tests.conftest.wait_until, interval=0.05)


def descendants(pid: int | None = None, watchdogs: bool = True) -> list[psutil.Process]:
    """Processes started by ``pid`` (default: this one): its children, all the way down, and with
    ``watchdogs`` also its detached watchdogs (LocalProvider blocks start in their own session, so
    init is their parent) with everything under them. Empty if ``pid`` is gone."""
    pid = pid or os.getpid()
    try:
        roots = [psutil.Process(pid)]
    except psutil.NoSuchProcess:
        return []
    for p in psutil.process_iter(["cmdline"]) if watchdogs else []:
        cmd = p.info["cmdline"] or []
        watched = cmd[cmd.index("--parent") + 1:][:1] if "--parent" in cmd else []
        if "parsl_nb.providers.watchdog" in cmd and watched == [str(pid)]:
            roots.append(p)
    found: dict[int, psutil.Process] = {}
    for root in roots:
        try:
            found.update({c.pid: c for c in [root, *root.children(recursive=True)] if c.pid != pid})
        except psutil.NoSuchProcess:
            pass
    return list(found.values())


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out



@parsl.python_app
def sleep_and_mark(path, seconds):
    """Write the engine's pid to ``path`` (whole: written aside, then renamed), then sleep: a task to kill."""
    import os
    import time
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(path + ".tmp", path)
    time.sleep(seconds)
    return "slept"


def pid_in(path: str) -> int | None:
    """The pid ``sleep_and_mark`` wrote to ``path``; None before its task starts."""
    return int(open(path).read()) if os.path.exists(path) else None


def engine_pid(path: str, timeout: float, what: str = "the task to start") -> int:
    """Wait for ``sleep_and_mark(path, ...)`` to start on an engine; that engine's pid."""
    return int(wait_until(lambda: pid_in(path), timeout, what))

@pytest.fixture
def engines_dfk(tmp_path: Any) -> Iterator[Callable[..., Any]]:
    """Call it with EngineExecutor options; it loads a kernel and cleans it up afterwards."""
    from parsl_nb.executors import EngineExecutor

    loaded: list[Any] = []

    def load(config_kw: dict[str, Any] | None = None, **kw: Any) -> Any:
        kw.setdefault("engines_per_node", 2)
        ex = EngineExecutor(**kw)
        dfk = parsl.load(parsl.Config(executors=[ex], run_dir=str(tmp_path / "runinfo"), **(config_kw or {})))
        loaded.append(dfk)
        return dfk, ex

    before = {p.pid for p in descendants()}  # the session's shared engines (tests/shared_engines.py) stay
    yield load
    for dfk in loaded:
        dfk.cleanup()
    wait_until(lambda: not [p for p in alive(descendants()) if p.pid not in before], 10,
               "every engine process of the test to exit")
