"""The monitoring store: feeds a run's task records and block events to a writer process.

A task's path only tells the store when the task ends (the kernel's
``final_hooks``). About once a second (:data:`PERIOD`), and
whenever ``dfk.events.flush()`` or the end of the run asks, a sender thread
reads the task records that changed (:class:`~parsl_nb.monitoring.feed.TaskScanner`)
and pipes them, compactly encoded, to :mod:`~parsl_nb.monitoring.writer`, a
child process that builds the rows and writes ``monitoring.db``, a
transaction per feed, on a core the kernel is not using. Block and resource
events come from the event bus. If the disk refuses a write (full,
read-only, gone) or the writer dies, the store warns once and stops; tasks
go on.
"""

from __future__ import annotations

import getpass
import itertools
import logging
import marshal
import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..dataflow.events import BlockEvent, Event, ResourceEvent, Subscription
from ..dataflow.watch import Hooks
from .feed import TaskScanner, encode_events
from .options import workflow_name
from .schema import DB_NAME
from .writer import CLOSE, EVENTS, HEADER, SYNC, create_store

__all__ = ["MonitoringStore", "open_store"]

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT = 120.0  # s for the writer to catch up and close at the end of a run
SYNC_TIMEOUT = 10.0
_WRITER_MAIN = "import sys; from parsl_nb.monitoring.writer import main; sys.exit(main())"
PERIOD = 1.0
"""Seconds between scans of the task records, when the run is quiet."""
BUSY = 0.2
"""A task added or ended within this many seconds makes the run busy: the scan waits."""
MAX_WAIT = 5.0
"""Seconds a scan may wait for a busy run to pause: the record lags the run by this much at most."""


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
    time_began : float, optional
        Default: now.

    Raises
    ------
    sqlite3.Error, OSError
        If the database cannot be created or the writer process cannot start;
        :func:`open_store` turns that into a warning.
    """

    def __init__(self, run_dir: str, run_id: str, tasks: Mapping[int, Any],
                 executors: Mapping[str, Any] | None = None, workflow_name: str | None = None,
                 time_began: float | None = None) -> None:
        self.path = os.path.join(run_dir, DB_NAME)
        self.run_id = run_id
        self._tasks = tasks
        self._scanner = TaskScanner(tasks)
        self._executors = executors if executors is not None else {}
        self._sub: Subscription | None = None
        self._hooks = Hooks()  # the kernel's, once attached
        self.error: BaseException | None = None
        self._active = True
        create_store(self.path, run_id, workflow_name or default_workflow_name(), _user(), os.path.abspath(run_dir),
                     time_began if time_began is not None else time.time())
        self._proc = subprocess.Popen(
            # -c rather than -m: the package imports the module first, and runpy would warn about it
            [sys.executable, "-c", _WRITER_MAIN, self.path, run_id],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)  # a notebook interrupt (sent to the kernel's group) is not for it
        self._outbox: queue.SimpleQueue[tuple[bytes, bytes] | None] = queue.SimpleQueue()
        self._syncs = itertools.count(1)
        self._synced = 0
        self._said: deque[str] = deque(maxlen=20)  # what the writer printed besides the protocol
        self._cv = threading.Condition()
        self._sender = threading.Thread(target=self._send_loop, name="parsl_nb-monitoring-send", daemon=True)
        self._reader = threading.Thread(target=self._read_loop, name="parsl_nb-monitoring-read", daemon=True)
        self._sender.start()
        self._reader.start()

    def attach(self, bus: Any, final_hooks: Hooks) -> None:
        """Take block and resource events from ``bus``, and the ids of tasks as they end from ``final_hooks``.

        Parameters
        ----------
        bus : EventBus
            The kernel's :class:`~parsl_nb.dataflow.events.EventBus`.
        final_hooks : Hooks
            The kernel's ``final_hooks``: the store adds its hook, and
            removes it when it stops.
        """
        self._sub = bus.subscribe(self.write_events, flush=self.sync, kinds=(BlockEvent, ResourceEvent))
        self._hooks = final_hooks
        final_hooks.append(self._scanner.task_finished)

    def _detach(self) -> None:
        if self._sub is not None:
            self._sub.close()
        self._hooks.remove(self._scanner.task_finished)

    @property
    def active(self) -> bool:
        """Whether the store still writes (False after close or a failed write)."""
        return self._active

    @property
    def pid(self) -> int:
        """The writer process's pid."""
        return self._proc.pid

    def write_events(self, batch: Sequence[Event]) -> None:
        """Queue one batch of block and resource events for the writer (the subscriber call)."""
        if self._active:
            feed = encode_events(batch, self._tasks.get, self._provider)
            if feed:
                self._post(EVENTS, feed)

    def sync(self, timeout: float = SYNC_TIMEOUT) -> None:
        """Wait until the writer has written every task change and event so far (``dfk.events.flush()`` calls it)."""
        if not self._active:
            return
        n = next(self._syncs)
        self._post(SYNC, str(n).encode())
        with self._cv:
            self._cv.wait_for(lambda: self._synced >= n or not self._active, timeout)

    def _post(self, kind: bytes, payload: bytes) -> None:
        self._outbox.put((kind, payload))

    def _provider(self, label: str) -> str | None:
        provider = getattr(self._executors.get(label), "provider", None)
        return type(provider).__name__ if provider is not None else None

    # ------------------------------------------------------------- the pipes
    def _send_loop(self) -> None:
        """Pipe frames to the writer: the tasks that changed, about every :data:`PERIOD` s, and at a sync or the close.

        While tasks keep being added or ending (within :data:`BUSY` s), a
        periodic scan waits, :data:`MAX_WAIT` s at most: a burst of short
        tasks runs without the store or the writer beside it, and the record
        catches up once it pauses. A periodic scan leaves out tasks that are
        not final yet and young (see :class:`~parsl_nb.monitoring.feed.TaskScanner`);
        a sync or the close sends every task as it is. Block and resource
        events wait for the next scan.
        """
        stdin = self._proc.stdin
        assert stdin is not None
        held: list[bytes] = []
        scanned = time.monotonic()
        due, activity = scanned + PERIOD, self._scanner.activity()
        try:
            while True:
                try:
                    item = self._outbox.get(timeout=max(0.0, due - time.monotonic()))
                except queue.Empty:
                    now, before, activity = time.monotonic(), activity, self._scanner.activity()
                    if activity != before and now - scanned < MAX_WAIT:
                        due = min(now + BUSY, scanned + MAX_WAIT)  # busy: look again shortly
                        continue
                    item = (b"", b"")  # the period is up and the run quiet (or waited long enough)
                if item is not None and item[0] == EVENTS:
                    held.append(item[1])
                    continue
                if held:
                    _write_frame(stdin, EVENTS, b"".join(held))
                    held = []
                if item is not None and (self._active or item[0] == CLOSE):
                    for chunk in self._scan(full=bool(item[0])):  # a sync or the close: every task as it is now
                        _write_frame(stdin, EVENTS, chunk)  # a transaction each: 4,096 tasks at most
                    scanned = time.monotonic()
                    due, activity = scanned + PERIOD, self._scanner.activity()
                if item is None:
                    return
                if item[0]:
                    _write_frame(stdin, *item)
        except (OSError, ValueError):  # the writer is gone; the reader reports why
            pass
        finally:
            self._scanner.drop_calls()  # no more scans: the records keep no arguments for them
            try:
                stdin.close()
            except OSError:
                pass

    def _scan(self, full: bool) -> Iterator[bytes]:
        try:
            yield from self._scanner.scan_chunks(full)
        except Exception as e:  # a bug here must not stop the run: say so, and stop recording
            logger.exception("monitoring: reading the task records failed")
            self._degrade(e)

    def _read_loop(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        closed = False
        for raw in stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("synced "):
                with self._cv:
                    self._synced = int(line.split()[1])
                    self._cv.notify_all()
            elif line == "closed":
                closed = True
            elif line.startswith("error "):
                kind, _, message = line[6:].partition("\t")
                self._degrade(_error(kind, message))
            else:
                self._said.append(line)
        if not closed and self._active:
            code = self._proc.wait()
            said = " / ".join(self._said)[-500:] or "no message"
            self._degrade(RuntimeError(f"the monitoring writer process (pid {self._proc.pid}) exited with code "
                                       f"{code}: {said}"))

    def _degrade(self, error: BaseException) -> None:
        if not self._active:
            return
        msg = (f"monitoring stopped: cannot write {self.path} ({type(error).__name__}: {error}); "
               "tasks go on, but this run's monitoring record ends here")
        logger.warning(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
        self.error = error
        self._active = False
        self._detach()
        self._outbox.put(None)  # the sender closes the pipe; the writer exits
        with self._cv:
            self._cv.notify_all()

    def close(self, time_completed: float | None = None) -> None:
        """Record the end of the run, wait for the writer to finish, and end it (call after the bus is closed)."""
        self._detach()
        if self._active:
            self._post(CLOSE, marshal.dumps(time_completed if time_completed is not None else time.time()))
            self._active = False
        self._outbox.put(None)
        self._reader.join(CLOSE_TIMEOUT)
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            logger.warning("monitoring: the writer process %s did not finish in %.0f s; killed (the end of the "
                           "record may be missing)", self._proc.pid, CLOSE_TIMEOUT)
            self._proc.kill()
            self._proc.wait()
        self._sender.join(5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()


def _write_frame(stream: Any, kind: bytes, payload: bytes) -> None:
    stream.write(HEADER.pack(len(payload) + 1) + kind)
    stream.write(payload)
    stream.flush()


def _error(kind: str, message: str) -> BaseException:
    """The writer's error as an exception of its class (sqlite3's or OSError)."""
    cls = getattr(sqlite3, kind, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls(message)
    return OSError(message) if kind.endswith("Error") else RuntimeError(f"{kind}: {message}")


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
    store.attach(dfk.events, dfk.final_hooks)
    return store


def default_workflow_name() -> str:
    """The notebook's name under Jupyter, else the script's name, else ``'python'``."""
    session = os.environ.get("JPY_SESSION_NAME")
    if session:
        return os.path.basename(session)
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    script = os.path.basename(argv0)
    if script == "__main__.py":  # python -m package: the package's name says more
        script = os.path.basename(os.path.dirname(argv0)) or script
    if script and script not in ("-c", "-m", "ipykernel_launcher.py"):
        return script
    return "python"


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"
