"""Messages between the kernel and engines: HMAC-signed pickles, buffers out of band.

A message is the frames ``[signature, body, *buffers]``. ``body`` is a pickled
tuple whose first item is the message kind; the signature is an HMAC-SHA256,
with the cluster's key, over the body and every buffer. Frames that fail the
check are dropped before anything is unpickled.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import io
import linecache
import os
import pickle
import types
from collections.abc import Callable, Sequence
from typing import Any

import cloudpickle
from cloudpickle.cloudpickle import _code_reduce

from ...errors import SerializationError

__all__ = ["Signer", "decode_function", "decode_value", "encode_call", "encode_function", "encode_value"]

Buffers = list[Any]
_DYNAMIC = "<dynamic-code>"  # the file name cloudpickle gives code it pickles by value


class Signer:
    """Signs and checks frames with the cluster key."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("an empty key would leave the engine channel unauthenticated")
        self._key = key

    def _digest(self, frames: Sequence[Any]) -> bytes:
        mac = hmac.new(self._key, digestmod=hashlib.sha256)
        for f in frames:
            mac.update(f)
        return mac.digest()

    def pack(self, msg: tuple[Any, ...], buffers: Sequence[Any] = ()) -> list[Any]:
        """Frames for ``msg`` (a tuple of plain values) and its buffers."""
        body = pickle.dumps(msg, protocol=5)
        return [self._digest([body, *buffers]), body, *buffers]

    def unpack(self, frames: Sequence[Any]) -> tuple[tuple[Any, ...], list[Any]] | None:
        """The message and its buffers, or None if the signature does not match."""
        if len(frames) < 2:
            return None
        sig, body, bufs = frames[0], frames[1], list(frames[2:])
        if not hmac.compare_digest(bytes(sig), self._digest([body, *bufs])):
            return None
        return pickle.loads(body), bufs


def encode_function(func: Callable[..., Any]) -> tuple[bytes, bytes]:
    """(key, bytes) of a function pickled by value; the key names the bytes.

    Code keeps its file name (cloudpickle would write ``<dynamic-code>``), and
    the source of files the engine cannot read (notebook cells) travels
    along, so a remote traceback shows the failing lines.
    """
    buf = io.BytesIO()
    pickler = _SourcePickler(buf, protocol=5)
    try:
        pickler.dump(func)
        data = pickle.dumps((buf.getvalue(), pickler.sources), protocol=5)
    except Exception as e:
        name = getattr(func, "__name__", repr(func))
        raise SerializationError(f"the function {name}", f"{type(e).__name__}: {e}") from e
    return hashlib.blake2b(data, digest_size=12).digest(), data


def decode_function(data: bytes) -> Any:
    """The function from :func:`encode_function`; its cells' source goes into ``linecache``."""
    body, sources = pickle.loads(data)
    for filename, lines in sources.items():
        if filename not in linecache.cache:
            linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    return pickle.loads(body)


class _SourcePickler(cloudpickle.Pickler):
    """cloudpickle that keeps code file names and collects unreadable sources."""

    def __init__(self, file: io.BytesIO, protocol: int) -> None:
        super().__init__(file, protocol=protocol)
        self.sources: dict[str, list[str]] = {}

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is types.CodeType:
            return self._reduce_code(obj)
        return super().reducer_override(obj)

    def _reduce_code(self, code: types.CodeType) -> Any:
        ctor, args = _code_reduce(code)
        name = code.co_filename
        if name not in self.sources and not os.path.exists(name):
            lines = linecache.getlines(name)
            if lines:
                self.sources[name] = lines
        return ctor, tuple(name if a == _DYNAMIC else a for a in args)


def encode_call(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bytes, Buffers]:
    """Pickle ``(args, kwargs)``; large buffers (numpy arrays) travel out of band."""
    bufs: Buffers = []
    if _plain(args) and _plain(kwargs):  # builtins only: plain pickle is 4x faster
        return pickle.dumps((args, kwargs), protocol=5), bufs
    try:
        data = cloudpickle.dumps((args, kwargs), protocol=5, buffer_callback=bufs.append)
    except Exception as e:
        raise SerializationError(_culprit(func, args, kwargs), f"{type(e).__name__}: {e}") from e
    return data, [b.raw() for b in bufs]


_SCALARS = frozenset({int, float, str, bool, type(None), complex})


def _plain(value: Any, budget: int = 64) -> bool:
    """True for builtin scalars in small tuples, lists and str-keyed dicts: nothing from ``__main__``."""
    kind = type(value)
    if kind in _SCALARS or (kind is bytes and len(value) < 1 << 16):
        return True
    if (kind is tuple or kind is list) and len(value) <= budget:
        return all(_plain(v, budget // 2) for v in value)
    if kind is dict and len(value) <= budget:
        return all(type(k) is str and _plain(v, budget // 2) for k, v in value.items())
    return False


def encode_value(value: Any) -> tuple[bytes, Buffers]:
    """Pickle a result or exception (plain pickle first, cloudpickle if that fails)."""
    bufs: Buffers = []
    try:
        data = pickle.dumps(value, protocol=5, buffer_callback=bufs.append)
    except Exception:
        bufs = []
        data = cloudpickle.dumps(value, protocol=5, buffer_callback=bufs.append)
    return data, [b.raw() for b in bufs]


def decode_value(data: bytes, bufs: Sequence[Any]) -> Any:
    """Unpickle; received buffers are copied so numpy arrays come back writable."""
    return pickle.loads(data, buffers=[bytearray(b) for b in bufs])


def _culprit(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    names = _arg_names(func, len(args))
    for i, value in enumerate(args):
        if not _pickles(value):
            return f"argument {names[i]!r} ({type(value).__name__})"
    for key, value in kwargs.items():
        if not _pickles(value):
            return f"argument {key!r} ({type(value).__name__})"
    return "the arguments"


def _arg_names(func: Callable[..., Any], n: int) -> list[str]:
    target = getattr(func, "func", func)  # walltime wrappers keep the app's function as .func
    try:
        params = [p.name for p in inspect.signature(target).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"#{i}" for i in range(n)]


def _pickles(value: Any) -> bool:
    try:
        cloudpickle.dumps(value, protocol=5, buffer_callback=lambda b: None)
    except Exception:
        return False
    return True
