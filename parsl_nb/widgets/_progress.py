"""Progress bars per app, and a single future resolving live."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import traitlets

from ..dataflow.states import FINAL_STATES, TaskState
from ..jupyter.reprs import STATE_COLORS, future_html, outcome
from ._live import LiveWidget
from ._model import BUCKETS, bucket_of
from ._static import progress_html
from ._sync import AfterCleanup, Ticker, check_hz, kernel_and_tids, watch_tasks

__all__ = ["FutureWidget", "ProgressWidget", "ProgressCounter"]

_STATIC = Path(__file__).parent / "static"


class ProgressCounter:
    """Per-app counts of pending, running, done and failed tasks, kept up to date from the task records."""

    def __init__(self, include: set[int] | None = None) -> None:
        self.include = include
        self.state: dict[int, int] = {}
        self.app: dict[int, str] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self.version = 0
        self.lock = threading.Lock()

    def _move(self, tid: int, app: str, state: int) -> None:
        if self.include is not None and tid not in self.include:
            return
        old = self.state.get(tid)
        if old is not None and TaskState(old) in FINAL_STATES:
            return
        c = self.counts.setdefault(app, dict.fromkeys(BUCKETS, 0))
        if old is not None:
            c[bucket_of(old)] -= 1
        c[bucket_of(state)] += 1
        self.state[tid], self.app[tid] = state, app
        self.version += 1

    def add_records(self, records: Sequence[Any]) -> None:
        """Count existing tasks (the kernel's task records)."""
        with self.lock:
            for r in records:
                self._move(r.tid, r.app_name, int(r.status))

    def follow(self, rows: Sequence[tuple[int, str, tuple[int, ...], int]],
               changes: Sequence[tuple[int, int | None, int]]) -> None:
        """Count what a TaskWatch poll gives: new tasks as ``(tid, app, depends, state)``, and ``(tid, old, new)``."""
        with self.lock:
            for tid, app, _, state in rows:
                self._move(tid, app, state)
            for tid, _, state in changes:
                known = self.app.get(tid)
                if known is not None:
                    self._move(tid, known, state)

    def snapshot(self) -> dict[str, dict[str, int]]:
        """A copy of the counts."""
        with self.lock:
            return {a: dict(c) for a, c in self.counts.items()}


class ProgressWidget(LiveWidget):
    """One bar per app (done, failed, running, pending) and one overall, updated live.

    Parameters
    ----------
    source : DataFlowKernel, AppFuture or list of futures, optional
        The loaded kernel (default), another kernel, or the tasks behind these futures.
    hz : float
        Most updates per second.

    Examples
    --------
    >>> from parsl_nb.widgets import ProgressWidget   # doctest: +SKIP
    >>> ProgressWidget()
    """

    _esm = _STATIC / "progress.js"
    counts = traitlets.Dict({}).tag(sync=True)

    def __init__(self, source: Any = None, *, hz: float = 10.0, **kwargs: Any) -> None:
        check_hz(hz)  # before the kernel is followed
        kernel, tids = kernel_and_tids(source)
        self.counter = ProgressCounter(tids)
        super().__init__(**kwargs)
        self._kernel = kernel
        self._subscription = watch_tasks(kernel, tids)  # reads the records at each tick; None for a past run
        if self._subscription is None:
            self.counter.add_records(list(kernel.tasks.values()))
        else:
            self.counter.follow(*self._subscription.poll())
        self.counts = self.counter.snapshot()
        self._sent = self.counter.version
        self._ticker = Ticker(self._tick, 1.0 / hz, done=AfterCleanup(kernel))

    def _tick(self) -> None:
        if self._subscription is not None:
            self.counter.follow(*self._subscription.poll())
        if self.counter.version != self._sent:
            self._sent = self.counter.version
            self.counts = self.counter.snapshot()

    def to_html(self) -> str:
        """Static HTML of the current counts (what a saved notebook shows)."""
        return progress_html(self.counter.snapshot())


class FutureWidget(LiveWidget):
    """A single AppFuture, resolving live: state badge, then result or exception.

    Parameters
    ----------
    future : AppFuture
        The future to follow.

    Examples
    --------
    >>> FutureWidget(square(3))   # doctest: +SKIP
    """

    _esm = _STATIC / "future.js"
    tid = traitlets.Int(-1).tag(sync=True)
    app = traitlets.Unicode("").tag(sync=True)
    state = traitlets.Unicode("").tag(sync=True)
    color = traitlets.Unicode("#9e9e9e").tag(sync=True)
    outcome = traitlets.Unicode("").tag(sync=True)

    def __init__(self, future: Any, **kwargs: Any) -> None:
        record = getattr(future, "task_record", None)
        if record is None:
            raise TypeError(f"FutureWidget follows an AppFuture; got {type(future).__name__}: {future!r}")
        super().__init__(tid=record.tid, app=record.app_name, **kwargs)
        self.future = future
        self._refresh()
        self._ticker = Ticker(self._refresh, 0.1, done=lambda: future.done() and self.state in _FINAL_LABELS)

    def _refresh(self) -> None:
        rec = self.future.task_record
        with self.hold_sync():
            self.state, self.color = rec.status.label, STATE_COLORS[rec.status]
            self.outcome = outcome(self.future) if self.future.done() else f"{time.time() - rec.time_invoked:.1f} s"

    def to_html(self) -> str:
        """Static HTML of the future (what a saved notebook shows)."""
        return future_html(self.future)


_FINAL_LABELS = frozenset(s.label for s in FINAL_STATES)
