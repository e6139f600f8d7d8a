"""The monitoring feed: the kernel's events, made compact for the writer process.

The kernel side (:func:`encode`) runs on the event bus's dispatcher thread and
does as little as it can: a transition becomes a plain tuple (one C call); only
a task's first event (argument preview, inputs, outputs) and the end of a try
or task (memo key, std streams, engine, block, exception: read from the task
record *now*, while the kernel still has it) carry more. Everything else (rows,
SQL) happens in the writer process, off the kernel's CPU.

The writer side (:func:`decode`) rebuilds the events and the records'
snapshots, which :class:`~parsl_nb.monitoring.batch.Batch` turns into rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import astuple
from operator import attrgetter
from typing import Any, NamedTuple

from ..dataflow.events import BlockEvent, Event, ResourceEvent, TaskEvent
from ..dataflow.states import FINAL_STATES, TaskState

__all__ = ["CallPreview", "Snapshot", "decode", "encode"]

_PREVIEW = 200
_ENDS = frozenset(FINAL_STATES) | {TaskState.FAIL_RETRYABLE}
_TRANSITION = attrgetter("time", "tid", "app", "old", "new", "try_id", "executor", "detail")
_BLOCK, _RESOURCE = "block", "resource"


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
           provider_of: Callable[[str], str | None]) -> list[tuple[Any, ...]]:
    """The feed items of one batch of events (kernel side; picklable plain data)."""
    out: list[tuple[Any, ...]] = []
    add = out.append
    for ev in batch:
        if type(ev) is TaskEvent:
            if ev.old is None:
                add((_TRANSITION(ev), ev.depends, _call_preview(ev.call)))
            elif ev.new in _ENDS:
                add((_TRANSITION(ev), _snapshot(record_of(ev.tid), ev.try_id)))
            else:
                add(_TRANSITION(ev))
        elif isinstance(ev, BlockEvent):
            add((_BLOCK, provider_of(ev.executor), *astuple(ev)))
        elif isinstance(ev, ResourceEvent):
            record = record_of(ev.tid) if ev.tid is not None else None
            try_id = getattr(record, "try_id", 0) if ev.tid is not None else None
            add((_RESOURCE, try_id, *astuple(ev)))
    return out


def decode(items: Sequence[tuple[Any, ...]]) -> Iterator[tuple[Event, Any]]:
    """``(event, extra)`` for each feed item (writer side).

    ``extra`` is the task's :class:`Snapshot` at the end of a try or task, the
    provider's name for a block event, the try id for a resource sample, else None.
    """
    for item in items:
        head = item[0]
        if type(head) is tuple:  # a task's first event, or the end of a try
            if len(item) == 3:
                yield _task_event(head, item[1], item[2]), None
            else:
                yield _task_event(head), Snapshot(*item[1]) if item[1] is not None else None
        elif head == _BLOCK:
            yield BlockEvent(*item[2:]), item[1]
        elif head == _RESOURCE:
            yield ResourceEvent(*item[2:]), item[1]
        else:
            yield _task_event(item), None


def _task_event(t: tuple[Any, ...], depends: tuple[int, ...] = (), call: CallPreview | None = None) -> TaskEvent:
    time, tid, app, old, new, try_id, executor, detail = t
    return TaskEvent(time, tid, app, old, new, try_id, executor, depends, detail, call)


def _call_preview(call: Any) -> CallPreview | None:
    if call is None:
        return None
    args = _preview(call.args, call.kwargs) if call.args or call.kwargs else None
    inputs = json.dumps([_text(x) if hasattr(x, "url") else _short(x) for x in call.inputs]) if call.inputs else None
    outputs = json.dumps([_text(x) for x in call.outputs]) if call.outputs else None
    return CallPreview(args, inputs, outputs)


def _snapshot(record: Any, try_id: int) -> tuple[Any, ...] | None:
    if record is None:
        return None
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
