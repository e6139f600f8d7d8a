from __future__ import annotations

import time

from parsl_nb.dataflow.events import TaskEvent
from parsl_nb.dataflow.states import TaskState as S
from parsl_nb.widgets._model import GraphModel
from parsl_nb.widgets._sync import Syncer, Ticker

from .client import Client


def test_at_most_hz_messages_per_second_however_many_events():
    m = GraphModel()
    sent: list[bytes] = []
    syncer = Syncer(m, lambda content, buffers: sent.extend(buffers), hz=15)
    c = Client()
    c.receive(m.snapshot())
    tid = 0
    for ms in range(2000):  # two simulated seconds, 10 new tasks and a tick every millisecond
        m.apply([TaskEvent(0.0, tid + k, "a", None, S.UNSCHED) for k in range(10)])
        tid += 10
        syncer.tick(ms / 1000)
    assert 28 <= len(sent) <= 31  # 15 Hz, not 2,000 messages
    syncer.tick(10.0)  # the trailing patch
    for msg in sent:
        assert c.receive(msg)
    assert len(c.tid) == 20000


def test_keyframes_only_while_the_graph_changes():
    m = GraphModel()
    keys: list[bytes] = []
    syncer = Syncer(m, lambda c, b: None, hz=10, keyframe_every=1.0, keyframe=keys.append)
    for t in range(50):
        if t < 20:
            m.apply([TaskEvent(0.0, t, "a", None, S.UNSCHED)])
        syncer.tick(t / 10)
    assert len(keys) == 3  # at 0, 1 and 2 s (the last change was at 1.9 s); none after


def test_resync_sends_a_snapshot():
    m = GraphModel()
    out: list[tuple[dict, list[bytes]]] = []
    syncer = Syncer(m, lambda c, b: out.append((c, b)))
    m.apply([TaskEvent(0.0, 0, "a", None, S.UNSCHED)])
    syncer.resync()
    assert out[0][0] == {"type": "snapshot", "seq": 1}
    c = Client()
    assert c.receive(out[0][1][0]) and c.tid == [0]


def test_ticker_stops_when_done():
    calls: list[int] = []
    t = Ticker(lambda: calls.append(1), 0.01, done=lambda: len(calls) >= 3)
    deadline = time.monotonic() + 5
    while t.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not t.alive and len(calls) == 4  # one last call after done() turned true
