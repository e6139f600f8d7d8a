"""Static pictures of a workflow with matplotlib (headless, Agg): the task graph and a timeline.

Both return a :class:`matplotlib.figure.Figure`; save one with
``fig.savefig("dag.png")``. matplotlib is imported when a function is called.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .dataflow.states import FINAL_FAILURE_STATES, TaskState
from .jupyter.reprs import STATE_COLORS
from .monitoring.past import PastTask
from .widgets._model import GraphModel
from .widgets._sync import kernel_and_tids

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["dag", "timeline"]

S = TaskState
_RUN = (S.RUNNING, S.LAUNCHED, S.JOINING)


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure_class()(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


_FIGURE_CLASS: Any = None


def _figure_class() -> Any:
    """A Figure that shows itself as a PNG in Jupyter, with no pyplot or ``%matplotlib``."""
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        import io

        from matplotlib.figure import Figure

        class ParslFigure(Figure):
            def _repr_png_(self) -> bytes:
                buf = io.BytesIO()
                self.savefig(buf, format="png", dpi=100)
                return buf.getvalue()

        _FIGURE_CLASS = ParslFigure
    return _FIGURE_CLASS


def dag(source: Any = None, *, title: str = "Task graph", figsize: tuple[float, float] | None = None) -> Figure:
    """Draw the task graph (same layered layout as the live widget), coloured by state.

    Parameters
    ----------
    source : DataFlowKernel, AppFuture, list of futures, Run, str, Path or int, optional
        The loaded kernel (default), another kernel, the tasks behind these
        futures, or a past run read from its monitoring store (a Run from
        :func:`parsl_nb.runs`, a run directory, or a run number under ``runinfo``).
    title : str
        Figure title.
    figsize : (float, float), optional
        Size in inches; by default it follows the graph's shape.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = parsl_nb.plot.dag()          # doctest: +SKIP
    >>> fig.savefig("dag.png")
    """
    from matplotlib.collections import LineCollection

    kernel, tids = kernel_and_tids(source)
    model = GraphModel(tids)
    model.add_records([r for r in list(kernel.tasks.values()) if tids is None or r.tid in tids])
    xs, ys = list(model.slot), [-la for la in model.layer]
    width = max(xs, default=0) + 1
    fig = _figure(*(figsize or (min(14.0, 3 + 0.35 * width), min(10.0, 2 + 0.6 * (max(model.layer, default=0) + 1)))))
    ax = fig.add_subplot()
    segs = [((xs[a], ys[a]), (xs[b], ys[b])) for a, b in zip(model.edges[0::2], model.edges[1::2], strict=True)]
    ax.add_collection(LineCollection(segs, colors="#999999", linewidths=0.6, zorder=1))
    size = 80 if len(model) <= 200 else max(2.0, 4000 / max(1, len(model)))
    for s in sorted(set(model.state)):
        idx = [i for i, v in enumerate(model.state) if v == s]
        ax.scatter([xs[i] for i in idx], [ys[i] for i in idx], s=size, color=STATE_COLORS[S(s)], zorder=2,
                   label=f"{S(s).label} ({len(idx)})")
    if len(model) <= 60:
        for i, tid in enumerate(model.tid):
            ax.annotate(str(tid), (xs[i], ys[i]), ha="center", va="center", fontsize=7, color="white", zorder=3)
    ax.set_title(f"{title}: {len(model)} tasks")
    ax.set_axis_off()
    ax.margins(0.05)
    if len(model):
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return fig


def _spans(record: Any) -> list[tuple[float, float, bool]]:
    """(start, end, failed) for each try: from launch (or start) to the state after it."""
    out: list[tuple[float, float, bool]] = []
    start: float | None = None
    for state, t in record.history:
        if state in _RUN:
            if start is None or state is S.RUNNING:
                start = t  # the worker's start, when the executor reports it
        elif start is not None:
            out.append((start, t, state in FINAL_FAILURE_STATES or state is S.FAIL_RETRYABLE))
            start = None
    return out


def _engine_spans(record: Any) -> list[tuple[str, float, float, bool]]:
    """(engine, start, end, failed) per try: a past run's tries carry their own engine."""
    if isinstance(record, PastTask):
        return record.spans()
    return [(record.engine or "", s, e, f) for s, e, f in _spans(record)]


def _lanes(items: Iterable[tuple[str, float, float]]) -> dict[int, str]:
    """Pack spans without an engine into the fewest lanes per executor ("threads #0", ...)."""
    lanes: dict[int, str] = {}
    ends: dict[str, list[float]] = {}
    for k, (executor, start, end) in enumerate(sorted(items, key=lambda x: x[1])):
        free = ends.setdefault(executor, [])
        slot = next((j for j, e in enumerate(free) if e <= start), len(free))
        if slot == len(free):
            free.append(end)
        else:
            free[slot] = end
        lanes[k] = f"{executor} #{slot}"
    return lanes


def timeline(source: Any = None, *, title: str = "Task timeline", figsize: tuple[float, float] | None = None) -> Figure:
    """A Gantt chart of task run times per engine (or thread slot), coloured by app.

    Failed tries are hatched. Tasks without placement information are packed
    into lanes per executor, one lane per concurrently running task.

    Parameters
    ----------
    source : DataFlowKernel, AppFuture, list of futures, Run, str, Path or int, optional
        The loaded kernel (default), another kernel, the tasks behind these
        futures, or a past run read from its monitoring store (a Run from
        :func:`parsl_nb.runs`, a run directory, or a run number under ``runinfo``).
    title : str
        Figure title.
    figsize : (float, float), optional
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> parsl_nb.plot.timeline().savefig("timeline.png")   # doctest: +SKIP
    """
    from matplotlib.patches import Patch

    kernel, tids = kernel_and_tids(source)
    rows = []  # (lane, app, start, end, failed)
    unplaced = []
    for rec in sorted(list(kernel.tasks.values()), key=lambda r: r.tid):
        if tids is not None and rec.tid not in tids:
            continue
        for engine, start, end, failed in _engine_spans(rec):
            if engine:
                rows.append((f"engine {engine}", rec.app_name, start, end, failed))
            else:
                unplaced.append((rec.executor or "?", rec.app_name, start, end, failed))
    packed = _lanes((ex, s, e) for ex, _, s, e, _ in unplaced)
    rows += [(packed[k], app, s, e, f) for k, (_, app, s, e, f) in
             enumerate(sorted(unplaced, key=lambda x: x[2]))]
    lanes = sorted({r[0] for r in rows}, key=lambda name: (name.split(" #")[0], int(name.split("#")[-1])
                                                             if "#" in name else 0))
    apps = sorted({r[1] for r in rows})
    fig = _figure(*(figsize or (10.0, min(12.0, 1.5 + 0.3 * max(1, len(lanes))))))
    ax = fig.add_subplot()
    t0 = min((r[2] for r in rows), default=0.0)
    colors = {a: f"C{k % 10}" for k, a in enumerate(apps)}
    y = {name: k for k, name in enumerate(lanes)}
    for lane, app, start, end, failed in rows:
        ax.barh(y[lane], max(end - start, 1e-4), left=start - t0, height=0.8, color=colors[app],
                hatch="//" if failed else None, edgecolor="#c62828" if failed else "white", linewidth=0.6)
    ax.set_yticks(range(len(lanes)), lanes, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the first task started")
    ax.set_title(f"{title}: {len(rows)} runs on {len(lanes)} workers")
    if apps:
        handles = [Patch(color=colors[a], label=a) for a in apps]
        if any(r[4] for r in rows):
            handles.append(Patch(facecolor="white", edgecolor="#c62828", hatch="//", label="failed try"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return fig
