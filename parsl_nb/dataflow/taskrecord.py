"""The task record: one per task, the single owner of that task's state."""

from __future__ import annotations

import struct
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .states import BY_CODE, FINAL_STATES, TaskState, allowed

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ..futures import AppFuture

__all__ = ["InvalidTransition", "TaskRecord"]


class InvalidTransition(RuntimeError):
    """A state change that the transition table forbids (a bug, never user input)."""


# Parsl's dictionary keys, mapped onto attributes, for retry handlers and
# scripts written against Parsl's TaskRecord.
_PARSL_KEYS = {
    "id": "tid",
    "status": "status",
    "func_name": "app_name",
    "fail_count": "fail_count",
    "fail_cost": "fail_cost",
    "fail_history": "fail_history",
    "try_id": "try_id",
    "executor": "executor",
    "depends": "depends",
    "kwargs": "kwargs",
    "args": "args",
    "func": "func",
    "memoize": "memoize",
    "hashsum": "hashsum",
    "join": "join",
    "time_invoked": "time_invoked",
    "time_returned": "time_returned",
    "try_time_launched": "try_time_launched",
    "try_time_returned": "try_time_returned",
    "resource_specification": "resource_specification",
    "app_fu": "app_fu",
    "dfk": "dfk",
}


_PACKING = struct.Struct("<Bd")  # a released record's history: (state code, time) pairs
HISTORY_ENTRY = _PACKING.size
"""Bytes of one packed history entry; its first byte is the state's code."""


def pack_history(history: list[tuple[TaskState, float]]) -> bytes:
    """A state history as bytes: 9 per transition instead of a tuple of enum and float."""
    return b"".join(_PACKING.pack(int(state), t) for state, t in history)


def unpack_history(packed: bytes) -> list[tuple[TaskState, float]]:
    """The history :func:`pack_history` packed."""
    return [(BY_CODE[code], t) for code, t in _PACKING.iter_unpack(packed)]


_NO_KWARGS: dict[str, Any] = {}  # released records share it; never written to
_RELEASED_LOCK = threading.Lock()


class TaskRecord:
    """Everything the kernel knows about one task.

    Only :meth:`transition` changes ``status``; it checks the change against
    the transition table and appends to ``history``. Parsl-style item access
    (``record['status']``, ``record['fail_count']``) is supported for retry
    handlers written against Parsl.
    """

    __slots__ = (
        "tid", "app_name", "func", "args", "kwargs", "executor", "executors",
        "depends", "status", "_history", "try_id", "fail_count", "fail_cost",
        "fail_history", "time_invoked", "time_returned", "try_time_launched",
        "try_time_returned", "memoize", "hashsum", "ignore_for_cache", "join",
        "resource_specification", "_fut", "_fut_ref", "exec_fu", "dfk", "walltime",
        "stdout", "stderr", "engine", "block", "description", "_lock", "call", "notes", "past_places",
        "__weakref__",
    )

    def __init__(self, tid: int, app_name: str, func: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any], executors: list[str] | str) -> None:
        now = time.time()
        self.tid = tid
        self.app_name = app_name
        self.func: Callable[..., Any] | None = func
        self.args: tuple[Any, ...] = args
        self.kwargs: dict[str, Any] = kwargs
        self.executors = executors
        self.executor = ""
        self.depends: list[int] = []
        self.status = TaskState.UNSCHED
        self._history: list[tuple[TaskState, float]] | bytes = [(TaskState.UNSCHED, now)]
        self.try_id = 0
        self.fail_count = 0
        self.fail_cost = 0.0
        self.fail_history: list[str] = []
        self.time_invoked = now
        self.time_returned: float | None = None
        self.try_time_launched: float | None = None
        self.try_time_returned: float | None = None
        self.memoize = False
        self.hashsum: str | None = None
        self.ignore_for_cache: list[str] = []
        self.join = False
        self.resource_specification: dict[str, Any] = {}
        self._fut: AppFuture[Any] | None = None
        self._fut_ref: weakref.ref[AppFuture[Any]] | None = None
        self.exec_fu: Future[Any] | None = None
        self.dfk: Any = None
        self.walltime: float | None = None
        self.stdout: Any = None
        self.stderr: Any = None
        self.engine: str | None = None
        self.block: str | None = None
        self.description = ""
        self._lock = threading.Lock()
        self.call: Any = None  # (args, kwargs, inputs, outputs) as called, until the monitoring store read them
        self.notes: dict[int, str] | None = None  # history index -> why (failures, cancels, memo hits)
        self.past_places: list[tuple[str | None, str | None]] | None = None  # (engine, block) of earlier tries

    def transition(self, new: TaskState, now: float | None = None,
                   expect: tuple[TaskState, ...] | None = None, detail: str = "") -> TaskState | None:
        """Move to ``new``; return the old state, or None if it did not move.

        A task that is already final stays final (a late executor result for
        a cancelled task is dropped), and with ``expect`` the move happens only
        from one of those states: both return None instead of raising.
        ``detail`` (why: an exception, a cancel, a memo hit) is kept in
        :attr:`notes` under the new history entry's index.
        """
        with self._lock:
            old = self.status
            if old in FINAL_STATES or (expect is not None and old not in expect):
                return None
            if not allowed(old, new):
                raise InvalidTransition(f"task {self.tid}: {old.name} -> {new.name} is not allowed")
            self.status = new
            history: list[tuple[TaskState, float]] = self._history  # type: ignore[assignment]
            if detail:  # before the entry: a reader on another thread that sees the entry sees its note
                if self.notes is None:
                    self.notes = {}
                self.notes[len(history)] = detail
            history.append((new, now if now is not None else time.time()))
        return old

    def next_try(self) -> None:
        """Start the next try: remember where this one ran, forget its placement."""
        if self.past_places is None:
            self.past_places = []
        self.past_places.append((self.engine, self.block))
        self.engine = self.block = None
        self.try_id += 1

    def history_since(self, start: int) -> tuple[bytes, int]:
        """The history entries from index ``start`` on, packed, and the history's length now.

        For a reader on another thread (the monitoring store): one consistent
        read, whether the record is live or released.
        """
        history = self._history
        if isinstance(history, bytes):
            return history[start * HISTORY_ENTRY:], len(history) // HISTORY_ENTRY
        n = len(history)
        return pack_history(history[start:n]), n

    @property
    def history(self) -> list[tuple[TaskState, float]]:
        """Every state the task was in, with the time it entered it, oldest first."""
        history = self._history
        return unpack_history(history) if isinstance(history, bytes) else history

    @property
    def final(self) -> bool:
        """Whether the task reached a final state."""
        return self.status in FINAL_STATES

    @property
    def app_fu(self) -> AppFuture[Any] | None:
        """The task's future (after release, only while the caller still holds it)."""
        if self._fut is not None:
            return self._fut
        return self._fut_ref() if self._fut_ref is not None else None

    @app_fu.setter
    def app_fu(self, fut: AppFuture[Any] | None) -> None:
        self._fut = fut
        self._fut_ref = None

    def release(self) -> None:
        """Drop what a finished task no longer needs.

        The function, arguments and executor future go; the AppFuture is kept
        only weakly, so a result the caller has dropped is freed with it.
        """
        self.func = None
        self.args = ()
        self.kwargs = _NO_KWARGS
        self.exec_fu = None
        # A finished task's history no longer grows: ~80 bytes packed instead of
        # ~500 as tuples of enum and float (a notebook keeps every record).
        history = self._history
        if not isinstance(history, bytes):
            self._history = pack_history(history)
        self._lock = _RELEASED_LOCK  # final: transition() only reads the state under it now
        if self._fut is not None:
            self._fut_ref = weakref.ref(self._fut)
            self._fut = None

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, _PARSL_KEYS[key])
        except KeyError:
            raise KeyError(f"task record has no key {key!r}; known keys: {sorted(_PARSL_KEYS)}") from None

    def get(self, key: str, default: Any = None) -> Any:
        """Parsl-style ``record.get(key, default)``."""
        try:
            return self[key]
        except KeyError:
            return default

    def __repr__(self) -> str:
        return f"<TaskRecord {self.tid} {self.app_name} {self.status.name}>"
