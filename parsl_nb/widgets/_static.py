"""Static HTML of a widget's last state: what a saved notebook shows without a live kernel."""

from __future__ import annotations

import html
from collections.abc import Mapping

from ..dataflow.states import TaskState
from ..jupyter.reprs import STATE_COLORS
from ._model import BUCKETS, GraphModel

__all__ = ["BUCKET_COLORS", "dag_html", "progress_html"]

BUCKET_COLORS = {"pending": "#f0ad4e", "running": "#0275d8", "done": "#2e7d32", "failed": "#c62828"}
_SVG_LIMIT = 600
_DX, _DY, _R = 24, 40, 8


def _legend(states: set[int]) -> str:
    items = "".join(
        f'<span style="margin-right:10px"><span style="display:inline-block;width:10px;height:10px;'
        f'background:{STATE_COLORS[TaskState(s)]};border-radius:5px"></span> {TaskState(s).label}</span>'
        for s in sorted(states))
    return f'<div style="font:12px sans-serif">{items}</div>'


def _svg(model: GraphModel) -> str:
    xs = [s * _DX + _R + 2 for s in model.slot]
    ys = [la * _DY + _R + 2 for la in model.layer]
    width = max(xs, default=0) + _R + 4
    height = max(ys, default=0) + _R + 4
    lines = "".join(
        f'<line x1="{xs[a]}" y1="{ys[a]}" x2="{xs[b]}" y2="{ys[b]}"/>'
        for a, b in zip(model.edges[0::2], model.edges[1::2], strict=True))
    dots = "".join(
        f'<circle cx="{x}" cy="{y}" r="{_R}" fill="{STATE_COLORS[TaskState(s)]}" data-tid="{t}" '
        f'data-state="{TaskState(s).label}"><title>task {t} {html.escape(model.apps[a])} '
        f"{TaskState(s).label}</title></circle>"
        for x, y, s, t, a in zip(xs, ys, model.state, model.tid, model.app, strict=True))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{min(width, 900)}" '
            f'viewBox="0 0 {width} {height}"><g stroke="#bbb">{lines}</g><g>{dots}</g></svg>')


def _bar(counts: Mapping[str, int], width: int = 240) -> str:
    total = sum(counts.values()) or 1
    segs = "".join(
        f'<span style="display:inline-block;height:10px;width:{counts[b] * width // total}px;'
        f'background:{BUCKET_COLORS[b]}"></span>' for b in BUCKETS if counts.get(b))
    return f'<span style="display:inline-block;width:{width}px;background:#eee;line-height:0">{segs}</span>'


def progress_html(counts: Mapping[str, Mapping[str, int]], title: str = "Progress") -> str:
    """Bars per app and overall, as static HTML (``counts``: app -> bucket -> n)."""
    total = {b: sum(c.get(b, 0) for c in counts.values()) for b in BUCKETS}
    rows = [*sorted(counts.items()), ("all", total)]
    body = "".join(
        f'<tr data-app="{html.escape(app)}"><th style="text-align:left;padding-right:8px">{html.escape(app)}</th>'
        f"<td>{_bar(c)}</td><td style=\"padding-left:8px\">{c.get('done', 0)} done, {c.get('failed', 0)} failed, "
        f"{c.get('running', 0)} running, {c.get('pending', 0)} pending</td></tr>"
        for app, c in rows)
    return (f'<div class="parsl-nb-progress-static" style="font:12px sans-serif"><b>{html.escape(title)}</b>'
            f"<table>{body}</table></div>")


def dag_html(model: GraphModel, title: str = "Task graph") -> str:
    """The graph as SVG (small graphs) or as bars grouped by app, with a legend."""
    with model.lock:
        n = len(model)
        head = f"<b>{html.escape(title)}</b> ({n} tasks, {len(model.edges) // 2} dependencies)"
        if n <= _SVG_LIMIT:
            body = _legend(set(model.state)) + _svg(model)
        else:
            body = progress_html(model.counts(), "grouped by app")
    return f'<div class="parsl-nb-dag-static" style="font:12px sans-serif">{head}{body}</div>'
