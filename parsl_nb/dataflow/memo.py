"""Memoization: a task with the same function source and arguments is served once."""

from __future__ import annotations

import hashlib
import inspect
import logging
import pickle
import threading
import types
from collections.abc import Callable
from concurrent.futures import Future
from functools import singledispatch
from typing import TYPE_CHECKING, Any

from ..apps.base import function_hash
from ..data.files import File
from .taskrecord import TaskRecord

if TYPE_CHECKING:
    from .checkpoint import Checkpointer

__all__ = ["Memoizer", "id_for_memo"]

logger = logging.getLogger(__name__)


class _NoIdForMemo(ValueError):
    """A value of a type with no registered id_for_memo (Parsl raises ValueError too)."""

    bad_type: type | None = None


@singledispatch
def id_for_memo(obj: Any, output_ref: bool = False) -> bytes:
    """Bytes that identify ``obj`` in a memo key (Parsl's singledispatch function).

    Supported types: ``str``, ``int``, ``float``, ``bool``, ``bytes``,
    ``None``, ``list``, ``tuple``, ``set``, ``frozenset`` and ``dict`` (of
    supported values), plain functions (by name and source), and
    :class:`~parsl_nb.data.files.File` (by URL). Parsl supports the same
    except ``bytes``, sets, ``File`` and subclasses of list, tuple and dict
    (such as named tuples). Numpy arrays are not supported in either: register
    them, for example by ``dtype``, ``shape`` and ``tobytes()``.

    Any other type raises ``ValueError``, as in Parsl: a ``cache=True`` task
    with such an argument fails with it. Register the type, or leave the
    argument out of the key with ``ignore_for_cache=[...]``.

    Parameters
    ----------
    obj : object
        The value.
    output_ref : bool
        True for the files of ``outputs=`` (their content is not there yet).

    Examples
    --------
    >>> from parsl_nb.dataflow.memoization import id_for_memo
    >>> class Point:
    ...     def __init__(self, x, y):
    ...         self.x, self.y = x, y
    >>> @id_for_memo.register(Point)
    ... def _(p, output_ref=False):
    ...     return id_for_memo((p.x, p.y))
    >>> id_for_memo(Point(1, 2)) == id_for_memo(Point(1, 2))
    True
    """
    cls = type(obj)
    err = _NoIdForMemo(f"unknown type for memoization: {cls.__module__}.{cls.__qualname__}")
    err.bad_type = cls
    raise err


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


@id_for_memo.register(types.FunctionType)
def _function(obj: types.FunctionType, output_ref: bool = False) -> bytes:
    # Parsl keys a function by module and name; the source is added, so an edited function is a new key
    return b"function:" + obj.__module__.encode() + b":" + function_hash(obj).encode()


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

    def make_key(self, record: TaskRecord, func_hash: str, outputs: list[File],
                 body: Callable[..., Any] | None = None) -> str:
        """The memo key of a task whose arguments are resolved.

        Raises
        ------
        ValueError
            An argument (or a value inside one) has a type with no
            ``id_for_memo``; the message names the argument and the fix.
        Exception
            Whatever a registered ``id_for_memo`` raised, with a note naming the argument.
        """
        kwargs = {k: v for k, v in record.kwargs.items() if k not in record.ignore_for_cache}
        try:
            parts = [func_hash.encode(), id_for_memo(record.args), id_for_memo(kwargs),
                     id_for_memo(outputs, output_ref=True)]
        except Exception as e:
            named = _unmemoizable(e, record, kwargs, body)
            if named is None:  # a registered id_for_memo raised: the task fails with its own error
                raise
            raise named from None
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


def _unmemoizable(exc: Exception, record: TaskRecord, kwargs: dict[str, Any],
                  body: Callable[..., Any] | None) -> ValueError | None:
    """The error for an argument of a type with no id_for_memo (None: keep ``exc``, noted)."""
    where = f"task {record.tid} ({record.app_name})"
    culprit = _culprit(record.args, kwargs, body)
    if not isinstance(exc, _NoIdForMemo) or exc.bad_type is None:
        if hasattr(exc, "add_note"):  # Python 3.11+
            exc.add_note(f"raised by id_for_memo for {culprit[0] if culprit else 'an argument'} of {where}")
        return None
    bad = exc.bad_type
    if culprit is None:  # outputs= (the app checks they are Files, so a user's own id_for_memo broke)
        return ValueError(f"{where} cannot be memoized: {exc}")
    label, value, name = culprit
    inside = "" if type(value) is bad else f" (a {type(value).__qualname__}) holds a value that"
    if label.startswith("keyword"):
        skip = f" with ignore_for_cache=[{name!r}]"
    elif name is not None:
        skip = f": pass it as {name}=... and list it in ignore_for_cache=[{name!r}]"
    else:
        skip = ": pass it by keyword and list that keyword in ignore_for_cache=[...]"
    return ValueError(
        f"{where} cannot be memoized: {label}{inside} is of type {bad.__module__}.{bad.__qualname__}, "
        f"which has no id_for_memo to put it in the cache key; register one with "
        f"@id_for_memo.register({bad.__qualname__}) (from parsl_nb.dataflow.memoization import id_for_memo), "
        f"or leave the argument out of the key{skip}"
    )


def _culprit(args: tuple[Any, ...], kwargs: dict[str, Any],
             body: Callable[..., Any] | None) -> tuple[str, Any, str | None] | None:
    """(label, value, parameter name) of the first argument whose id_for_memo fails, or None."""
    names = _positional_names(body)
    for i, value in enumerate(args):
        if _fails(value):
            name = names[i] if i < len(names) else None
            return f"positional argument {i}" + (f" ({name!r})" if name else ""), value, name
    for key, value in kwargs.items():
        if _fails(value):
            return f"keyword argument {key!r}", value, key
    return None
def _fails(value: Any) -> bool:
    try:
        id_for_memo(value)
    except Exception:
        return True
    return False


def _positional_names(body: Callable[..., Any] | None) -> list[str]:
    if body is None:
        return []
    try:
        params = inspect.signature(body).parameters.values()
    except (TypeError, ValueError):
        return []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in positional]
