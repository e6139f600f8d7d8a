"""Fixtures for engine tests: a loaded kernel on local engines, and process-tree helpers."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest

import parsl_nb as parsl


def wait_until(cond: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def descendants(pid: int | None = None) -> list[psutil.Process]:
    try:
        return psutil.Process(pid or os.getpid()).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


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

    yield load
    for dfk in loaded:
        dfk.cleanup()
    wait_until(lambda: not alive(descendants()), 10, "every engine process to exit")
