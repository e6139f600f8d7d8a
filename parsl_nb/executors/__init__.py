"""Executors: where tasks run."""

from typing import Any

from .base import Executor, ParslExecutor
from .threads import ThreadPoolExecutor

__all__ = ["EngineExecutor", "Executor", "HighThroughputExecutor", "ParslExecutor", "ThreadPoolExecutor"]


def __getattr__(name: str) -> Any:
    # The engine executor imports ipyparallel; load it only when asked for.
    if name in ("EngineExecutor", "HighThroughputExecutor"):
        from . import engines

        return getattr(engines, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
