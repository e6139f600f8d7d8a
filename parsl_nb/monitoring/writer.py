"""The monitoring writer: a child process that turns the kernel's feed into SQLite rows.

Started by :class:`~parsl_nb.monitoring.store.MonitoringStore` with the
database's path and the run id as arguments (``main(['DB', 'RUN_ID'])``;
``python -m parsl_nb.monitoring.writer DB RUN_ID`` by hand) and pipes on its
standard streams. Building rows and running SQL cost more than a no-op task
itself (15-25 us a task); here they use CPU time the kernel is not using, as
Parsl's monitoring database manager does in its own process. The writer runs
at the lowest CPU priority (nice +19): on a machine busy with the run, the
record lags rather than the tasks slowing. ``dfk.events.flush()`` waits for it
(10 s at most), and clearing the kernel waits until it has written everything
(2 minutes at most: then it is killed, and the record may miss its end).

Protocol. Kernel to writer, on stdin: frames of a 4-byte little-endian length,
a kind byte and a payload: ``E`` + a feed (the tasks that changed since the
last one, and block and resource events; one transaction; see
:mod:`~parsl_nb.monitoring.feed`), ``S`` + a number (answer once everything
before it is written), ``C`` + the run's end time (marshalled). Only marshal
data, never pickles, cross the pipe. Writer to kernel, on stdout, one line
each: ``synced N``, ``closed``, or ``error TYPE<TAB>MESSAGE`` after which it
writes nothing more and exits when stdin closes. End of stdin (the kernel
exited or was killed) commits what was received and exits.
"""

from __future__ import annotations

import marshal
import os
import signal
import socket
import sqlite3
import struct
import sys
from collections.abc import Iterator, Sequence
from typing import IO

from ..dataflow.events import BlockEvent, ResourceEvent, TaskEvent
from .batch import Batch
from .feed import FeedReader, Snapshot
from .schema import SCHEMA, SCHEMA_VERSION

__all__ = ["StoreWriter", "create_store", "main"]

HEADER = struct.Struct("<I")
EVENTS, SYNC, CLOSE = b"E", b"S", b"C"
NICENESS = 19


def create_store(path: str, run_id: str, workflow: str, user: str, run_dir: str, began: float) -> None:
    """Create the database, its tables and the run's workflow row (raises sqlite3.Error or OSError)."""
    from .. import __version__

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)
        conn.execute(
            "INSERT OR REPLACE INTO workflow (run_id, workflow_name, user, host, run_dir, parsl_nb_version,"
            " schema_version, time_began) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, workflow, user, socket.gethostname(), run_dir, __version__, SCHEMA_VERSION, began))
    finally:
        conn.close()


class StoreWriter:
    """Writes feed items into one run's database, a transaction per batch."""

    def __init__(self, path: str, run_id: str) -> None:
        self.run_id = run_id
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.feed = FeedReader()

    def write(self, feed: bytes) -> None:
        """Write one feed in one transaction."""
        snapshots: dict[int, Snapshot | None] = {}
        rows = Batch(snapshots.get)
        for ev, extra in self.feed.decode(feed):
            if type(ev) is TaskEvent:
                if extra is not None:
                    snapshots[ev.tid] = extra
                rows.add_task(ev)
            elif isinstance(ev, BlockEvent):
                rows.add_block(ev, extra)
            elif isinstance(ev, ResourceEvent):
                rows.add_resource(ev, extra)
        rows.write(self.conn, self.run_id)

    def close(self, time_completed: float) -> None:
        """Record the end of the run and close the database."""
        try:
            self.conn.execute("UPDATE workflow SET time_completed = ? WHERE run_id = ?", (time_completed, self.run_id))
        finally:
            self.conn.close()


def _frames(stream: IO[bytes]) -> Iterator[tuple[bytes, bytes]]:
    while True:
        head = stream.read(HEADER.size)
        if len(head) < HEADER.size:
            return
        (n,) = HEADER.unpack(head)
        body = stream.read(n)
        if len(body) < n:
            return
        yield body[:1], body[1:]


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _report(error: BaseException) -> None:
    _say(f"error {type(error).__name__}\t{' '.join(str(error).split())}")


def _close_quietly(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except sqlite3.Error:
        pass


def serve(path: str, run_id: str, stream: IO[bytes]) -> int:
    """Write what arrives on ``stream`` until ``close`` or its end; the process's exit code."""
    writer: StoreWriter | None = None
    try:
        writer = StoreWriter(path, run_id)
        for kind, payload in _frames(stream):
            if writer is None:
                continue  # failed earlier: read on until the kernel closes the pipe
            try:
                if kind == EVENTS:
                    writer.write(payload)
                elif kind == SYNC:
                    _say(f"synced {payload.decode()}")
                elif kind == CLOSE:
                    writer.close(marshal.loads(payload))
                    _say("closed")
                    return 0
            except (sqlite3.Error, OSError) as e:
                _report(e)
                _close_quietly(writer.conn)  # closing twice (after a failed close) is harmless
                writer = None
                if kind == CLOSE:
                    return 1
    except (sqlite3.Error, OSError) as e:
        _report(e)
        return 1
    if writer is not None:  # the kernel went away without closing: keep what arrived
        _close_quietly(writer.conn)
    return 0


def _step_aside() -> None:
    """Take the lowest CPU priority (nice +19): the record may lag a busy run; the run must not wait for it.

    Not Linux's SCHED_IDLE, which measured as cheap for the run: a SCHED_IDLE
    process gets next to no CPU while any other process wants it, so on a
    machine that other users keep busy (an HPC login node) the writer could
    make no progress at all, and every ``parsl.clear()`` would wait for it.
    At nice +19 it still gets a small, fair share.
    """
    try:
        os.nice(NICENESS - os.nice(0))
    except (AttributeError, OSError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m parsl_nb.monitoring.writer DB RUN_ID``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a notebook interrupt is for the kernel, not for us
    _step_aside()
    path, run_id = (argv if argv is not None else sys.argv[1:])[:2]
    return serve(path, run_id, sys.stdin.buffer)


if __name__ == "__main__":
    sys.exit(main())
