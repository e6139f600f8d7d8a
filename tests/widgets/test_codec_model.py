from __future__ import annotations

import random
from array import array

import pytest

from parsl_nb.dataflow.events import BlockEvent, TaskEvent
from parsl_nb.dataflow.states import TaskState as S
from parsl_nb.widgets._codec import HEADER, PATCH, decode, encode
from parsl_nb.widgets._model import GraphModel

from .client import Client


def new(tid: int, app: str = "a", deps: tuple[int, ...] = ()) -> TaskEvent:
    return TaskEvent(0.0, tid, app, None, S.UNSCHED, depends=deps)


def move(tid: int, old: S, to: S, app: str = "a") -> TaskEvent:
    return TaskEvent(0.0, tid, app, old, to)


@pytest.mark.parametrize("n", [0, 1, 3, 5, 1001])
def test_encode_decode_round_trip(n):
    rng = random.Random(n)
    cols = [array("i", [rng.randrange(-5, 10**6) for _ in range(n)]) for _ in range(3)]
    app = array("H", [rng.randrange(65535) for _ in range(n)])
    state = bytes(rng.randrange(11) for _ in range(n))
    edges = array("i", [rng.randrange(10**6) for _ in range(2 * (n // 2))])
    changes = [(rng.randrange(10**6), rng.randrange(11)) for _ in range(n % 7)]
    data = encode(PATCH, 42, 17, *cols, app, state, edges, changes, 3, ["α-app", "b"])
    m = decode(data)
    assert (m.kind, m.seq, m.first_node, m.app_base, m.apps) == (PATCH, 42, 17, 3, ["α-app", "b"])
    assert (m.tid, m.layer, m.slot) == tuple(c.tolist() for c in cols)
    assert m.app == app.tolist() and m.state == list(state) and m.edges == edges.tolist()
    assert list(zip(m.change_index, m.change_state, strict=True)) == changes


def test_patch_is_compact():
    m = GraphModel()
    m.apply([new(i) for i in range(5000)])
    m.take_patch()
    m.apply([move(i, S.UNSCHED, S.PENDING) for i in range(0, 5000, 20)])
    patch = m.take_patch()
    assert patch is not None and len(patch) < HEADER.size + 250 * 5 + 8  # 250 changes: 5 bytes each


def test_version_is_checked():
    data = bytearray(GraphModel().snapshot())
    data[0] = 99
    with pytest.raises(ValueError, match="version 99"):
        decode(bytes(data))


def test_patches_carry_new_nodes_edges_and_coalesced_changes():
    m = GraphModel()
    m.apply([new(0, "load"), new(1, "fit", (0,)), move(0, S.UNSCHED, S.PENDING)])
    p1 = decode(m.take_patch() or b"")
    assert (p1.seq, p1.tid, p1.edges, p1.apps) == (1, [0, 1], [0, 1], ["load", "fit"])
    assert p1.state == [S.PENDING, S.UNSCHED] and p1.change_index == []
    assert m.take_patch() is None  # nothing changed: no message
    m.apply([move(0, S.PENDING, S.LAUNCHED), move(0, S.LAUNCHED, S.RUNNING), move(0, S.RUNNING, S.EXEC_DONE),
             new(2, "fit", (0,))])
    p2 = decode(m.take_patch() or b"")
    assert (p2.seq, p2.first_node, p2.tid, p2.edges, p2.apps, p2.app_base) == (2, 2, [2], [0, 2], [], 2)
    assert list(zip(p2.change_index, p2.change_state, strict=True)) == [(0, S.EXEC_DONE)]


def test_final_states_do_not_regress_and_other_events_are_ignored():
    m = GraphModel()
    m.apply([new(0), move(0, S.UNSCHED, S.FAILED), move(0, S.PENDING, S.LAUNCHED),
             BlockEvent(0.0, "x", "0", None, "RUNNING"), move(77, S.UNSCHED, S.PENDING)])
    assert m.node(0)["state"] == "failed"  # type: ignore[index]
    assert len(m) == 1


def test_include_filters_tasks():
    m = GraphModel(include={0, 2})
    m.apply([new(0), new(1), new(2, deps=(0, 1)), move(1, S.UNSCHED, S.PENDING)])
    assert list(m.tid) == [0, 2] and list(m.edges) == [0, 1]


def test_client_replaying_patches_matches_snapshot_and_resyncs_after_a_gap():
    rng = random.Random(5)
    m = GraphModel()
    live, late = Client(), Client()
    live.receive(m.snapshot())  # the widget's first state (its _snapshot trait)
    states = [S.PENDING, S.LAUNCHED, S.RUNNING, S.EXEC_DONE]
    known: dict[int, int] = {}
    lost = 0
    for step in range(200):
        evs = []
        for _ in range(rng.randint(0, 20)):
            tid = len(known)
            known[tid] = 0
            evs.append(new(tid, f"app{tid % 3}", tuple(rng.sample(range(tid), min(tid, 2)))))
        for tid in rng.sample(sorted(known), min(len(known), 10)):
            if known[tid] < 3:
                evs.append(move(tid, states[known[tid]] if known[tid] else S.UNSCHED, states[known[tid] + 1]))
                known[tid] += 1
        m.apply(evs)
        patch = m.take_patch()
        if patch is None:
            continue
        assert live.receive(patch)
        if step == 50:
            late.receive(m.snapshot())  # a view that joined late
        elif step > 50 and not (step % 37 == 0 and lost < 3 and (lost := lost + 1)):
            if not late.receive(patch):  # a message was lost: the browser asks, Python answers
                assert late.receive(m.snapshot())
    final = decode(m.snapshot())
    for c in (live, late):
        assert c.tid == final.tid and c.state == final.state and c.edges == final.edges
        assert c.layer == final.layer and c.slot == final.slot and c.apps == final.apps
    assert late.resyncs == lost > 0


def test_snapshot_before_pending_changes_bumps_seq_so_stale_patches_are_dropped():
    m = GraphModel()
    m.apply([new(0)])
    c = Client()
    c.receive(m.snapshot())
    m.apply([move(0, S.UNSCHED, S.PENDING)])
    snap = m.snapshot()  # a resync answer while a change was pending
    assert decode(snap).seq == 2
    assert c.receive(snap) and c.state == [S.PENDING]
    assert m.take_patch() is None


def test_groups_count_states_and_link_apps():
    m = GraphModel()
    m.apply([new(0, "load"), new(1, "load"), new(2, "fit", (0, 1)), new(3, "plot", (2,)),
             move(0, S.UNSCHED, S.EXEC_DONE), move(1, S.UNSCHED, S.FAILED), move(2, S.UNSCHED, S.DEP_FAIL),
             move(3, S.UNSCHED, S.PENDING)])
    groups = {g["app"]: g for g in m.groups()}
    assert groups["load"]["counts"] == {"pending": 0, "running": 0, "done": 1, "failed": 1}
    assert groups["fit"]["deps"] == ["load"] and groups["plot"]["deps"] == ["fit"]
    assert [groups[a]["layer"] for a in ("load", "fit", "plot")] == [0, 1, 2]
