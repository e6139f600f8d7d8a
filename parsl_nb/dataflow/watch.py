"""Following the task records from one thread, with no event per transition.

Every task record keeps its own state (the single owner of it), so a reader
that only needs to know what changed (the monitoring store's scanner, the
widgets) does not need a copy of each transition. It needs three things:
which records are new (:class:`NewTasks`), which tasks ended (the kernel's
:class:`Hooks`, called with a task's id as it becomes final), and, for the
few tasks still going, their state now (:class:`TaskWatch` reads it).
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from .states import FINAL_STATES

__all__ = ["Change", "Hooks", "NewTasks", "TaskWatch"]

_FINAL_CODES = frozenset(int(state) for state in FINAL_STATES)


class Hooks:
    """Callables the kernel calls with a task's id; added and removed from any thread, even mid-call.

    The kernel iterates :attr:`fns`, a tuple replaced (never changed) on each
    ``append`` or ``remove``, so a hook added or removed while a task ends
    never makes the kernel skip another hook.
    """

    __slots__ = ("_lock", "fns")

    def __init__(self) -> None:
        self.fns: tuple[Callable[[int], None], ...] = ()
        self._lock = threading.Lock()

    def append(self, fn: Callable[[int], None]) -> None:
        """Call ``fn(tid)`` from now on."""
        with self._lock:
            self.fns = (*self.fns, fn)

    def remove(self, fn: Callable[[int], None]) -> None:
        """Stop calling ``fn`` (no error if it was not there)."""
        with self._lock:
            fns = list(self.fns)
            if fn in fns:
                fns.remove(fn)
                self.fns = tuple(fns)

    def __iter__(self) -> Iterator[Callable[[int], None]]:
        return iter(self.fns)

    def __len__(self) -> int:
        return len(self.fns)

    def __contains__(self, fn: object) -> bool:
        return fn in self.fns


class NewTasks:
    """Finds the records added to a kernel's ``tasks`` since the last look (one thread).

    Task ids count up from 0 and the mapping only grows, but ids are taken
    before their record is added, so a submit on another thread may leave a
    gap for a moment: such ids are looked for again next time.

    Parameters
    ----------
    tasks : mapping of int to TaskRecord
        The kernel's records by task id.
    """

    def __init__(self, tasks: Mapping[int, Any]) -> None:
        self._tasks = tasks
        self._next = 0  # the lowest task id not looked for yet
        self._seen = 0  # records found so far
        self._missing: set[int] = set()  # ids looked for and absent (a submit in flight, or one that failed)

    def take(self, upto: int = -1) -> list[int]:
        """The ids of the records added since the last call, at least up to id ``upto`` where they exist."""
        tasks = self._tasks
        count = len(tasks)  # first: records added after this are for the next call
        found = [tid for tid in self._missing if tid in tasks]
        self._missing.difference_update(found)
        seen, tid = self._seen + len(found), self._next
        # up to the count, an id known to exist, and on while ids follow (a submit on another thread may
        # land while this walks)
        while seen < count or tid <= upto or tid in tasks:
            if tid in tasks:
                found.append(tid)
                seen += 1
            else:
                self._missing.add(tid)
            tid += 1
        self._seen, self._next = seen, tid
        return found

    def unknown(self, tid: int) -> bool:
        """Whether ``tid`` was not found yet (not looked for, or looked for and absent)."""
        return tid >= self._next or tid in self._missing


class Change(NamedTuple):
    """A task whose state differs from the last one reported (``old`` is None for a new task)."""

    tid: int
    old: int | None
    new: int


class TaskWatch:
    """What changed in a kernel's tasks since the last :meth:`poll`: new tasks, and states that moved.

    A task is reported when it first appears, and again whenever a poll sees
    its state differ from the one reported, so states a task passed through
    between two polls are not reported (a widget shows the state now, not
    every step). Tasks that end are known from the kernel's final hooks, so a
    short task costs one lookup; at most ``poll_limit`` tasks still going are
    read per poll (in turn), which bounds a poll's cost when tens of
    thousands are queued.

    Parameters
    ----------
    kernel : DataFlowKernel
        Its ``tasks`` and ``final_hooks``.
    include : set of int, optional
        Only these task ids (default: every task).
    poll_limit : int
        Most tasks still going read per poll.
    """

    def __init__(self, kernel: Any, include: set[int] | None = None, poll_limit: int = 4096) -> None:
        self._tasks: Mapping[int, Any] = kernel.tasks
        self._hooks: Hooks = kernel.final_hooks
        self.include = include
        self.poll_limit = poll_limit
        self._finals: deque[int] = deque()
        self._new = NewTasks(self._tasks)
        self._open: dict[int, int] = {}  # id -> last state reported, of tasks not final
        self._hooks.append(self._finals.append)

    def close(self) -> None:
        """Stop taking the kernel's final hook."""
        self._hooks.remove(self._finals.append)

    @property
    def open_tasks(self) -> int:
        """Tasks reported and not final yet."""
        return len(self._open)

    def poll(self) -> tuple[list[tuple[int, str, tuple[int, ...], int]], list[Change]]:
        """New tasks as ``(tid, app, depends, state)`` in id order, and the changes of known ones."""
        finals = self._finals
        ended = list(itertools.starmap(finals.popleft, itertools.repeat((), len(finals))))  # before take()
        tasks, include, open_ = self._tasks, self.include, self._open
        rows: list[tuple[int, str, tuple[int, ...], int]] = []
        for tid in sorted(self._new.take(max(ended, default=-1))):
            if include is not None and tid not in include:
                continue
            record = tasks[tid]
            state = int(record.status)
            rows.append((tid, record.app_name, tuple(record.depends), state))
            if state not in _FINAL_CODES:
                open_[tid] = state
        changes: list[Change] = []
        for tid in ended:
            old = open_.pop(tid, None)
            if old is not None:
                changes.append(Change(tid, old, int(tasks[tid].status)))
            elif self._new.unknown(tid):
                finals.append(tid)  # its record was added after this poll looked: next time
        self._read_open(changes)
        return rows, changes

    def _read_open(self, changes: list[Change]) -> None:
        """Read up to ``poll_limit`` open tasks, the ones read longest ago first (each goes to the back)."""
        open_, tasks = self._open, self._tasks
        for tid, old in list(itertools.islice(open_.items(), self.poll_limit)):
            state = int(tasks[tid].status)
            del open_[tid]
            if state != old:
                changes.append(Change(tid, old, state))
            if state not in _FINAL_CODES:
                open_[tid] = state  # to the back of the turn
