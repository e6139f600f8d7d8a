"""One batch of events turned into rows: each task and try written once per batch.

Runs in the writer process (:mod:`parsl_nb.monitoring.writer`), on events
rebuilt from the kernel's compact feed (:mod:`parsl_nb.monitoring.feed`).
A short task is usually read once, finished (UNSCHED to EXEC_DONE in one
batch); it then costs one ``task`` insert, one ``try`` insert and its
``status`` rows, with no updates and no re-reads.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

from ..dataflow.events import BlockEvent, ResourceEvent, TaskEvent
from ..dataflow.states import FINAL_STATES, TaskState
from .feed import CallPreview, Snapshot

__all__ = ["Batch"]

S = TaskState
_IN_TRY = frozenset({S.LAUNCHED, S.RUNNING, S.JOINING})
_COUNTERS = {S.EXEC_DONE: "tasks_completed", S.MEMO_DONE: "tasks_memo", S.FAILED: "tasks_failed",
             S.DEP_FAIL: "tasks_dep_fail", S.CANCELLED: "tasks_cancelled"}
_NAME = {state: state.name for state in TaskState}  # Enum.name is a slow descriptor
_LAUNCH, _RUN, _END, _FINAL = "launch", "run", "end", "final"
_KIND = {S.LAUNCHED: _LAUNCH, S.RUNNING: _RUN, S.FAIL_RETRYABLE: _END,
         **{state: _FINAL for state in FINAL_STATES}}

TASK_COLUMNS = ("task_id", "app", "executor", "depends", "args", "inputs", "outputs", "stdout", "stderr",
                "memoize", "hashsum", "state", "tries", "fail_count", "time_invoked", "time_returned")
TRY_COLUMNS = ("task_id", "try_id", "executor", "engine", "block", "time_launched", "time_running",
               "time_returned", "state", "exception")
(_ID, _APP, _EXECUTOR, _DEPENDS, _ARGS, _INPUTS, _OUTPUTS, _STDOUT, _STDERR, _MEMOIZE, _HASHSUM, _STATE,
 _TRIES, _FAIL_COUNT, _INVOKED, _RETURNED) = range(len(TASK_COLUMNS))
(_Y_TID, _Y_TRY, _Y_EXECUTOR, _Y_ENGINE, _Y_BLOCK, _Y_LAUNCHED, _Y_RUNNING, _Y_RETURNED, _Y_STATE,
 _Y_EXC) = range(len(TRY_COLUMNS))


_CHUNK = 64  # rows per INSERT statement


class _Rows:
    """Inserts (or upserts) many rows with few statements.

    ``executemany`` steps SQLite once per row and gives up and retakes the
    GIL each time; under load every retake waits on the kernel's threads and
    forces them to switch. A statement with 64 rows of ``VALUES`` steps once.
    With ``keys``, a row whose key exists updates the columns that are not
    None (a task or try seen in an earlier batch).
    """

    def __init__(self, table: str, columns: tuple[str, ...], keys: tuple[str, ...] = ()) -> None:
        self.width = len(columns)
        one = "(" + ", ".join("?" * self.width) + ")"
        head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
        tail = ""
        if keys:
            sets = ", ".join(f"{c} = coalesce(excluded.{c}, {c})" for c in columns if c not in keys)
            tail = f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
        self.one = head + one + tail
        self.many = head + ", ".join([one] * _CHUNK) + tail

    def write(self, conn: Any, rows: list[Any]) -> None:
        """Write ``rows`` (sequences of ``width`` values)."""
        full = len(rows) - len(rows) % _CHUNK
        if full:
            flat = list(chain.from_iterable(rows[:full]))
            step = _CHUNK * self.width
            conn.executemany(self.many, [flat[i:i + step] for i in range(0, len(flat), step)])
        if full < len(rows):
            conn.executemany(self.one, rows[full:])


_TASK_ROWS = _Rows("task", TASK_COLUMNS, ("task_id",))
_TRY_ROWS = _Rows("try", TRY_COLUMNS, ("task_id", "try_id"))
_STATUS_ROWS = _Rows("status", ("task_id", "try_id", "state", "time", "detail"))
_RESOURCE_ROWS = _Rows("resource", ("task_id", "try_id", "engine", "block", "time", "cpu_percent", "rss", "vms",
                                "read_bytes", "write_bytes", "num_threads"))
_BLOCK_ROWS = _Rows("block", ("executor", "block_id", "job_id", "provider", "state", "time", "detail"))


class Batch:
    """The rows of one batch of events.

    ``record_of(tid)`` gives the task's :class:`~parsl_nb.monitoring.feed.Snapshot`
    (or None) at the end of a try or of the task, read from the kernel's
    record by the store's scanner: what events do not carry (memo key, std streams, engine, block, the try's exception).
    A new task's event carries a :class:`~parsl_nb.monitoring.feed.CallPreview`
    as its ``call``.
    """

    __slots__ = ("record_of", "status", "tasks", "new_tasks", "tries", "blocks", "counts", "resources")

    def __init__(self, record_of: Callable[[int], Any]) -> None:
        self.record_of = record_of
        self.status: list[tuple[Any, ...]] = []
        self.tasks: dict[int, list[Any]] = {}
        self.new_tasks: set[int] = set()
        self.tries: dict[tuple[int, int], list[Any]] = {}
        self.blocks: list[tuple[Any, ...]] = []
        self.counts: dict[str, int] = {}
        self.resources: list[tuple[Any, ...]] = []

    def add_resource(self, ev: ResourceEvent, try_id: int | None) -> None:
        """A resource sample of an engine, taken during try ``try_id`` of its task."""
        self.resources.append((ev.tid, try_id, ev.engine, ev.block, ev.time, ev.cpu_percent, ev.rss, ev.vms,
                               ev.read_bytes, ev.write_bytes, ev.num_threads))

    def add_block(self, ev: BlockEvent, provider: str | None) -> None:
        """A block changed state."""
        self.blocks.append((ev.executor, ev.block_id, ev.job_id, provider, ev.state, ev.time, ev.detail or None))

    def add_task(self, ev: TaskEvent) -> None:
        """A task changed state."""
        new, tid = ev.new, ev.tid
        name = _NAME[new]
        self.status.append((tid, ev.try_id, name, ev.time, ev.detail or None))
        row = self.tasks.get(tid)
        if row is None:
            row = self.tasks[tid] = [tid, None, None, None, None, None, None, None, None, None, None, None, None,
                                     None, None, None]
        row[_STATE] = name
        kind = _KIND.get(new)
        if kind is None:
            if ev.old is None:
                _fill_new_task(row, ev)
                self.new_tasks.add(tid)
            return
        if kind is _LAUNCH:
            key = (tid, ev.try_id)
            self.tries[key] = [tid, ev.try_id, ev.executor, None, None, ev.time, None, None, name, None]
        elif kind is _RUN:
            self._try_row(tid, ev.try_id)[_Y_RUNNING] = ev.time
        else:
            if ev.old in _IN_TRY:
                self._end_try(ev)
            if kind is _FINAL:
                self._final(row, ev)
                counter = _COUNTERS[new]
                self.counts[counter] = self.counts.get(counter, 0) + 1

    def _try_row(self, tid: int, try_id: int) -> list[Any]:
        row = self.tries.get((tid, try_id))
        if row is None:
            row = self.tries[(tid, try_id)] = [tid, try_id] + [None] * (len(TRY_COLUMNS) - 2)
        return row

    def _end_try(self, ev: TaskEvent) -> None:
        row = self._try_row(ev.tid, ev.try_id)
        record: Snapshot | None = self.record_of(ev.tid)
        row[_Y_RETURNED] = ev.time
        row[_Y_STATE] = _NAME[ev.new]
        if record is not None:
            row[_Y_ENGINE] = record.engine
            row[_Y_BLOCK] = record.block
        if ev.new is not S.EXEC_DONE:
            exc = record.exception if record is not None and ev.new is not S.CANCELLED else None
            row[_Y_EXC] = exc or ev.detail or None

    def _final(self, row: list[Any], ev: TaskEvent) -> None:
        row[_RETURNED] = ev.time
        record: Snapshot | None = self.record_of(ev.tid)
        if record is None:
            row[_TRIES], row[_FAIL_COUNT] = 0, 0
            return
        if record.depends:
            row[_DEPENDS] = record.depends
        row[_MEMOIZE] = record.memoize
        row[_HASHSUM] = record.hashsum
        if record.stdout is not None or record.stderr is not None:
            row[_STDOUT] = record.stdout
            row[_STDERR] = record.stderr
        row[_TRIES] = ev.try_id + 1 if record.launched else 0
        row[_FAIL_COUNT] = record.fail_count

    def write(self, conn: Any, run_id: str) -> None:
        """Write the rows in one transaction on ``conn`` (rolled back on error)."""
        new_t = self.new_tasks
        conn.execute("BEGIN")
        try:
            _TASK_ROWS.write(conn, list(self.tasks.values()))
            _TRY_ROWS.write(conn, list(self.tries.values()))
            _STATUS_ROWS.write(conn, self.status)
            _BLOCK_ROWS.write(conn, self.blocks)
            _RESOURCE_ROWS.write(conn, self.resources)
            if new_t:
                self.counts["tasks_total"] = len(new_t)
            if self.counts:
                sets = ", ".join(f"{name} = {name} + ?" for name in self.counts)
                conn.execute(f"UPDATE workflow SET {sets} WHERE run_id = ?", (*self.counts.values(), run_id))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _fill_new_task(row: list[Any], ev: TaskEvent) -> None:
    row[_APP] = ev.app
    row[_EXECUTOR] = ev.executor
    if ev.depends:
        row[_DEPENDS] = ",".join(map(str, ev.depends))
    row[_INVOKED] = ev.time
    call: CallPreview | None = ev.call
    if call is not None:
        row[_ARGS], row[_INPUTS], row[_OUTPUTS] = call
