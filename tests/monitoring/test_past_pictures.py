"""A finished run drawn from its monitoring store alone: DagWidget.from_run, plot.dag and plot.timeline."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

import parsl_nb as parsl
from parsl_nb import Config, ThreadPoolExecutor, python_app
from parsl_nb.errors import DependencyError

pytest.importorskip("anywidget")
pytest.importorskip("matplotlib")


@python_app
def inc(x: int) -> int:
    return x + 1


@python_app
def boom(x: int) -> int:
    raise ValueError(f"boom {x}")


# Runs in a fresh interpreter: no kernel, only the run directory on disk.
_DRAW = r"""
import json, sys
from parsl_nb import plot, runs
from parsl_nb.widgets import DagWidget

run_dir, out = sys.argv[1], sys.argv[2]
run = runs(run_dir)[-1]
w = DagWidget.from_run(run, view="nodes")
g = w.graph
states = {int(t): g.node(int(t))["state"] for t in g.tid}
edges = sorted((g.tid[a], g.tid[b]) for a, b in zip(g.edges[0::2], g.edges[1::2]))
failed = [t for t, s in states.items() if s == "failed"][0]
detail = w.detail(failed)
html = w.to_html()
w.close()
by_path = DagWidget.from_run(str(run.path))
n_by_path = len(by_path.graph)
by_path.close()
fig = plot.dag(run)
fig.savefig(out + "/dag.png")
tl = plot.timeline(str(run.path))
tl.savefig(out + "/timeline.png")
ax = tl.axes[0]
bars = [p for p in ax.patches if p.get_width() > 0]
hatched = [p for p in bars if p.get_hatch()]
print(json.dumps({"states": states, "edges": edges, "detail": detail, "html_has_svg": "<svg" in html,
                  "n_by_path": n_by_path, "dag_title": fig.axes[0].get_title(), "bars": len(bars),
                  "hatched": len(hatched), "lanes": [t.get_text() for t in ax.get_yticklabels()]}))
"""


def _draw_in_fresh_process(run_dir: str, out: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", _DRAW, run_dir, out], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_finished_run_is_drawn_from_the_store_in_a_fresh_process(tmp_path):
    run_dir = str(tmp_path / "runinfo")
    parsl.load(Config(executors=[ThreadPoolExecutor(label="threads", max_threads=2)], run_dir=run_dir, retries=1))
    a = inc(1)
    b = inc(a)
    c = boom(b)
    d = inc(c)
    b.result()
    with pytest.raises(ValueError):
        c.result()
    with pytest.raises(DependencyError):
        d.result()
    tids = [f.tid for f in (a, b, c, d)]
    parsl.clear()  # no kernel state left: everything below comes from the store

    got = _draw_in_fresh_process(run_dir, str(tmp_path))

    assert got["states"] == {str(tids[0]): "exec_done", str(tids[1]): "exec_done", str(tids[2]): "failed",
                             str(tids[3]): "dep_fail"}
    assert got["edges"] == [[tids[0], tids[1]], [tids[1], tids[2]], [tids[2], tids[3]]]
    detail = got["detail"]
    assert detail["tid"] == tids[2] and detail["app"] == "boom" and detail["tries"] == 2
    assert "ValueError: boom 3" in detail["exception"]
    assert [h["state"] for h in detail["history"]][-1] == "failed"
    assert "fail_retryable" in [h["state"] for h in detail["history"]]
    assert "<task" in detail["args"]
    assert got["html_has_svg"] and got["n_by_path"] == 4
    assert got["dag_title"].endswith("4 tasks")
    # a, b and two failed tries of c ran; d never did
    assert got["bars"] == 4 and got["hatched"] == 2
    assert all(lane.startswith("threads #") for lane in got["lanes"])
    assert (tmp_path / "dag.png").stat().st_size > 1000 and (tmp_path / "timeline.png").stat().st_size > 1000


def test_a_run_number_names_a_run_under_runinfo(tmp_path, monkeypatch):
    from parsl_nb import plot
    from parsl_nb.widgets import DagWidget

    monkeypatch.chdir(tmp_path)
    parsl.load(Config(executors=[ThreadPoolExecutor(label="threads", max_threads=2)]))
    inc(inc(0)).result()
    parsl.clear()
    run = parsl.runs()[-1]
    w = DagWidget.from_run(int(run.path.name))
    try:
        assert len(w.graph) == 2
    finally:
        w.close()
    assert plot.dag(run.path.name).axes[0].get_title().endswith("2 tasks")
    with pytest.raises(LookupError):
        DagWidget.from_run(999)
    with pytest.raises(LookupError, match="no monitoring.db"):
        plot.timeline(str(tmp_path))
