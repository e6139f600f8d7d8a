"""The binary wire format of the DAG widget: one self-contained buffer per message.

Little-endian. A 32-byte header (``<BBHIIIIIII``: version, kind, reserved,
seq, first_node, n_nodes, n_edges, n_changes, app_base, apps_len), then
4-byte aligned columns: ``tid``, ``layer`` and ``slot`` (int32 each),
``app`` (uint16), ``state`` (uint8) for the new nodes; ``edges`` (int32
pairs of node indices, dependency first); ``change_index`` (int32) and
``change_state`` (uint8) for state changes of nodes sent before; and the
names of new apps, numbered from ``app_base``, as UTF-8 JSON.

A snapshot (kind 0) holds every node (``first_node`` 0) and no changes; a
patch (kind 1) holds what happened since the message with ``seq - 1``.
``static/dag.js`` decodes the same layout.
"""

from __future__ import annotations

import json
import struct
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["HEADER", "SNAPSHOT", "PATCH", "VERSION", "Message", "decode", "encode"]

VERSION = 1
SNAPSHOT = 0
PATCH = 1
HEADER = struct.Struct("<BBHIIIIIII")
_SWAP = sys.byteorder != "little"


@dataclass(slots=True)
class Message:
    """A decoded snapshot or patch (the same fields the browser reads)."""

    kind: int
    seq: int
    first_node: int = 0
    tid: list[int] = field(default_factory=list)
    layer: list[int] = field(default_factory=list)
    slot: list[int] = field(default_factory=list)
    app: list[int] = field(default_factory=list)
    state: list[int] = field(default_factory=list)
    edges: list[int] = field(default_factory=list)
    change_index: list[int] = field(default_factory=list)
    change_state: list[int] = field(default_factory=list)
    app_base: int = 0
    apps: list[str] = field(default_factory=list)


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


def _le(a: array[int]) -> bytes:
    if _SWAP:
        a = array(a.typecode, a)
        a.byteswap()
    return a.tobytes()


def encode(kind: int, seq: int, first_node: int, tid: array[int], layer: array[int], slot: array[int],
           app: array[int], state: bytes | bytearray, edges: array[int], changes: Sequence[tuple[int, int]],
           app_base: int, apps: Sequence[str]) -> bytes:
    """Pack one message; the node columns are already sliced to the new nodes."""
    n = len(tid)
    names = json.dumps(list(apps), separators=(",", ":")).encode() if apps else b""
    ci = array("i", [i for i, _ in changes])
    cs = bytes(s for _, s in changes)
    parts = [HEADER.pack(VERSION, kind, 0, seq, first_node, n, len(edges) // 2, len(ci), app_base, len(names)),
             _le(tid), _le(layer), _le(slot), _le(app), _pad(2 * n), bytes(state), _pad(n),
             _le(edges), _le(ci), cs, _pad(len(cs)), names]
    return b"".join(parts)


def _take(buf: memoryview, off: int, code: str, count: int) -> tuple[list[int], int]:
    a = array(code)
    size = a.itemsize * count
    a.frombytes(buf[off:off + size])
    if _SWAP:
        a.byteswap()
    return a.tolist(), off + size + (-size % 4)


def decode(data: bytes) -> Message:
    """Unpack a message made by :func:`encode` (used by tests and tools)."""
    buf = memoryview(data)
    version, kind, _, seq, first, n, ne, nc, app_base, napps = HEADER.unpack_from(buf, 0)
    if version != VERSION:
        raise ValueError(f"DAG message version {version}, this parsl_nb reads version {VERSION}")
    off = HEADER.size
    m = Message(kind, seq, first, app_base=app_base)
    m.tid, off = _take(buf, off, "i", n)
    m.layer, off = _take(buf, off, "i", n)
    m.slot, off = _take(buf, off, "i", n)
    m.app, off = _take(buf, off, "H", n)
    m.state, off = _take(buf, off, "B", n)
    m.edges, off = _take(buf, off, "i", 2 * ne)
    m.change_index, off = _take(buf, off, "i", nc)
    m.change_state, off = _take(buf, off, "B", nc)
    m.apps = json.loads(bytes(buf[off:off + napps])) if napps else []
    return m
