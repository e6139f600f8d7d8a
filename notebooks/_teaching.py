"""Small helpers shared by the teaching notebooks (not part of parsl_nb).

They stand in for pieces of parsl_nb that are still being written, so every
notebook runs today:

- :func:`timeline` draws what ran when from the task records, until
  ``parsl_nb.plot.timeline`` exists;
- :func:`dag` draws the task graph with matplotlib, until
  ``parsl_nb.widgets.DagWidget`` exists;
- :func:`separate_memory_executor` gives local ipyparallel engines when the
  engine executor is installed, else :class:`ProcessStandIn`, a pool of
  separate processes, so the lessons about separate memory stay true.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from typing import Any

import cloudpickle

from parsl_nb.dataflow.states import TaskState
from parsl_nb.executors.base import Executor, ExecutorContext, TaskSpec

__all__ = ["ProcessStandIn", "dag", "separate_memory_executor", "spans", "timeline"]

_FINAL = {TaskState.EXEC_DONE, TaskState.MEMO_DONE, TaskState.FAILED, TaskState.DEP_FAIL, TaskState.CANCELLED}


# ------------------------------------------------------------------ timeline
def spans(dfk: Any, futures: Any = None) -> list[tuple[int, str, float, float]]:
    """``(tid, app, start, end)`` of finished tasks, in seconds from the first start.

    ``start`` is when a worker started the task (``RUNNING``), or when it was
    handed to the executor if the executor does not report starts.
    """
    if futures is None:
        records = list(dfk.tasks.values())
    else:
        records = [f.task_record for f in futures]
    rows = []
    for rec in records:
        times = dict(rec.history)  # the last time of each state
        start = times.get(TaskState.RUNNING, times.get(TaskState.LAUNCHED))
        end = next((t for s, t in rec.history if s in _FINAL), None)
        if start is not None and end is not None:
            rows.append((rec.tid, rec.app_name, start, end))
    t0 = min((r[2] for r in rows), default=0.0)
    return [(tid, name, s - t0, e - t0) for tid, name, s, e in sorted(rows)]


def timeline(dfk: Any, futures: Any = None, title: str = "what ran when") -> Any:
    """A matplotlib Figure: one bar per task, from its start to its end."""
    import matplotlib.pyplot as plt

    rows = spans(dfk, futures)
    names = sorted({name for _, name, _, _ in rows})
    colours = {name: f"C{i}" for i, name in enumerate(names)}
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 1.2))
    for y, (tid, name, start, end) in enumerate(rows):
        ax.barh(y, end - start, left=start, color=colours[name], edgecolor="black")
    ax.set_yticks(range(len(rows)), [f"task {tid} {name}" for tid, name, _, _ in rows])
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the first task started")
    ax.set_title(title)
    fig.tight_layout()
    plt.close(fig)  # shown once, as the cell's value
    return fig


# ----------------------------------------------------------------------- dag
def dag(dfk: Any, title: str = "task graph") -> Any:
    """A matplotlib Figure of ``dfk.graph``: dependencies on the left, dependants on the right."""
    import matplotlib.pyplot as plt
    import networkx as nx

    g = dfk.graph
    for layer, nodes in enumerate(nx.topological_generations(g)):
        for n in nodes:
            g.nodes[n]["layer"] = layer
    pos = nx.multipartite_layout(g, subset_key="layer")
    state = {n: dfk.tasks[n].status for n in g.nodes}
    colour = {TaskState.EXEC_DONE: "tab:green", TaskState.MEMO_DONE: "tab:olive", TaskState.FAILED: "tab:red",
              TaskState.DEP_FAIL: "tab:orange", TaskState.CANCELLED: "tab:gray"}
    fig, ax = plt.subplots(figsize=(7, 4))
    nx.draw_networkx(g, pos, ax=ax, node_color=[colour.get(state[n], "tab:blue") for n in g.nodes],
                     labels={n: f"{n}\n{dfk.tasks[n].app_name}" for n in g.nodes}, font_size=7,
                     node_size=900, arrowsize=12)
    ax.set_title(title + " (blue: not done, green: done, red: failed, orange: dep_fail)")
    ax.axis("off")
    fig.tight_layout()
    plt.close(fig)
    return fig


# ------------------------------------------------- separate-memory executor
def _run_pickled(payload: bytes) -> Any:
    func, args, kwargs = cloudpickle.loads(payload)
    return func(*args, **kwargs)


class ProcessStandIn(Executor):
    """Tasks run in a pool of separate Python processes (a stand-in for engines).

    Functions and arguments are serialised with cloudpickle, as the engine
    executor does, so a task sees copies of its arguments and none of the
    notebook's globals.
    """

    def __init__(self, label: str = "engines", max_workers: int = 2) -> None:
        self.label = label
        self.max_workers = max_workers
        self._pool: cf.ProcessPoolExecutor | None = None

    def start(self, context: ExecutorContext) -> None:
        """Start the worker processes."""
        self.run_dir = context.run_dir
        self._pool = cf.ProcessPoolExecutor(self.max_workers, mp_context=multiprocessing.get_context("spawn"))

    def submit_task(self, task: TaskSpec) -> cf.Future[Any]:
        """Send the task, pickled, to a worker process."""
        assert self._pool is not None, "start() first"
        return self._pool.submit(_run_pickled, cloudpickle.dumps((task.func, task.args, task.kwargs)))

    def shutdown(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def status_summary(self) -> dict[str, Any]:
        """Kind and number of processes."""
        return {"label": self.label, "kind": "processes (engine stand-in)", "workers": self.max_workers}

    def __repr__(self) -> str:
        return f"ProcessStandIn(label={self.label!r}, max_workers={self.max_workers})"


def separate_memory_executor(label: str = "engines", workers: int = 2) -> tuple[Executor, str]:
    """Local ipyparallel engines if parsl_nb has them, else :class:`ProcessStandIn`.

    Returns the executor and a word for what it is: ``"engines"`` or ``"processes"``.
    """
    try:
        from parsl_nb.executors import EngineExecutor
    except ImportError:
        return ProcessStandIn(label=label, max_workers=workers), "processes"
    return EngineExecutor(label=label, engines_per_node=workers), "engines"
