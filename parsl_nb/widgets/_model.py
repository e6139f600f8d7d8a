"""The DAG widget's model: nodes, edges and states as compact columns, plus what changed.

Pure Python with no widget library, so it is cheap to test. One lock guards
it: the widget's sync thread brings it up to the task records and takes
patches, snapshots are also taken on the notebook's thread (events, which
tests and other feeds may apply, on the thread that delivers them).
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

from ..dataflow.events import Event, TaskEvent
from ..dataflow.states import FINAL_STATES, TaskState
from ._codec import PATCH, SNAPSHOT, encode
from ._layout import IncrementalLayout

__all__ = ["BUCKETS", "GraphModel", "bucket_of"]

S = TaskState
BUCKETS = ("pending", "running", "done", "failed")
_BUCKET = {S.UNSCHED: 0, S.PENDING: 0, S.FAIL_RETRYABLE: 0, S.LAUNCHED: 1, S.RUNNING: 1, S.JOINING: 1,
           S.EXEC_DONE: 2, S.MEMO_DONE: 2, S.FAILED: 3, S.DEP_FAIL: 3, S.CANCELLED: 3}
_FINAL = frozenset(int(s) for s in FINAL_STATES)


def bucket_of(state: int) -> str:
    """Progress bucket of a state: pending, running, done or failed."""
    return BUCKETS[_BUCKET[S(state)]]


class GraphModel:
    """Every task shown by one widget, in submission order, with its layout.

    Parameters
    ----------
    include : set of int, optional
        Only these task ids (the tasks behind some futures); default all.
    """

    def __init__(self, include: set[int] | None = None) -> None:
        self.include = include
        self.lock = threading.RLock()
        self.layout = IncrementalLayout()
        self.index: dict[int, int] = {}
        self.tid = array("i")
        self.layer = array("i")
        self.slot = array("i")
        self.app = array("H")
        self.state = bytearray()
        self.edges = array("i")
        self.apps: list[str] = []
        self._app_index: dict[str, int] = {}
        self.seq = 0
        self._sent_nodes = 0
        self._sent_edges = 0
        self._sent_apps = 0
        self._changes: dict[int, int] = {}
        self.version = 0  # bumped on every change, for the static fallback and the UI

    def __len__(self) -> int:
        return len(self.tid)

    # ------------------------------------------------------------ feeding
    def add_records(self, records: Iterable[Any]) -> None:
        """Add tasks from task records (the kernel's ``tasks`` values), in tid order."""
        rows = sorted((r.tid, r.app_name, tuple(r.depends), int(r.status)) for r in records)
        self.add_rows(rows)

    def set_states(self, changes: Iterable[tuple[int, int | None, int]]) -> None:
        """Record new states, as ``(tid, old, new)`` (what a TaskWatch poll gives)."""
        with self.lock:
            for tid, _, state in changes:
                self._set_state(tid, state)

    def apply(self, events: Sequence[Event]) -> None:
        """Apply a batch of kernel events: new tasks become nodes, state changes are recorded."""
        new: list[tuple[int, str, tuple[int, ...], int]] = []
        with self.lock:
            for ev in events:
                if not isinstance(ev, TaskEvent):
                    continue
                if ev.old is None:
                    if ev.tid not in self.index and (self.include is None or ev.tid in self.include):
                        new.append((ev.tid, ev.app, ev.depends, int(ev.new)))
                    continue
                if new:
                    self.add_rows(new)
                    new = []
                self._set_state(ev.tid, int(ev.new))
            if new:
                self.add_rows(new)

    def add_rows(self, rows: Sequence[tuple[int, str, tuple[int, ...], int]]) -> None:
        """Add tasks as ``(tid, app, depends, state)`` rows, in tid order (what a TaskWatch poll gives)."""
        with self.lock:
            rows = [r for r in rows if r[0] not in self.index and (self.include is None or r[0] in self.include)]
            if not rows:
                return
            placed = self.layout.add([(tid, deps) for tid, _, deps, _ in rows])
            for (tid, app, deps, state), (layer, slot) in zip(rows, placed, strict=True):
                i = len(self.tid)
                self.index[tid] = i
                self.tid.append(tid)
                self.layer.append(layer)
                self.slot.append(slot)
                self.app.append(self._app_id(app))
                self.state.append(state)
                for d in deps:
                    j = self.index.get(d)
                    if j is not None:
                        self.edges.extend((j, i))
            self.version += 1

    def _app_id(self, app: str) -> int:
        n = self._app_index.get(app)
        if n is None:
            n = self._app_index[app] = len(self.apps)
            self.apps.append(app)
        return n

    def _set_state(self, tid: int, state: int) -> None:
        i = self.index.get(tid)
        if i is None or self.state[i] == state or self.state[i] in _FINAL:
            return  # unknown, unchanged, or final (final states never change)
        self.state[i] = state
        if i < self._sent_nodes:
            self._changes[i] = state
        self.version += 1

    # ------------------------------------------------------------ sync
    @property
    def dirty(self) -> bool:
        """Whether something changed since the last patch or snapshot."""
        return bool(self._changes) or self._sent_nodes < len(self.tid) or self._sent_edges < len(self.edges)

    def snapshot(self) -> bytes:
        """Everything, at the current sequence number (a resync answer or keyframe)."""
        with self.lock:
            self._mark_sent()
            return encode(SNAPSHOT, self.seq, 0, self.tid, self.layer, self.slot, self.app, self.state,
                          self.edges, (), 0, self.apps)

    def _mark_sent(self) -> None:
        # a snapshot carries everything, and the browser reads patches after it from seq + 1
        if self.dirty:
            self.seq += 1
        self._sent_nodes, self._sent_edges, self._sent_apps = len(self.tid), len(self.edges), len(self.apps)
        self._changes.clear()

    def take_patch(self) -> bytes | None:
        """What changed since the previous message, with the next sequence number; None if nothing."""
        with self.lock:
            if not self.dirty:
                return None
            a, e, p = self._sent_nodes, self._sent_edges, self._sent_apps
            self.seq += 1
            out = encode(PATCH, self.seq, a, self.tid[a:], self.layer[a:], self.slot[a:], self.app[a:],
                         self.state[a:], self.edges[e:], sorted(self._changes.items()), p, self.apps[p:])
            self._sent_nodes, self._sent_edges, self._sent_apps = len(self.tid), len(self.edges), len(self.apps)
            self._changes.clear()
            return out

    # ------------------------------------------------------------ views
    def all_final(self) -> bool:
        """Whether every task shown has reached a final state."""
        with self.lock:
            return all(s in _FINAL for s in self.state)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per app: how many tasks are pending, running, done and failed."""
        with self.lock:
            out = {a: dict.fromkeys(BUCKETS, 0) for a in self.apps}
            names = self.apps
            for a, s in zip(self.app, self.state, strict=True):
                out[names[a]][BUCKETS[_BUCKET[S(s)]]] += 1
            return out

    def groups(self) -> list[dict[str, Any]]:
        """The grouped view: one group per app, its first layer, state counts and app-level edges."""
        with self.lock:
            first: dict[int, int] = {}
            for a, layer in zip(self.app, self.layer, strict=True):
                if a not in first or layer < first[a]:
                    first[a] = layer
            links: set[tuple[int, int]] = set()
            for k in range(0, len(self.edges), 2):
                src, dst = self.app[self.edges[k]], self.app[self.edges[k + 1]]
                if src != dst:
                    links.add((src, dst))
            counts = self.counts()
            return [{"app": name, "layer": first.get(a, 0), "counts": counts[name],
                     "deps": sorted(self.apps[s] for s, d in links if d == a)}
                    for a, name in enumerate(self.apps)]

    def node(self, tid: int) -> dict[str, Any] | None:
        """The row of one task: tid, app, state, layer, slot."""
        with self.lock:
            i = self.index.get(tid)
            if i is None:
                return None
            return {"tid": tid, "app": self.apps[self.app[i]], "state": S(self.state[i]).label,
                    "layer": self.layer[i], "slot": self.slot[i]}
