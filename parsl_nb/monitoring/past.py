"""A finished run read back from its store, shaped like a kernel for the widgets and plots.

:func:`as_run` recognises what a user may pass for a past run (a
:class:`~parsl_nb.monitoring.Run`, a run directory, a database path or a
run number); :class:`PastRun` holds its tasks as :class:`PastTask` records
with the attributes the DAG widget and the plots read from live task
records (``tid``, ``app_name``, ``depends``, ``status``, ``history``...).
Nothing here needs a kernel.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..dataflow.states import FINAL_STATES, TaskState
from .reader import Run

__all__ = ["PastRun", "PastTask", "as_run"]

S = TaskState
_BY_NAME = {s.name: s for s in TaskState}


def as_run(source: Any, run_dir: str | os.PathLike[str] = "runinfo") -> Run | None:
    """The past run ``source`` names, or None if it names no run (a kernel, a future...).

    ``source`` is a :class:`Run`, a run directory or ``monitoring.db`` path
    (str or Path), or a run number under ``run_dir`` (``3``).

    Raises
    ------
    LookupError
        If ``source`` is a number or path but no such run exists.
    """
    from .report import find_run

    if isinstance(source, Run):
        return source
    if isinstance(source, bool):
        return None
    if isinstance(source, int):
        return find_run(str(source), run_dir)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir() and not (path / "monitoring.db").is_file():
            raise LookupError(f"{path} has no monitoring.db: not the run directory of a kernel with monitoring on "
                              "(pass a numbered directory such as runinfo/000, or a Run from parsl_nb.runs())")
        return find_run(os.fspath(source), run_dir)
    return None


@dataclass(slots=True, eq=False)
class PastTask:
    """One task of a past run, with the attributes the widgets read from a live task record."""

    tid: int
    app_name: str
    depends: tuple[int, ...]
    status: TaskState
    time_invoked: float
    executor: str = ""
    args_text: str = ""
    history: list[tuple[TaskState, float]] = field(default_factory=list)
    tries: list[Any] = field(default_factory=list)  # TryInfo rows, by try id

    @property
    def final(self) -> bool:
        """Whether the task reached a final state before the run ended."""
        return self.status in FINAL_STATES

    @property
    def engine(self) -> str:
        """The engine of the last try ('' if none was recorded)."""
        return (self.tries[-1].engine or "") if self.tries else ""

    def spans(self) -> list[tuple[str, float, float, bool]]:
        """(engine, start, end, failed) of each try that ran: from its start (or launch) to its end."""
        out = []
        for y in self.tries:
            start = y.time_running if y.time_running is not None else y.time_launched
            if start is None or y.time_returned is None:
                continue
            out.append((y.engine or "", start, y.time_returned, y.state != S.EXEC_DONE.name))
        return out

    def detail(self) -> dict[str, Any]:
        """What the DAG widget's detail panel shows, from the store alone."""
        history = [{"state": s.label, "time": t, "offset": round(t - self.time_invoked, 4)}
                   for s, t in self.history]
        last = self.tries[-1] if self.tries else None
        info: dict[str, Any] = {
            "tid": self.tid, "app": self.app_name, "state": self.status.label, "history": history,
            "args": self.args_text or "(not recorded)", "executor": self.executor,
            "engine": self.engine, "block": (last.block or "") if last else "",
            "tries": len(self.tries), "depends": list(self.depends),
            "fail_history": [y.exception for y in self.tries if y.exception],
        }
        if last is not None and last.exception:
            info["exception"] = last.exception
        elif self.status is S.EXEC_DONE:
            info["result"] = "(results are not kept in the monitoring store)"
        return info


class _NoSubscription:
    def close(self) -> None:
        """Nothing to stop: a past run sends no events."""


class PastRun:
    """A finished run's tasks, shaped like a kernel for the widgets and plots (read-only, no events).

    Parameters
    ----------
    run : Run
        The run to read (:func:`parsl_nb.runs`).
    """

    cleanup_called = True  # widgets stop following at once: nothing will change

    def __init__(self, run: Run) -> None:
        self.run = run
        self.tasks: dict[int, PastTask] = {}
        for t in run.tasks():
            self.tasks[t.task_id] = PastTask(t.task_id, t.app, t.depends, _state(t.state),
                                             t.time_invoked or 0.0, t.executor or "", t.args or "")
        for ch in run.states():
            rec = self.tasks.get(ch.task_id)
            if rec is not None:
                rec.history.append((_state(ch.state), ch.time))
        for y in run.tries():
            rec = self.tasks.get(y.task_id)
            if rec is not None:
                rec.tries.append(y)

    def subscribe(self, fn: Any) -> _NoSubscription:
        """A past run publishes nothing; the handle's ``close()`` does nothing."""
        return _NoSubscription()

    def __repr__(self) -> str:
        return f"<PastRun {self.run.path} with {len(self.tasks)} tasks>"


def _state(name: str | None) -> TaskState:
    return _BY_NAME.get(name or "", S.UNSCHED)
