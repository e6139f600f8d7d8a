"""The monitoring store: a subscriber that writes a run's events into SQLite.

It runs on the event bus's dispatcher thread, never on a task's path: each
batch of events becomes one transaction. If the disk refuses a write (full,
read-only, gone), the store warns once and stops; tasks go on.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
import sqlite3
import sys
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ..dataflow.events import BlockEvent, Event, ResourceEvent, Subscription, TaskEvent
from .batch import Batch
from .options import workflow_name
from .schema import DB_NAME, SCHEMA, SCHEMA_VERSION

__all__ = ["MonitoringStore", "open_store"]

logger = logging.getLogger(__name__)


class MonitoringStore:
    """Writes one run's tasks, tries, transitions, blocks and resource samples to ``<run_dir>/monitoring.db``.

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
        rows = Batch(self._tasks.get)
        add_task = rows.add_task
        for ev in batch:
            if type(ev) is TaskEvent:
                add_task(ev)
            elif isinstance(ev, BlockEvent):
                rows.add_block(ev, self._provider(ev.executor))
            elif isinstance(ev, ResourceEvent):
                rows.add_resource(ev)
        try:
            with self._lock:
                if self._conn is not None:
                    rows.write(self._conn, self.run_id)
        except (sqlite3.Error, OSError) as e:
            self._degrade(e)

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
                                workflow_name(dfk.config.monitoring) or dfk.config.project_name, dfk.time_began)
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
