"""The monitoring feed: what the kernel knows of its tasks, made compact for the writer process.

The kernel side does as little as it can, and next to nothing on a task's
path (a task called with arguments keeps them on its record until the next
scan, for the preview). Every task record already keeps the task's state
history (the single owner of that state), so the store does not copy each
state change as it happens: a :class:`TaskScanner`, on the store's sender
thread, reads the records that changed since its last scan (about once a
second) and turns each into one tuple of plain values, marshalled with the
rest of the scan as one chunk: the new history entries (packed, 9 bytes each), the
task's call (app, dependencies, argument preview, inputs, outputs) the first
time, and, once a try or the task has ended, what the rows need from the
record (memo key, std streams, engine, block, exceptions). A short task is
read once, after it finished. Block and resource events, which are rare,
still come from the event bus (:func:`encode_events`). Everything else (rows,
SQL) happens in the writer process.

The writer side (:class:`FeedReader`) rebuilds the events and the records'
snapshots, which :class:`~parsl_nb.monitoring.batch.Batch` turns into rows.
"""

from __future__ import annotations

import itertools
import json
import marshal
import struct
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from ..data.files import File
from ..dataflow.events import BlockEvent, Event, ResourceEvent, TaskEvent
from ..dataflow.states import FINAL_STATES, TaskState
from ..dataflow.taskrecord import HISTORY_ENTRY, unpack_history
from ..dataflow.watch import NewTasks
from ..futures import AppFuture, DataFuture

__all__ = ["CallPreview", "FeedReader", "Snapshot", "TaskScanner", "encode_events"]

_PREVIEW = 200
_ENDS = frozenset(FINAL_STATES) | {TaskState.FAIL_RETRYABLE}
_FINAL_CODES = frozenset(int(state) for state in FINAL_STATES)
_BLOCK, _RESOURCE = "block", "resource"
_LENGTH = struct.Struct("<I")
_CHUNK_ITEMS = 4096  # tasks per marshalled chunk: a scan of 100,000 tasks never holds them all as tuples


class CallPreview(NamedTuple):
    """What the store keeps of a call: argument preview, inputs and outputs as JSON lists."""

    args: str | None
    inputs: str | None
    outputs: str | None


_NO_CALL = CallPreview(None, None, None)


class Snapshot(NamedTuple):
    """A task record's fields the store needs, as of the end of one try or of the task."""

    depends: str | None
    memoize: int
    hashsum: str | None
    stdout: str | None
    stderr: str | None
    launched: bool
    fail_count: int
    engine: str | None
    block: str | None
    exception: str | None  # of the try that just ended


class TaskScanner:
    """Reads the task records that changed since the last scan (kernel side, one thread).

    A task is read once it is final (the kernel calls :meth:`task_finished`),
    so a short task costs one read. A task still going ``live_after`` seconds
    after it was first seen (a long run, or a queue that waits) is read as it
    is and then again at each scan while it changes, so a live record shows
    it. A ``full`` scan reads everything.

    Parameters
    ----------
    tasks : mapping of int to TaskRecord
        The kernel's records by task id (ids count up from 0; the mapping
        only grows).
    live_after : float
        Seconds a task may go unread while it is not final.
    """

    def __init__(self, tasks: Mapping[int, Any], live_after: float = 5.0) -> None:
        self._tasks = tasks
        self._live_after = live_after
        self._finals: deque[int] = deque()  # ids of tasks that became final since the last scan
        self.task_finished: Callable[[int], None] = self._finals.append
        """Tell the scanner task ``tid`` is final (any thread, cheap: the kernel's final hook)."""
        self._new = NewTasks(tasks)
        self._unsent: dict[int, float] = {}  # id -> when first seen, of tasks not sent yet
        self._previews: dict[int, tuple[Any, ...]] = {}  # id -> call preview, of those called with arguments
        self._open: dict[int, int] = {}  # id -> history entries sent, of tasks sent before they were final

    @property
    def open_tasks(self) -> int:
        """Tasks seen and not final yet."""
        return len(self._open) + len(self._unsent)

    def scan(self, full: bool = True) -> bytes:
        """The feed of every task that changed since the last scan (see the class)."""
        return b"".join(self.scan_chunks(full))

    def scan_chunks(self, full: bool = True) -> Iterator[bytes]:
        """:meth:`scan`, as chunks of at most 4,096 tasks each, made as they are taken.

        A scan of 100,000 tasks never holds them all, as tuples or as bytes.
        """
        finals = self._finals
        finished = list(itertools.starmap(finals.popleft, itertools.repeat((), len(finals))))  # before _discover
        now = time.monotonic()
        self._discover(now, max(finished, default=-1))
        items: list[tuple[Any, ...]] = []
        send = self._send
        for tid in finished:
            if not send(tid, items) and self._new.unknown(tid):
                finals.append(tid)  # its record was added after this scan counted them: next time
            if len(items) >= _CHUNK_ITEMS:
                yield _chunk(items)
                items = []
        if full:
            due = list(self._unsent)
        else:
            cutoff = now - self._live_after
            due = list(itertools.takewhile(lambda tid: self._unsent[tid] <= cutoff, self._unsent))
        tasks, visit = self._tasks, self._visit
        for tid, sent in itertools.chain(((tid, None) for tid in due), list(self._open.items())):
            if sent is None:
                send(tid, items)
            else:
                visit(tasks[tid], sent, items, None)
            if len(items) >= _CHUNK_ITEMS:
                yield _chunk(items)
                items = []
        if items:
            yield _chunk(items)

    def _send(self, tid: int, items: list[tuple[Any, ...]]) -> bool:
        """Read task ``tid`` into ``items`` if it is due; False if it is not known yet."""
        if self._unsent.pop(tid, None) is not None:
            self._visit(self._tasks[tid], 0, items, self._previews.pop(tid, None))
            return True
        sent = self._open.get(tid)
        if sent is not None:
            self._visit(self._tasks[tid], sent, items, None)
            return True
        return False

    def activity(self) -> tuple[int, int]:
        """Changes whenever a task is added or ends: (records, tasks ended since the last scan)."""
        return len(self._tasks), len(self._finals)

    def drop_calls(self) -> None:
        """Drop the calls the kernel kept for previews (when scans stop: the store failed or closed)."""
        self._discover(time.monotonic(), -1)

    def _discover(self, now: float, upto: int) -> None:
        """Note each record added since the last scan (at least up to id ``upto``), with its call's preview.

        The call is dropped from the record.
        """
        tasks, unsent = self._tasks, self._unsent
        found = self._new.take(upto)
        previews = self._previews
        for tid in found:
            unsent[tid] = now
            record = tasks[tid]
            call = record.call
            if call is not None:
                record.call = None  # the arguments may be big: not kept beyond this scan
                previews[tid] = _call_preview(call)

    def _visit(self, record: Any, sent: int, items: list[tuple[Any, ...]], call: tuple[Any, ...] | None) -> None:
        packed, n = record.history_since(sent)
        if n == sent:
            return
        tid = record.tid
        final = packed[-HISTORY_ENTRY] in _FINAL_CODES  # the last entry's state code
        if final:
            if sent:
                del self._open[tid]
        else:
            self._open[tid] = n
        notes = record.notes
        if notes:  # copied in one step (another thread may add a note); a note may precede its entry
            notes = {i: text for i, text in dict(notes).items() if i >= sent} or None
        snap = _end_info(record) if final or record.fail_count else None
        if sent:
            items.append((tid, sent, packed, record.executor, notes, snap))
        else:
            items.append((tid, sent, packed, record.executor, notes, snap, record.app_name, tuple(record.depends),
                          call))


def _end_info(record: Any) -> tuple[Any, ...]:
    """What a try's or the task's end needs from the record (see :class:`Snapshot`), flat."""
    depends = ",".join(map(str, record.depends)) if record.depends else None
    stdout = stderr = None
    if record.stdout is not None or record.stderr is not None:
        stdout, stderr = _text(record.stdout), _text(record.stderr)
    return (depends, int(record.memoize), record.hashsum, stdout, stderr, record.try_time_launched is not None,
            record.fail_count, record.engine, record.block, tuple(record.fail_history),
            tuple(record.past_places) if record.past_places else ())


def encode_events(batch: Sequence[Event], record_of: Callable[[int], Any],
                  provider_of: Callable[[str], str | None]) -> bytes:
    """The feed of one batch of block and resource events (kernel side); other events are skipped."""
    out: list[tuple[Any, ...]] = []
    for ev in batch:
        if isinstance(ev, BlockEvent):
            out.append((_BLOCK, provider_of(ev.executor), ev.time, ev.executor, ev.block_id, ev.job_id,
                        ev.state, ev.detail))
        elif isinstance(ev, ResourceEvent):
            record = record_of(ev.tid) if ev.tid is not None else None
            try_id = getattr(record, "try_id", 0) if ev.tid is not None else None
            out.append((_RESOURCE, try_id, ev.time, ev.tid, ev.executor, ev.engine, ev.block, ev.cpu_percent,
                        ev.rss, ev.vms, ev.read_bytes, ev.write_bytes, ev.num_threads))
    return _chunk(out)


def _chunk(items: list[tuple[Any, ...]]) -> bytes:
    """Items as one chunk of a feed: a 4-byte length, then the marshalled list (empty: no chunk)."""
    if not items:
        return b""
    try:
        data = marshal.dumps(items)
    except ValueError:  # a value marshal cannot take (a str subclass, say): store its text
        data = marshal.dumps([_marshallable(item) for item in items])
    return _LENGTH.pack(len(data)) + data


def _items(feed: bytes) -> Iterator[tuple[Any, ...]]:
    """The items of a feed: its chunks, one after the other."""
    view, at, end = memoryview(feed), 0, len(feed)
    while at < end:
        (n,) = _LENGTH.unpack_from(view, at)
        at += _LENGTH.size
        yield from marshal.loads(view[at:at + n])
        at += n


class FeedReader:
    """Rebuilds events from feeds (writer side), remembering each unfinished task's state and try."""

    def __init__(self) -> None:
        self._open: dict[int, tuple[TaskState, int]] = {}

    def decode(self, data: bytes) -> Iterator[tuple[Event, Any]]:
        """``(event, extra)`` for each event in a feed, each task's in order.

        ``extra`` is the task's :class:`Snapshot` at the end of a try or task,
        the provider's name for a block event, the try id for a resource
        sample, else None.
        """
        for item in _items(data):
            head = item[0]
            if head == _BLOCK:
                yield BlockEvent(*item[2:]), item[1]
            elif head == _RESOURCE:
                yield ResourceEvent(*item[2:]), item[1]
            else:
                yield from self._task(item)

    def _task(self, item: tuple[Any, ...]) -> Iterator[tuple[TaskEvent, Snapshot | None]]:
        tid, start, packed, executor, notes, snap = item[:6]
        entries = unpack_history(packed)
        notes = notes or {}
        if start == 0:  # the task's first entry: its call
            app, depends, call = item[6:]
            state, when = entries[0]
            yield TaskEvent(when, tid, app, None, state, 0, executor, depends, notes.get(0, ""),
                            CallPreview(*call) if call else _NO_CALL), None
            old, try_id, entries, index = state, 0, entries[1:], 1
        else:
            old, try_id = self._open.pop(tid, (TaskState.UNSCHED, 0))  # (always there: feeds arrive in order)
            index = start
        for state, when in entries:
            ended = _ended(snap, try_id, state) if state in _ENDS else None
            yield TaskEvent(when, tid, "", old, state, try_id, executor, detail=notes.get(index, "")), ended
            if state is TaskState.FAIL_RETRYABLE:
                try_id += 1
            old = state
            index += 1
        if old not in FINAL_STATES:
            self._open[tid] = (old, try_id)


def _ended(snap: tuple[Any, ...] | None, try_id: int, state: TaskState) -> Snapshot | None:
    """The :class:`Snapshot` at the end of try ``try_id`` (a retry) or of the task."""
    if snap is None:
        return None
    depends, memoize, hashsum, stdout, stderr, launched, fail_count, engine, block, fail_history, places = snap
    if state is TaskState.FAIL_RETRYABLE and try_id < len(places):
        engine, block = places[try_id]
    exception = fail_history[try_id] if try_id < len(fail_history) else None
    return Snapshot(depends, memoize, hashsum, stdout, stderr, launched, fail_count, engine, block, exception)


def _marshallable(value: Any) -> Any:
    if value is None or type(value) in (int, float, str, bool, bytes):
        return value
    if isinstance(value, tuple | list):
        return tuple(_marshallable(v) for v in value)
    if isinstance(value, dict):
        return {_marshallable(k): _marshallable(v) for k, v in value.items()}
    return str(value)


def _call_preview(call: tuple[Any, ...]) -> tuple[str | None, str | None, str | None]:
    """(argument preview, inputs, outputs) of a call's ``(args, kwargs, inputs, outputs)``."""
    args, kwargs, inputs, outputs = call
    preview = _preview(args, kwargs) if args or kwargs else None
    inputs_text = json.dumps([_input_text(x) for x in inputs]) if inputs else None
    outputs_text = json.dumps([_text(x) for x in outputs]) if outputs else None
    return preview, inputs_text, outputs_text


def _preview(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items() if k != "inputs"]
    text = ", ".join(parts)
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 3] + "..."


def _short(value: Any) -> str:
    try:
        if isinstance(value, AppFuture):
            return f"<task {value.tid}>"
        text = repr(value)
    except Exception:  # a repr that raises must not stop monitoring
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _PREVIEW else text[:60] + "..."


def _input_text(value: Any) -> str | None:
    # By type, never by hasattr/getattr: an AppFuture lifts public attribute
    # access onto its result, as in Parsl, so `fut.url` would submit a new task
    # (and every such task would be recorded the same way). _short names it.
    if isinstance(value, DataFuture):
        return _text(value.file_obj)
    if isinstance(value, File):
        return _text(value)
    return _short(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, AppFuture):
        return _short(value)
    url = getattr(value, "url", None)
    if isinstance(url, str):
        return url
    filepath = getattr(value, "filepath", None)
    if isinstance(filepath, str):
        return filepath
    if isinstance(value, tuple):
        return str(value[0])
    return str(value)
