"""The monitoring feed: the kernel's events, made compact for the writer process.

The kernel side (:func:`encode`) runs on the event bus's dispatcher thread and
does as little as it can: each event becomes one flat tuple of numbers and
strings, marshalled at once into bytes. Only a task's first event (app,
dependencies, argument preview, inputs, outputs) and the end of a try or task
(memo key, std streams, engine, block, exception: read from the task record
*now*, while the kernel still has it) carry more. No container outlives its
event, so the feed adds next to nothing to the kernel's garbage collections
(which, with a few thousand tasks in flight, cost more than the encoding).
Everything else (rows, SQL) happens in the writer process.

The writer side (:func:`decode`) rebuilds the events and the records'
snapshots, which :class:`~parsl_nb.monitoring.batch.Batch` turns into rows.
"""

from __future__ import annotations

import io
import itertools
import json
import marshal
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from ..data.files import File
from ..dataflow.events import BlockEvent, Event, ResourceEvent, TaskEvent
from ..dataflow.states import BY_CODE, FINAL_STATES, TaskState
from ..dataflow.taskrecord import unpack_history
from ..futures import AppFuture, DataFuture

__all__ = ["CallPreview", "Snapshot", "decode", "encode"]

_PREVIEW = 200
_ENDS = frozenset(FINAL_STATES) | {TaskState.FAIL_RETRYABLE}
_CODE: dict[TaskState | None, int] = {state: int(state) for state in TaskState}
_CODE[None] = -1
_BLOCK, _RESOURCE = "block", "resource"
_PLAIN = 7  # time, tid, old, new, try_id, executor, detail
_FIRST = _PLAIN + 5  # + app, depends, args, inputs, outputs
_FOLDED = _PLAIN + 10 + 2  # + a Snapshot's fields, events folded, packed history
_FOLDABLE = frozenset({TaskState.PENDING, TaskState.LAUNCHED, TaskState.RUNNING})


class CallPreview(NamedTuple):
    """What the store keeps of a call: argument preview, inputs and outputs as JSON lists."""

    args: str | None
    inputs: str | None
    outputs: str | None


class Snapshot(NamedTuple):
    """A task record's fields the store needs, read when a try or the task ends."""

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


def encode(batch: Sequence[Event], record_of: Callable[[int], Any],
           provider_of: Callable[[str], str | None]) -> bytes:
    """The feed of one batch of events (kernel side): marshalled flat tuples, in order.

    A short task usually lives its whole life inside one batch. Its final
    event then carries the record's packed state history, and the PENDING,
    LAUNCHED and RUNNING events just before it are not encoded one by one:
    the writer rebuilds them from the history. Only events that match the
    history exactly are left out (walking back from the final event: each
    one's new state is the next one's old state, same try, same executor, no
    detail), so the record is the same as if every event had been sent.
    """
    out: list[bytes] = []
    add = out.append
    dumps = marshal.dumps
    chains: dict[int, list[Any]] = {}  # tid -> [events folded, state expected next, try, executor]
    finals: list[tuple[int, TaskEvent, Any, list[Any]]] = []
    for ev in reversed(batch):  # backwards: a final event is seen before the events it folds
        if type(ev) is TaskEvent:
            new = ev.new
            if ev.old is None:
                add(_dump(_head(ev) + (ev.app, ev.depends, *_call_preview(ev.call))))
                continue
            chain = chains.get(ev.tid)
            if chain is not None:
                if (new is chain[1] and new in _FOLDABLE and not ev.detail and ev.try_id == chain[2]
                        and ev.executor == chain[3]):
                    chain[0] += 1
                    chain[1] = ev.old
                    continue
                del chains[ev.tid]
            if new in _ENDS:
                record = record_of(ev.tid)
                if new in FINAL_STATES and record is not None and record.packed_history is not None:
                    chain = chains[ev.tid] = [0, ev.old, ev.try_id, ev.executor]
                    finals.append((len(out), ev, record, chain))
                    add(b"")  # filled in below, once the chain is known
                    continue
                add(_dump(_head(ev) + _snapshot(record, ev.try_id)))
            else:
                add(_dump(_head(ev)))
        elif isinstance(ev, BlockEvent):
            add(dumps((_BLOCK, provider_of(ev.executor), ev.time, ev.executor, ev.block_id, ev.job_id, ev.state,
                       ev.detail)))
        elif isinstance(ev, ResourceEvent):
            record = record_of(ev.tid) if ev.tid is not None else None
            try_id = getattr(record, "try_id", 0) if ev.tid is not None else None
            add(dumps((_RESOURCE, try_id, ev.time, ev.tid, ev.executor, ev.engine, ev.block, ev.cpu_percent,
                       ev.rss, ev.vms, ev.read_bytes, ev.write_bytes, ev.num_threads)))
    for i, ev, record, chain in finals:
        out[i] = _dump(_head(ev) + _snapshot(record, ev.try_id) + (chain[0], record.packed_history))
    out.reverse()
    return b"".join(out)


def _head(ev: TaskEvent) -> tuple[Any, ...]:
    """The fields every task event sends (``_PLAIN`` of them); a first event's old state is -1."""
    return ev.time, ev.tid, _CODE[ev.old], _CODE[ev.new], ev.try_id, ev.executor, ev.detail


def _dump(item: tuple[Any, ...]) -> bytes:
    try:
        return marshal.dumps(item)
    except ValueError:  # a value marshal cannot take (a str subclass, say): store its text
        return marshal.dumps(_marshallable(item))


def decode(data: bytes) -> Iterator[tuple[Event, Any]]:
    """``(event, extra)`` for each event in a feed (writer side).

    ``extra`` is the task's :class:`Snapshot` at the end of a try or task, the
    provider's name for a block event, the try id for a resource sample, else None.
    """
    stream = io.BytesIO(data)
    end = len(data)
    while stream.tell() < end:
        item = marshal.load(stream)
        head = item[0]
        if head == _BLOCK:
            yield BlockEvent(*item[2:]), item[1]
        elif head == _RESOURCE:
            yield ResourceEvent(*item[2:]), item[1]
        elif len(item) == _FOLDED:
            yield from _unfold(item)
        else:
            yield _task_event(item)


def _unfold(t: tuple[Any, ...]) -> Iterator[tuple[TaskEvent, Snapshot | None]]:
    """The events a final event folded (rebuilt from the packed history), then the final event."""
    folded, history = t[-2], t[-1]
    if folded:  # the history's last entries before the final one, and the entry they left
        entries = unpack_history(history)[-(folded + 2):-1]
        tid, try_id, executor = t[1], t[4], t[5]
        for (old, _), (new, when) in itertools.pairwise(entries):
            yield TaskEvent(when, tid, "", old, new, try_id, executor), None
    yield _task_event(t[:-2])


def _task_event(t: tuple[Any, ...]) -> tuple[TaskEvent, Snapshot | None]:
    time, tid, old, new, try_id, executor, detail = t[:_PLAIN]
    states = BY_CODE
    if old < 0:  # a task's first event
        app, depends, args, inputs, outputs = t[_PLAIN:_FIRST]
        return TaskEvent(time, tid, app, None, states[new], try_id, executor, depends, detail,
                         CallPreview(args, inputs, outputs)), None
    ev = TaskEvent(time, tid, "", states[old], states[new], try_id, executor, detail=detail)
    return ev, Snapshot(*t[_PLAIN:]) if len(t) > _PLAIN else None


def _marshallable(value: Any) -> Any:
    if value is None or type(value) in (int, float, str, bool, bytes):
        return value
    if isinstance(value, tuple | list):
        return tuple(_marshallable(v) for v in value)
    return str(value)


def _call_preview(call: Any) -> tuple[str | None, str | None, str | None]:
    if call is None:
        return None, None, None
    args = _preview(call.args, call.kwargs) if call.args or call.kwargs else None
    inputs = json.dumps([_input_text(x) for x in call.inputs]) if call.inputs else None
    outputs = json.dumps([_text(x) for x in call.outputs]) if call.outputs else None
    return args, inputs, outputs


def _snapshot(record: Any, try_id: int) -> tuple[Any, ...]:
    """The :class:`Snapshot` fields, flat (empty if the kernel no longer has the record)."""
    if record is None:
        return ()
    depends = ",".join(map(str, record.depends)) if record.depends else None
    stdout = stderr = None
    if record.stdout is not None or record.stderr is not None:
        stdout, stderr = _text(record.stdout), _text(record.stderr)
    history = record.fail_history
    exception = str(history[try_id]) if history and len(history) > try_id else None
    return (depends, int(record.memoize), record.hashsum, stdout, stderr, record.try_time_launched is not None,
            record.fail_count, record.engine, record.block, exception)


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
