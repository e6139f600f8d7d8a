"""Small pieces the kernel uses to launch tasks: countdowns, failures, std paths."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from ..apps.base import AUTO_LOGNAME
from ..data.files import File
from .taskrecord import TaskRecord

__all__ = ["Countdown", "deferred_getattr", "deferred_getitem", "failures_of", "std_target"]


class Countdown:
    """Calls ``then()`` once, after ``tick`` was called ``n`` times (from any thread)."""

    __slots__ = ("_left", "_lock", "_then")

    def __init__(self, n: int, then: Callable[[], None]) -> None:
        self._left = n
        self._lock = threading.Lock()
        self._then = then

    def tick(self, _fut: Any = None) -> None:
        """Count one done future; the last one runs ``then``."""
        with self._lock:
            self._left -= 1
            fire = self._left == 0
        if fire:
            self._then()


def failures_of(futures: Sequence[Future[Any]]) -> list[tuple[BaseException, int | None]]:
    """``(exception, tid)`` for each failed or cancelled future (Parsl's shape)."""
    out: list[tuple[BaseException, int | None]] = []
    for f in futures:
        tid = getattr(f, "tid", None)
        if f.cancelled():
            from concurrent.futures import CancelledError

            out.append((CancelledError(f"task {tid} was cancelled"), tid))
        else:
            exc = f.exception()
            if exc is not None:
                out.append((exc, tid))
    return out


def std_target(spec: Any, record: TaskRecord, kind: str, run_dir: str,
               autopath: Callable[..., str] | None) -> Any:
    """Turn a ``stdout=``/``stderr=`` value into a path, or ``(path, mode)``."""
    if spec is None:
        return None
    if spec is AUTO_LOGNAME:
        if autopath is not None:
            return autopath(record, kind)
        folder = os.path.join(run_dir, "task_logs", f"{record.tid // 10000:04d}")
        return os.path.join(folder, f"task_{record.tid:04d}_{record.app_name}.{kind}")
    if isinstance(spec, File):
        return spec.filepath
    if isinstance(spec, tuple):
        path, mode = spec
        return (os.fspath(path.filepath if isinstance(path, File) else path), mode)
    return os.fspath(spec)


def deferred_getitem(obj: Any, key: Any) -> Any:
    """``obj[key]``, as a task (for ``future[key]``)."""
    return obj[key]


def deferred_getattr(obj: Any, name: str) -> Any:
    """``getattr(obj, name)``, as a task (for ``future.name``)."""
    return getattr(obj, name)
