"""Typed events and the bus that delivers them in batches off the hot path."""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .states import TaskState

__all__ = ["BlockEvent", "Event", "EventBus", "ResourceEvent", "Subscription", "TaskEvent"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Event:
    """Base of every event: when it happened (``time.time()``).

    Events are shared by every subscriber: treat them as read-only. (They are
    not frozen dataclasses because a frozen ``__init__`` costs 3x as much, on
    the path of every task.)
    """

    time: float


@dataclass(slots=True)
class TaskEvent(Event):
    """A task moved from state ``old`` to state ``new``.

    ``try_id`` counts tries from 0; ``executor`` is the label the task was sent
    to (empty before launch); ``depends`` lists the task ids it waits on, and
    ``call`` holds the call's :class:`~parsl_nb.apps.base.CallSpec` (arguments,
    ``inputs``, ``outputs``); both are filled only on the first event of a task
    (``old is None``). ``call`` is a reference, not a copy: read it, never
    change it.
    """

    tid: int
    app: str
    old: TaskState | None
    new: TaskState
    try_id: int = 0
    executor: str = ""
    depends: tuple[int, ...] = ()
    detail: str = ""
    call: Any = None


@dataclass(slots=True)
class BlockEvent(Event):
    """A block (one provider job) of an executor changed state."""

    executor: str
    block_id: str
    job_id: str | None
    state: str
    detail: str = ""


@dataclass(slots=True)
class ResourceEvent(Event):
    """A resource sample of one engine's process tree (``MonitoringOptions.resource_interval``).

    ``tid`` is the task the engine was running (None when idle); CPU is in
    percent of one core, since the previous sample; sizes and I/O in bytes
    (I/O counters are cumulative, None where the platform has none).
    """

    tid: int | None
    executor: str
    engine: str
    block: str
    cpu_percent: float
    rss: int
    vms: int
    read_bytes: int | None
    write_bytes: int | None
    num_threads: int


_ALL_KINDS: frozenset[type[Event]] = frozenset({TaskEvent, BlockEvent, ResourceEvent})


class _Marker:
    """Queued by ``flush``; set once everything before it was delivered."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


Subscriber = Callable[[Sequence[Event]], None]


@dataclass(slots=True)
class Subscription:
    """Handle returned by :meth:`EventBus.subscribe`; call ``close()`` to stop."""

    bus: EventBus
    fn: Subscriber
    flush: Callable[[], None] | None = None
    kinds: frozenset[type[Event]] = field(default=frozenset())
    closed: bool = field(default=False)

    def close(self) -> None:
        """Stop delivering events to this subscriber."""
        self.closed = True
        self.bus._remove(self)


EAGER = 1024
"""Events queued that wake the dispatcher before its period is up.

Under load (tens of thousands of events a second) an event that waits the
whole period survives enough garbage collections to reach the oldest
generation, and full collections (which walk every live object: each task's
future and record) come more often. Delivered within ~1,000 events, it dies
young."""


class EventBus:
    """Collects events from any thread and hands them to subscribers in batches.

    Publishing appends to a deque (no lock, no I/O). A single dispatcher thread,
    started with the first subscriber, delivers what accumulated every
    ``period`` seconds, or as soon as :data:`EAGER` events wait, in publication
    order.
    """

    def __init__(self, period: float = 0.05) -> None:
        self._period = period
        self._queue: deque[Event | _Marker] = deque()
        self._markers = 0  # flushes waiting in the queue: only then does delivery look for markers
        self._marker_lock = threading.Lock()
        self._subs: list[Subscription] = []
        self._wanted: frozenset[type[Event]] = frozenset()  # the event classes some subscriber takes
        self.wants_tasks = False
        """Whether any subscriber takes :class:`TaskEvent` (else the kernel builds none)."""
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None

    def publish(self, event: Event) -> None:
        """Queue ``event`` for delivery (cheap; callable from any thread).

        Dropped at once if no subscriber takes its class.
        """
        if type(event) in self._wanted:
            queue = self._queue
            queue.append(event)
            if len(queue) == EAGER:
                self._wake.set()

    def subscribe(self, fn: Subscriber, flush: Callable[[], None] | None = None,
                  kinds: Sequence[type[Event]] | None = None) -> Subscription:
        """Call ``fn(events)`` with each batch of events from now on.

        ``flush()``, if given, is called when :meth:`flush` runs, after ``fn``
        got every event before it: a subscriber that hands events on (the
        monitoring store, to its writer process) waits there until they landed.
        ``kinds`` limits the events ``fn`` gets to those classes (default:
        task, block and resource events).
        """
        sub = Subscription(self, fn, flush, frozenset(kinds) if kinds is not None else _ALL_KINDS)
        self._subs = [*self._subs, sub]
        self._rekind()
        if self._thread is None and not self._stop:
            self._thread = threading.Thread(target=self._run, name="parsl_nb-events", daemon=True)
            self._thread.start()
        return sub

    def _remove(self, sub: Subscription) -> None:
        self._subs = [s for s in self._subs if s is not sub]
        self._rekind()

    def _rekind(self) -> None:
        wanted: frozenset[type[Event]] = frozenset().union(*(s.kinds for s in self._subs))
        self._wanted = wanted
        self.wants_tasks = TaskEvent in wanted

    def flush(self, timeout: float = 10.0) -> None:
        """Block until every event published so far has been delivered."""
        if self._thread is None or not self._thread.is_alive():
            return
        marker = _Marker()
        with self._marker_lock:
            self._markers += 1
            self._queue.append(marker)
        self._wake.set()
        marker.done.wait(timeout)

    def close(self) -> None:
        """Deliver what is queued, then stop the dispatcher thread."""
        self.flush()
        self._stop = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self._period)
            self._wake.clear()
            self._deliver()
        self._deliver()

    def _deliver(self) -> None:
        queue = self._queue
        # popleft n times, all in C: publishers may append meanwhile (to the other end)
        batch: list[Any] = list(itertools.starmap(queue.popleft, itertools.repeat((), len(queue))))
        markers: list[_Marker] = []
        if self._markers:  # a flush is waiting: take its marker out (rare, so no per-event check otherwise)
            with self._marker_lock:
                markers = [e for e in batch if type(e) is _Marker]
                self._markers -= len(markers)
            batch = [e for e in batch if type(e) is not _Marker]
        if batch:
            for sub in self._subs:
                if not sub.closed:
                    kinds = sub.kinds
                    mine = batch if kinds is _ALL_KINDS else [e for e in batch if type(e) in kinds]
                    if mine:
                        self._call(sub, mine)
        if markers:
            for sub in self._subs:
                if not sub.closed and sub.flush is not None:
                    self._call_flush(sub)
        for m in markers:
            m.done.set()

    @staticmethod
    def _call_flush(sub: Subscription) -> None:
        try:
            sub.flush()  # type: ignore[misc]
        except Exception:
            logger.exception("event subscriber %r failed to flush", sub.fn)

    @staticmethod
    def _call(sub: Subscription, batch: Sequence[Event]) -> None:
        try:
            sub.fn(batch)
        except Exception:  # a broken subscriber must not stop the others
            logger.exception("event subscriber %r failed; it keeps receiving events", sub.fn)
