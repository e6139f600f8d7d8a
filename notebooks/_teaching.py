"""Small helpers shared by the teaching notebooks (not part of parsl_nb).

:func:`spans` reads start and end times from the task records, so a notebook
can check what its timeline shows.
"""

from __future__ import annotations

from typing import Any

from parsl_nb.dataflow.states import TaskState

__all__ = ["spans"]

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
