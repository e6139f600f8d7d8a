"""Small helpers shared by the teaching notebooks (not part of parsl_nb).

- :func:`spans` reads start and end times from the task records, so a
  notebook can check what its timeline shows;
- :func:`separate_memory_executor` gives local ipyparallel engines when the
  engine executor is installed, else :class:`ProcessStandIn`, a pool of
  separate processes, so the lessons about separate memory stay true until
  the engine executor lands.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from typing import Any

import cloudpickle

from parsl_nb.dataflow.states import TaskState
from parsl_nb.executors.base import Executor, ExecutorContext, TaskSpec

__all__ = ["ProcessStandIn", "separate_memory_executor", "spans"]

_FINAL = {TaskState.EXEC_DONE, TaskState.MEMO_DONE, TaskState.FAILED, TaskState.DEP_FAIL, TaskState.CANCELLED}


# --------------------------------------------------------------------- spans
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


# ------------------------------------------------- separate-memory executor
def _run_pickled(payload: bytes) -> Any:
    func, args, kwargs = cloudpickle.loads(payload)
    return func(*args, **kwargs)


class ProcessStandIn(Executor):
    """Tasks run in a pool of separate Python processes (a stand-in for engines).

    Functions and arguments are serialised with cloudpickle, as the engine
    executor does, so a task sees copies of its arguments and of the globals
    its function names, taken when the task is sent.
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
