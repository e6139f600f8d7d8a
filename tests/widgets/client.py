"""A Python copy of the browser's Store (static/dag.js): applies snapshots and patches, asks for resync on a gap."""

from __future__ import annotations

from parsl_nb.widgets._codec import SNAPSHOT, decode


class Client:
    def __init__(self) -> None:
        self.seq = -1
        self.tid: list[int] = []
        self.layer: list[int] = []
        self.slot: list[int] = []
        self.app: list[int] = []
        self.state: list[int] = []
        self.edges: list[int] = []
        self.apps: list[str] = []
        self.resyncs = 0

    def receive(self, data: bytes) -> bool:
        """Apply a message; return False when a resync is needed."""
        m = decode(data)
        if m.kind == SNAPSHOT:
            if m.seq < self.seq:
                return True
            resyncs = self.resyncs
            self.__init__()  # type: ignore[misc]
            self.resyncs = resyncs
        elif m.seq <= self.seq:
            return True
        elif m.seq != self.seq + 1 or m.first_node != len(self.tid):
            self.resyncs += 1
            return False
        self.tid += m.tid
        self.layer += m.layer
        self.slot += m.slot
        self.app += m.app
        self.state += m.state
        self.edges += m.edges
        for i, s in zip(m.change_index, m.change_state, strict=True):
            self.state[i] = s
        self.apps[m.app_base:m.app_base + len(m.apps)] = m.apps
        self.seq = m.seq
        return True

    def states_by_tid(self) -> dict[int, int]:
        return dict(zip(self.tid, self.state, strict=True))
