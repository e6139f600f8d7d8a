"""Small pieces the kernel uses to launch tasks: countdowns, failures, std paths."""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from ..apps.base import AUTO_LOGNAME
from ..data.files import File
from ..futures import AppFuture, DataFuture
from .taskrecord import TaskRecord

__all__ = ["AUTO_LOGNAME", "Countdown", "deferred_getattr", "deferred_getitem", "failures_of", "run_flat", "std_target"]

logger = logging.getLogger(__name__)
_flat = threading.local()


def run_flat(fn: Callable[[], None]) -> None:
    """Run ``fn`` now, or after the ``run_flat`` call already running on this thread.

    Ending a task runs its dependants' callbacks, which may end them at once
    (a dependency failure, a memo hit), and so on down the graph. Queueing
    the nested calls keeps a chain of any length at constant stack depth.
    """
    queue: deque[Callable[[], None]] | None = getattr(_flat, "queue", None)
    if queue is not None:
        queue.append(fn)
        return
    queue = _flat.queue = deque([fn])
    try:
        while queue:
            step = queue.popleft()
            try:
                step()
            except Exception:  # one broken callback must not strand the tasks queued after it
                logger.exception("task callback %r failed", step)
    finally:
        _flat.queue = None


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
            run_flat(self._then)


def failures_of(futures: Sequence[Future[Any]]) -> list[tuple[BaseException, str]]:
    """``(exception, description)`` for each failed or cancelled future, as Parsl describes them.

    The description is ``"task 3"`` for a task's future, ``"DataFuture from
    task 3"`` for a file it makes, and the ``repr`` of any other future.
    """
    out: list[tuple[BaseException, str]] = []
    for f in futures:
        if f.cancelled():
            from concurrent.futures import CancelledError

            out.append((CancelledError(f"{_describe(f)} was cancelled"), _describe(f)))
        else:
            exc = f.exception()
            if exc is not None:
                out.append((exc, _describe(f)))
    return out


def _describe(f: Future[Any]) -> str:
    if isinstance(f, AppFuture):
        return f"task {f.tid}"
    if isinstance(f, DataFuture):
        return f"DataFuture from task {f.tid}"
    return repr(f)


def std_target(spec: Any, record: TaskRecord, kind: str, run_dir: str,
               autopath: Callable[..., str] | None) -> Any:
    """Turn a ``stdout=``/``stderr=`` value into a path, or ``(path, mode)``."""
    if spec is None:
        return None
    if spec is AUTO_LOGNAME:
        if autopath is not None:
            return autopath(record, kind)
        # as in Parsl: a ``label=`` argument of the call is part of the name
        label = record.kwargs.get("label")
        suffix = "" if label is None else f"_{label}"
        folder = os.path.join(run_dir, "task_logs", f"{record.tid // 10000:04d}")
        return os.path.join(folder, f"task_{record.tid:04d}_{record.app_name}{suffix}.{kind}")
    if isinstance(spec, File):
        return spec.filepath
    if isinstance(spec, tuple):
        path, mode = spec
        return (os.fspath(path.filepath if isinstance(path, File) else path), mode)
    return os.fspath(spec)


def deferred_getitem(obj: Any, key: Any) -> Any:
    """``obj[key]``, as a task (for ``future[key]``)."""
    try:
        return obj[key]
    except (TypeError, KeyError, IndexError) as e:
        msg = (f"future[{key!r}]: the task's result is {type(obj).__name__} {_short(obj)}, which has no item "
               f"{key!r} ({type(e).__name__}: {e}); index only futures whose result is a list, tuple or dict")
        raise type(e)(msg) from e


def deferred_getattr(obj: Any, name: str) -> Any:
    """``getattr(obj, name)``, as a task (for ``future.name``)."""
    try:
        return getattr(obj, name)
    except AttributeError as e:
        msg = (f"future.{name}: the task's result is {type(obj).__name__} {_short(obj)}, which has no "
               f"attribute {name!r}; check the name, or call .result() and inspect the value")
        raise AttributeError(msg) from e


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
