"""Memoization: a task with the same function source and arguments is served once."""

from __future__ import annotations

import hashlib
import logging
import pickle
import threading
from concurrent.futures import Future
from functools import singledispatch
from typing import TYPE_CHECKING, Any

from ..data.files import File
from .taskrecord import TaskRecord

if TYPE_CHECKING:
    from .checkpoint import Checkpointer

__all__ = ["Memoizer", "id_for_memo"]

logger = logging.getLogger(__name__)


@singledispatch
def id_for_memo(obj: Any, output_ref: bool = False) -> bytes:
    """Bytes that identify ``obj`` in a memo key.

    Register your own type with ``@id_for_memo.register``. Unknown types are
    pickled; a value that does not pickle cannot be memoized.
    """
    try:
        return pickle.dumps(obj, protocol=4)
    except Exception as e:
        raise ValueError(
            f"cannot memoize an argument of type {type(obj).__name__} ({e}); register it with "
            "@parsl_nb.dataflow.memo.id_for_memo.register, or name it in ignore_for_cache"
        ) from e


@id_for_memo.register(str)
@id_for_memo.register(int)
@id_for_memo.register(float)
@id_for_memo.register(bool)
@id_for_memo.register(bytes)
@id_for_memo.register(type(None))
def _plain(obj: Any, output_ref: bool = False) -> bytes:
    return pickle.dumps(obj, protocol=4)


@id_for_memo.register(list)
@id_for_memo.register(tuple)
def _seq(obj: Any, output_ref: bool = False) -> bytes:
    return type(obj).__name__.encode() + b"[" + b",".join(id_for_memo(x, output_ref) for x in obj) + b"]"


@id_for_memo.register(set)
@id_for_memo.register(frozenset)
def _set(obj: Any, output_ref: bool = False) -> bytes:
    return b"set{" + b",".join(sorted(id_for_memo(x, output_ref) for x in obj)) + b"}"


@id_for_memo.register(dict)
def _dict(obj: dict[Any, Any], output_ref: bool = False) -> bytes:
    items = sorted(id_for_memo(k) + b":" + id_for_memo(v, output_ref) for k, v in obj.items())
    return b"dict{" + b",".join(items) + b"}"


@id_for_memo.register(File)
def _file(obj: File, output_ref: bool = False) -> bytes:
    return b"file:" + obj.url.encode()


class Memoizer:
    """The memo table of one kernel: key -> future of the first task with it.

    With a ``checkpoints`` object (a :class:`~parsl_nb.dataflow.checkpoint.Checkpointer`),
    a key missing from the table is looked up in the loaded checkpoints, and
    every new successful result is handed to it to be written.
    """

    def __init__(self, enabled: bool = True, checkpoints: Checkpointer | None = None) -> None:
        self.enabled = enabled
        self.checkpoints = checkpoints
        self._table: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()

    def make_key(self, record: TaskRecord, func_hash: str, outputs: list[File]) -> str | None:
        """The memo key of a task whose arguments are resolved, or None."""
        kwargs = {k: v for k, v in record.kwargs.items() if k not in record.ignore_for_cache}
        try:
            parts = [func_hash.encode(), id_for_memo(record.args), id_for_memo(kwargs),
                     id_for_memo(outputs, output_ref=True)]
        except Exception as e:  # a failing id_for_memo of the user's must not strand the task
            logger.warning("task %s (%s) runs without memoization: %s: %s", record.tid, record.app_name,
                           type(e).__name__, e)
            return None
        return hashlib.sha256(b"\0".join(parts)).hexdigest()

    def check(self, key: str) -> Future[Any] | None:
        """A successfully finished future with this key, or None."""
        with self._lock:
            fut = self._table.get(key)
        if fut is None and self.checkpoints is not None:
            fut = self.checkpoints.restore(key)
            if fut is not None:
                with self._lock:
                    fut = self._table.setdefault(key, fut)
        if fut is not None and fut.done() and not fut.cancelled() and fut.exception() is None:
            return fut
        return None

    def update(self, key: str, fut: Future[Any]) -> None:
        """Remember a successful result under ``key``."""
        with self._lock:
            if key in self._table:
                return
            self._table[key] = fut
        if self.checkpoints is not None and fut.done() and not fut.cancelled() and fut.exception() is None:
            self.checkpoints.add(key, fut.result())

    def __len__(self) -> int:
        return len(self._table)
