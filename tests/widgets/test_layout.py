from __future__ import annotations

import random

import networkx as nx

from parsl_nb.widgets._layout import IncrementalLayout


def random_dag(n: int, seed: int = 1) -> list[tuple[int, list[int]]]:
    rng = random.Random(seed)
    return [(i, rng.sample(range(i), min(i, rng.randint(0, 3)))) for i in range(n)]


def test_layers_are_topological_generations():
    rows = random_dag(400)
    lay = IncrementalLayout()
    lay.add(rows)
    g = nx.DiGraph()
    g.add_nodes_from(i for i, _ in rows)
    g.add_edges_from((p, i) for i, ps in rows for p in ps)
    for depth, gen in enumerate(nx.topological_generations(g)):
        assert {lay.pos[n][0] for n in gen} == {depth}


def test_nodes_never_move_when_others_are_added():
    rows = random_dag(1000, seed=7)
    lay = IncrementalLayout()
    seen: dict[int, tuple[int, int]] = {}
    for start in range(0, 1000, 37):  # batches of odd sizes, as events arrive
        lay.add(rows[start:start + 37])
        for k, p in seen.items():
            assert lay.pos[k] == p
        seen = dict(lay.pos)
    assert len(seen) == 1000


def test_positions_are_unique():
    lay = IncrementalLayout()
    lay.add(random_dag(2000, seed=3))
    assert len(set(lay.pos.values())) == 2000


def test_children_sit_under_their_parents():
    lay = IncrementalLayout()
    lay.add([(i, ()) for i in range(10)])
    # children in reverse order of their parents: barycenter sorting uncrosses them
    lay.add([(100 + i, (9 - i,)) for i in range(10)])
    for i in range(10):
        assert lay.pos[100 + i] == (1, lay.pos[9 - i][1])


def test_readding_and_unknown_parents_are_harmless():
    lay = IncrementalLayout()
    first = lay.add([(1, (999,)), (2, (1,))])
    assert first == [(0, 0), (1, 0)]
    assert lay.add([(1, ()), (3, (2,))]) == [(0, 0), (2, 0)]


def test_fan_in_goes_to_the_middle():
    lay = IncrementalLayout()
    lay.add([(i, ()) for i in range(9)])
    assert lay.add([(50, tuple(range(9)))]) == [(1, 4)]
