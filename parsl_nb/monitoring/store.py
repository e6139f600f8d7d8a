"""The monitoring store: a subscriber that writes a run's events into SQLite.

It runs on the event bus's dispatcher thread, never on a task's path: each
batch of events becomes one transaction. If the disk refuses a write (full,
read-only, gone), the store warns once and stops; tasks go on.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import socket
import sqlite3
import sys
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..dataflow.events import BlockEvent, Event, Subscription, TaskEvent
from ..dataflow.states import FINAL_STATES, TaskState
from .schema import DB_NAME, SCHEMA, SCHEMA_VERSION

__all__ = ["MonitoringStore", "open_store"]

logger = logging.getLogger(__name__)
S = TaskState
_TRY_ENDS = frozenset({S.EXEC_DONE, S.FAILED, S.FAIL_RETRYABLE, S.CANCELLED})
_IN_TRY = frozenset({S.LAUNCHED, S.RUNNING, S.JOINING})
_COUNTERS = {S.EXEC_DONE: "tasks_completed", S.MEMO_DONE: "tasks_memo", S.FAILED: "tasks_failed",
             S.DEP_FAIL: "tasks_dep_fail", S.CANCELLED: "tasks_cancelled"}
_PREVIEW = 200


@dataclass(slots=True)
class _Rows:
    """What one batch of events writes, table by table."""

    tasks: list[tuple[Any, ...]] = field(default_factory=list)
    status: list[tuple[Any, ...]] = field(default_factory=list)
    launched: list[tuple[Any, ...]] = field(default_factory=list)
    running: list[tuple[Any, ...]] = field(default_factory=list)
    try_ends: list[tuple[Any, ...]] = field(default_factory=list)
    states: dict[int, str] = field(default_factory=dict)
    finals: list[tuple[Any, ...]] = field(default_factory=list)
    blocks: list[tuple[Any, ...]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class MonitoringStore:
    """Writes one run's tasks, tries, transitions and blocks to ``<run_dir>/monitoring.db``.

    Parameters
    ----------
    run_dir : str
        The run directory; the database is ``monitoring.db`` in it.
    run_id : str
        The kernel's run id (a UUID).
    tasks : mapping of int to TaskRecord
        The kernel's task records, read for what events do not carry (memo
        key, std streams, engine and block).
    executors : mapping of str to Executor, optional
        The kernel's executors, to name a block's provider.
    workflow_name : str, optional
        Default: the notebook's or script's name.

    Raises
    ------
    sqlite3.Error, OSError
        If the database cannot be created; :func:`open_store` turns that
        into a warning.
    """

    def __init__(self, run_dir: str, run_id: str, tasks: Mapping[int, Any],
                 executors: Mapping[str, Any] | None = None, workflow_name: str | None = None,
                 time_began: float | None = None) -> None:
        self.path = os.path.join(run_dir, DB_NAME)
        self.run_id = run_id
        self._tasks = tasks
        self._executors = executors if executors is not None else {}
        self._lock = threading.Lock()
        self._sub: Subscription | None = None
        self.error: BaseException | None = None
        self._conn: Any = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(SCHEMA)
            self._write_workflow(run_dir, workflow_name or default_workflow_name(),
                                 time_began if time_began is not None else time.time())
        except BaseException:
            self._conn.close()
            raise

    def _write_workflow(self, run_dir: str, name: str, began: float) -> None:
        from .. import __version__

        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.execute(
                "INSERT OR REPLACE INTO workflow (run_id, workflow_name, user, host, run_dir, parsl_nb_version,"
                " schema_version, time_began) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (self.run_id, name, _user(), socket.gethostname(), os.path.abspath(run_dir), __version__,
                 SCHEMA_VERSION, began))

    def attach(self, bus: Any) -> None:
        """Subscribe to ``bus`` (the kernel's :class:`~parsl_nb.dataflow.events.EventBus`)."""
        self._sub = bus.subscribe(self.write_events)

    @property
    def active(self) -> bool:
        """Whether the store still writes (False after close or a failed write)."""
        return self._conn is not None

    def write_events(self, batch: Sequence[Event]) -> None:
        """Write one batch of events in one transaction (the subscriber call)."""
        if self._conn is None:
            return
        try:
            rows = self._rows(batch)
            with self._lock:
                if self._conn is not None:
                    self._write(rows)
        except (sqlite3.Error, OSError) as e:
            self._degrade(e)

    def _rows(self, batch: Sequence[Event]) -> _Rows:
        rows = _Rows()
        for ev in batch:
            if isinstance(ev, TaskEvent):
                self._task_rows(ev, rows)
            elif isinstance(ev, BlockEvent):
                rows.blocks.append((ev.executor, ev.block_id, ev.job_id, self._provider(ev.executor),
                                    ev.state, ev.time, ev.detail or None))
        return rows

    def _task_rows(self, ev: TaskEvent, rows: _Rows) -> None:
        new, tid = ev.new, ev.tid
        rows.status.append((tid, ev.try_id, new.name, ev.time, ev.detail or None))
        rows.states[tid] = new.name
        if ev.old is None:
            rows.tasks.append(_task_row(ev))
            rows.counts["tasks_total"] = rows.counts.get("tasks_total", 0) + 1
        elif new is S.LAUNCHED:
            rows.launched.append((tid, ev.try_id, ev.executor, ev.time))
        elif new is S.RUNNING:
            rows.running.append((ev.time, tid, ev.try_id))
        if new in _TRY_ENDS and ev.old in _IN_TRY:
            record = self._tasks.get(tid)
            engine = getattr(record, "engine", None)
            block = getattr(record, "block", None)
            exc = _try_exception(record, ev) if new is not S.EXEC_DONE else None
            rows.try_ends.append((engine, block, ev.time, new.name, exc, tid, ev.try_id))
        if new in FINAL_STATES:
            rows.finals.append(self._final_row(ev))
            name = _COUNTERS[new]
            rows.counts[name] = rows.counts.get(name, 0) + 1

    def _final_row(self, ev: TaskEvent) -> tuple[Any, ...]:
        record = self._tasks.get(ev.tid)
        if record is None:
            return (None, None, None, None, 0, 0, None, ev.time, ev.tid)
        depends = ",".join(str(d) for d in record.depends)
        tries = ev.try_id + 1 if record.try_time_launched is not None else 0
        return (int(record.memoize), record.hashsum, _text(record.stdout), _text(record.stderr), tries,
                record.fail_count, depends, ev.time, ev.tid)

    def _write(self, rows: _Rows) -> None:
        c = self._conn
        c.execute("BEGIN")
        try:
            c.executemany("INSERT OR IGNORE INTO task (task_id, app, executor, depends, args, inputs, outputs,"
                          " memoize, time_invoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows.tasks)
            c.executemany("INSERT INTO status (task_id, try_id, state, time, detail) VALUES (?, ?, ?, ?, ?)",
                          rows.status)
            c.executemany("INSERT OR REPLACE INTO try (task_id, try_id, executor, time_launched) VALUES (?, ?, ?, ?)",
                          rows.launched)
            c.executemany("UPDATE try SET time_running = ? WHERE task_id = ? AND try_id = ?", rows.running)
            c.executemany("UPDATE try SET engine = ?, block = ?, time_returned = ?, state = ?, exception = ?"
                          " WHERE task_id = ? AND try_id = ?", rows.try_ends)
            c.executemany("UPDATE task SET state = ? WHERE task_id = ?",
                          [(state, tid) for tid, state in rows.states.items()])
            c.executemany("UPDATE task SET memoize = ?, hashsum = ?, stdout = ?, stderr = ?, tries = ?, fail_count = ?,"
                          " depends = ?, time_returned = ? WHERE task_id = ?", rows.finals)
            c.executemany("INSERT INTO block (executor, block_id, job_id, provider, state, time, detail)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?)", rows.blocks)
            if rows.counts:
                sets = ", ".join(f"{name} = {name} + ?" for name in rows.counts)
                c.execute(f"UPDATE workflow SET {sets} WHERE run_id = ?", (*rows.counts.values(), self.run_id))
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise

    def _provider(self, label: str) -> str | None:
        provider = getattr(self._executors.get(label), "provider", None)
        return type(provider).__name__ if provider is not None else None

    def _degrade(self, error: BaseException) -> None:
        msg = (f"monitoring stopped: cannot write {self.path} ({type(error).__name__}: {error}); "
               "tasks go on, but this run's monitoring record ends here")
        logger.warning(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
        self.error = error
        with self._lock:
            conn, self._conn = self._conn, None
        if self._sub is not None:
            self._sub.close()
        try:
            if conn is not None:
                conn.close()
        except sqlite3.Error:
            pass

    def close(self, time_completed: float | None = None) -> None:
        """Record the end of the run and close the database (call after the bus is closed)."""
        if self._sub is not None:
            self._sub.close()
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            end = time_completed if time_completed is not None else time.time()
            conn.execute("UPDATE workflow SET time_completed = ? WHERE run_id = ?", (end, self.run_id))
        except sqlite3.Error as e:
            logger.warning("monitoring: could not record the end of run %s: %s", self.run_id, e)
        finally:
            conn.close()


def open_store(dfk: Any) -> MonitoringStore | None:
    """The store for a kernel as its Config asks (None with ``monitoring=False``), subscribed.

    A run directory where the database cannot be made gives a warning and no
    store, never an error.
    """
    if dfk.config.monitoring is False:
        return None
    try:
        store = MonitoringStore(dfk.run_dir, dfk.run_id, dfk.tasks, dfk.executors,
                                dfk.config.project_name, dfk.time_began)
    except (sqlite3.Error, OSError) as e:
        msg = f"monitoring is off for this run: cannot create {os.path.join(dfk.run_dir, DB_NAME)} ({e})"
        logger.warning(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
        return None
    store.attach(dfk.events)
    return store


def default_workflow_name() -> str:
    """The notebook's name under Jupyter, else the script's name, else ``'python'``."""
    session = os.environ.get("JPY_SESSION_NAME")
    if session:
        return os.path.basename(session)
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if script and script not in ("-c", "-m", "ipykernel_launcher.py"):
        return script
    return "python"


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def _task_row(ev: TaskEvent) -> tuple[Any, ...]:
    call = ev.call
    depends = ",".join(str(d) for d in ev.depends)
    if call is None:
        return (ev.tid, ev.app, ev.executor, depends, None, None, None, None, ev.time)
    args = _preview(call.args, call.kwargs)
    inputs = json.dumps([_text(x) if hasattr(x, "url") else _short(x) for x in call.inputs]) if call.inputs else None
    outputs = json.dumps([_text(x) for x in call.outputs]) if call.outputs else None
    return (ev.tid, ev.app, ev.executor, depends, args, inputs, outputs, None, ev.time)


def _try_exception(record: Any, ev: TaskEvent) -> str | None:
    """``'Type: message'`` of a failed try (the kernel's failure history), else the event's detail."""
    history = getattr(record, "fail_history", None)
    if ev.new is not S.CANCELLED and history and len(history) > ev.try_id:
        return str(history[ev.try_id])
    return ev.detail or None


def _preview(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items() if k != "inputs"]
    text = ", ".join(parts)
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 3] + "..."


def _short(value: Any) -> str:
    try:
        tid = getattr(value, "tid", None)
        if tid is not None and hasattr(value, "task_record"):
            return f"<task {tid}>"
        text = repr(value)
    except Exception:  # a repr that raises must not stop monitoring
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _PREVIEW else text[:60] + "..."


def _text(value: Any) -> str | None:
    if value is None:
        return None
    url = getattr(value, "url", None)
    if isinstance(url, str):
        return url
    filepath = getattr(value, "filepath", None)
    if isinstance(filepath, str):
        return filepath
    if isinstance(value, tuple):
        return str(value[0])
    return str(value)
