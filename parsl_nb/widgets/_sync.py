"""Batching: turn a stream of kernel events into at most ``hz`` widget messages per second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..dataflow.watch import TaskWatch
from ._model import GraphModel

__all__ = ["AfterCleanup", "Syncer", "Ticker", "check_hz", "kernel_and_tids", "watch_tasks"]

Send = Callable[[dict[str, Any], list[bytes]], None]


def check_hz(hz: float) -> float:
    """``hz`` if it is a usable update rate, else a ValueError that says the range."""
    if not 0 < hz <= 60:
        raise ValueError(f"hz must be in (0, 60] updates per second (got {hz})")
    return hz


class Syncer:
    """Sends the model's patches at most ``hz`` times a second, and snapshots on request.

    ``tick(now)`` is called by a :class:`Ticker` (or by tests, with a fake
    clock). A patch goes out when something changed and ``1/hz`` seconds
    passed since the previous message; ``keyframe(snapshot)`` is called
    every ``keyframe_every`` seconds (longer above 5,000 nodes) while the graph changes, so a front end
    that lost messages (a page reload) catches up even while the notebook is
    busy and cannot answer its resync request.
    """

    def __init__(self, model: GraphModel, send: Send, hz: float = 15.0, keyframe_every: float = 3.0,
                 keyframe: Callable[[bytes], None] | None = None) -> None:
        check_hz(hz)
        self.model = model
        self.send = send
        self.interval = 1.0 / hz
        self.keyframe_every = keyframe_every
        self.keyframe = keyframe
        self.sent = 0
        self._last = float("-inf")
        self._last_key = float("-inf")
        self._key_seq = -1
        self._lock = threading.Lock()

    def tick(self, now: float | None = None) -> bool:
        """Send one patch if one is due; return whether a message went out."""
        now = time.monotonic() if now is None else now
        if now - self._last < self.interval:
            return False
        with self._lock:
            patch = self.model.take_patch()
            if patch is not None:
                self.send({"type": "patch", "seq": self.model.seq}, [patch])
                self.sent += 1
                self._last = now
            every = self.keyframe_every * max(1.0, len(self.model) / 5000)  # ~15 bytes a node: rarer when big
            if self.keyframe is not None and now - self._last_key >= every and self.model.seq != self._key_seq:
                self._last_key, self._key_seq = now, self.model.seq
                self.keyframe(self.model.snapshot())
        return patch is not None

    def resync(self) -> None:
        """Send a full snapshot (the browser saw a gap in the sequence numbers)."""
        with self._lock:
            snap = self.model.snapshot()
            self.send({"type": "snapshot", "seq": self.model.seq}, [snap])
            self.sent += 1


class Ticker:
    """A daemon thread calling ``fn()`` every ``interval`` seconds until ``stop()`` or ``done()``."""

    def __init__(self, fn: Callable[[], Any], interval: float, done: Callable[[], bool] = lambda: False,
                 name: str = "parsl_nb-widget-sync") -> None:
        self._fn = fn
        self._interval = interval
        self._done = done
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            finished = self._done()
            try:
                self._fn()
            except Exception:  # a display problem must never reach the workflow
                import logging

                logging.getLogger(__name__).exception("widget sync failed")
            if finished:
                return

    def stop(self) -> None:
        """Stop ticking (the thread ends within one interval)."""
        self._stop.set()

    @property
    def alive(self) -> bool:
        """Whether the thread still runs."""
        return self._thread.is_alive()


class AfterCleanup:
    """A ticker's ``done``: true a second after the kernel's cleanup has ended, so its tasks' last states go out.

    Cleanup waits for running tasks and then cancels the rest, so the grace
    starts once it is over (``time_completed`` set); a cleanup that failed half
    way counts as over after ``limit`` seconds.
    """

    def __init__(self, kernel: Any, grace: float = 1.0, limit: float = 600.0) -> None:
        self._kernel = kernel
        self._grace = grace
        self._limit = limit
        self._began: float | None = None
        self._ended: float | None = None

    def __call__(self) -> bool:
        kernel = self._kernel
        if not kernel.cleanup_called:
            return False
        now = time.monotonic()
        if self._began is None:
            self._began = now
        if self._ended is None and (getattr(kernel, "time_completed", 0) is not None
                                    or now - self._began > self._limit):
            self._ended = now
        return self._ended is not None and now - self._ended > self._grace


def watch_tasks(kernel: Any, tids: set[int] | None) -> TaskWatch | None:
    """A TaskWatch on a live kernel's tasks (``tids``: only those); None for a past run (it never changes)."""
    final_hooks = getattr(kernel, "final_hooks", None)
    return None if final_hooks is None else TaskWatch(kernel, tids)


def kernel_and_tids(source: Any = None) -> tuple[Any, set[int] | None]:
    """The kernel to watch and the task ids to show (None: all) for a widget's ``source``.

    ``source`` is None (the loaded kernel), a DataFlowKernel, a future or a
    list of futures; futures bring the tasks they depend on, transitively. A
    past run (a :class:`~parsl_nb.monitoring.Run`, its directory or its
    number) gives a :class:`~parsl_nb.monitoring.past.PastRun` read from the
    monitoring store instead of a kernel.
    """
    from ..dataflow.kernel import DataFlowKernel
    from ..dataflow.loader import dfk as loaded
    from ..monitoring.past import PastRun, as_run

    if source is None:
        return loaded(), None
    if isinstance(source, (DataFlowKernel, PastRun)):
        return source, None
    run = as_run(source)
    if run is not None:
        return PastRun(run), None
    futures = list(source) if isinstance(source, (list, tuple, set)) else [source]
    records = [getattr(f, "task_record", None) or getattr(getattr(f, "parent", None), "task_record", None)
               for f in futures]
    if not futures or any(r is None for r in records):
        raise TypeError(f"expected a DataFlowKernel, an AppFuture or DataFuture, or a list of them; got {source!r}")
    kernel = records[0].dfk  # type: ignore[union-attr]
    tids: set[int] = set()
    stack = [r.tid for r in records]  # type: ignore[union-attr]
    while stack:
        tid = stack.pop()
        if tid in tids:
            continue
        tids.add(tid)
        rec = kernel.tasks.get(tid)
        if rec is not None:
            stack.extend(rec.depends)
    return kernel, tids
