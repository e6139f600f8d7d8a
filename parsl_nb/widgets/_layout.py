"""Incremental, stable layered layout: a placed node never moves.

A node's layer is one more than the deepest of its (already placed)
dependencies, which gives networkx's topological generations for a graph
that grows in submission order. Within a layer each node gets an integer
slot: new nodes of one batch are placed layer by layer, sorted by the
barycenter of their parents' slots (one downward crossing-reduction sweep),
each taking the free slot nearest its barycenter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["IncrementalLayout"]


class _Row:
    """The occupied slots of one layer, with near-O(1) nearest-free lookup."""

    __slots__ = ("left", "right", "used", "width")

    def __init__(self) -> None:
        self.used: set[int] = set()
        self.right: dict[int, int] = {}  # union-find: next free slot at or right of a slot
        self.left: dict[int, int] = {}   # the same, leftwards
        self.width = 0                   # one past the rightmost used slot

    def _find(self, links: dict[int, int], slot: int, step: int) -> int:
        path = []
        while slot in self.used:
            path.append(slot)
            slot = links.get(slot, slot + step)
        for s in path:  # path compression
            links[s] = slot
        return slot

    def take_near(self, target: int) -> int:
        target = max(0, target)
        r = self._find(self.right, target, 1)
        lft = self._find(self.left, target, -1)
        slot = r if lft < 0 or r - target <= target - lft else lft
        self.used.add(slot)
        self.width = max(self.width, slot + 1)
        return slot

    def take_end(self) -> int:
        slot = self.width  # every slot from the width on is free
        self.used.add(slot)
        self.width = slot + 1
        return slot


class IncrementalLayout:
    """Layers and slots for a growing DAG; positions never change once given.

    Examples
    --------
    >>> lay = IncrementalLayout()
    >>> lay.add([(0, ()), (1, ()), (2, (0, 1))])
    [(0, 0), (0, 1), (1, 0)]
    """

    def __init__(self) -> None:
        self.pos: dict[int, tuple[int, int]] = {}  # key -> (layer, slot)
        self._rows: list[_Row] = []

    def __len__(self) -> int:
        return len(self.pos)

    def _row(self, layer: int) -> _Row:
        while len(self._rows) <= layer:
            self._rows.append(_Row())
        return self._rows[layer]

    def add(self, batch: Sequence[tuple[int, Iterable[int]]]) -> list[tuple[int, int]]:
        """Place a batch of ``(key, parent_keys)``; return their ``(layer, slot)`` in order.

        Parents not placed yet (or not in the graph) are ignored; a key placed
        before keeps its position.
        """
        pos = self.pos
        fresh: dict[int, list[int]] = {}
        layer_of: dict[int, int] = {}
        for key, parents in batch:
            if key in pos or key in layer_of:
                continue
            ps = [p for p in parents if p in pos or p in layer_of] if parents else []
            fresh[key] = ps
            layer_of[key] = 1 + max((pos[p][0] if p in pos else layer_of[p] for p in ps), default=-1) if ps else 0
        by_layer: dict[int, list[int]] = {}
        for key, layer in layer_of.items():
            by_layer.setdefault(layer, []).append(key)
        for layer in sorted(by_layer):
            self._place_layer(layer, by_layer[layer], fresh)
        return [pos[key] for key, _ in batch]

    def _place_layer(self, layer: int, keys: list[int], parents: dict[int, list[int]]) -> None:
        row = self._row(layer)
        pos = self.pos
        with_bary: list[tuple[float, int]] = []
        orphans: list[int] = []
        for key in keys:
            ps = parents[key]
            if ps:
                with_bary.append((sum(pos[p][1] for p in ps) / len(ps), key))
            else:
                orphans.append(key)
        with_bary.sort()
        for bary, key in with_bary:
            pos[key] = (layer, row.take_near(round(bary)))
        for key in orphans:  # no parents: appended in submission order
            pos[key] = (layer, row.take_end())

    def layers(self) -> int:
        """Number of layers in use."""
        return len(self._rows)

    def width(self, layer: int) -> int:
        """One past the rightmost slot used in ``layer``."""
        return self._rows[layer].width if layer < len(self._rows) else 0
