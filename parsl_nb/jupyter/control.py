"""The Python functions behind the line magics, for scripts as well as notebooks.

Each ``%parsl_*`` magic parses its line and calls one function here:
``%parsl_load`` -> :func:`load`, ``%parsl_status`` -> :func:`status`,
``%parsl_tasks`` -> :func:`tasks`, ``%parsl_cancel`` -> :func:`cancel`,
``%parsl_scale`` -> :func:`scale`, ``%parsl_clear`` -> :func:`clear`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..dataflow.states import TaskState
from ..errors import NoDataFlowKernelError
from . import reprs

if TYPE_CHECKING:
    from ..dataflow.kernel import DataFlowKernel
    from ..dataflow.taskrecord import TaskRecord
    from ..executors.base import Executor

__all__ = ["CancelResult", "LoadResult", "Status", "TaskTable", "cancel", "clear", "load", "scale", "status",
           "tasks"]

_INTERNAL = "_parsl_internal"
RUNNING_CHOICES = ("cancel", "wait")


def current() -> DataFlowKernel | None:
    """The loaded DataFlowKernel, or None."""
    from ..dataflow.loader import DataFlowKernelLoader

    try:
        return DataFlowKernelLoader.dfk()
    except NoDataFlowKernelError:
        return None


def _require(dfk: DataFlowKernel | None) -> DataFlowKernel:
    if dfk is not None:
        return dfk
    found = current()
    if found is None:
        raise NoDataFlowKernelError("no DataFlowKernel is loaded: run %parsl_load threads (or %parsl_load local) "
                                    "or parsl_nb.load() first")
    return found


def _unfinished(dfk: DataFlowKernel) -> list[TaskRecord]:
    return [r for r in list(dfk.tasks.values()) if not r.final]


# --------------------------------------------------------------------- load
@dataclass(frozen=True)
class LoadResult:
    """The loaded kernel, and what happened to the one it replaced."""

    dfk: DataFlowKernel
    message: str

    def __str__(self) -> str:
        return self.message

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return reprs.mimebundle(f"{self.message}\n{reprs.kernel_text(self.dfk)}",
                                f"<div>{html.escape(self.message)}</div>{reprs.kernel_html(self.dfk)}")


def _retire(dfk: DataFlowKernel, running: str) -> str:
    where = f"the previous kernel ({dfk.run_dir})"
    if running not in RUNNING_CHOICES:
        raise ValueError(f"running must be 'cancel' or 'wait' (got {running!r})")
    unfinished = _unfinished(dfk)
    if running == "wait":
        dfk.wait_for_current_tasks()
        dfk.cleanup()
        return f"waited for {len(unfinished)} unfinished task(s) of {where}, then shut it down"
    result = cancel("all", dfk)
    dfk.cleanup()  # waits for tasks its executors could not stop
    msg = f"cancelled {len(result.cancelled)} unfinished task(s) of {where} and shut it down"
    if result.not_stopped:
        msg += (f"; {len(result.not_stopped)} running task(s) could not be stopped by their executor "
                "and were waited for")
    return msg


def load(spec: Any = "threads", running: str = "cancel", namespace: Mapping[str, Any] | None = None) -> LoadResult:
    """Load a DataFlowKernel, replacing the loaded one cleanly.

    Parameters
    ----------
    spec : str, Config or Executor
        A preset (``'threads'``, ``'local'``), an expression evaluated in
        ``namespace``, or a Config.
    running : {'cancel', 'wait'}
        What happens to the unfinished tasks of a kernel loaded before:
        cancelled (tasks already running on threads finish first), or waited for.
    namespace : mapping, optional
        Where expressions are evaluated.

    Returns
    -------
    LoadResult
        ``.dfk`` is the new kernel; ``.message`` says what happened to the old one.

    Examples
    --------
    >>> from parsl_nb.jupyter import control
    >>> result = control.load("threads")  # doctest: +SKIP
    >>> result.dfk.run_dir  # doctest: +SKIP
    '.../runinfo/000'
    """
    from ..dataflow.loader import load as _load
    from .presets import resolve

    if running not in RUNNING_CHOICES:
        raise ValueError(f"running must be 'cancel' or 'wait' (got {running!r})")
    config = resolve(spec, namespace)
    old = current()
    message = _retire(old, running) if old is not None else "no kernel was loaded before"
    dfk = _load(config)
    labels = [x for x in dfk.executors if x != _INTERNAL]
    return LoadResult(dfk, f"loaded a kernel with executors {labels} in {dfk.run_dir}; {message}")


def clear(running: str = "cancel") -> str:
    """Shut down the loaded kernel (cancelling or waiting for its tasks); a message says which."""
    old = current()
    if old is None:
        return "no kernel is loaded; nothing to clear"
    message = _retire(old, running)
    from ..dataflow.loader import clear as _clear

    _clear()
    return message


# ------------------------------------------------------------------- status
@dataclass(frozen=True)
class Status:
    """A snapshot of the loaded kernel: executors and task counts by state and app."""

    run_dir: str
    state: str
    executors: list[dict[str, Any]]
    counts: dict[str, int]
    by_app: dict[str, dict[str, int]]

    def __str__(self) -> str:
        return reprs.status_text(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return reprs.mimebundle(reprs.status_text(self), reprs.status_html(self))


def status(dfk: DataFlowKernel | None = None) -> Status:
    """Executors, blocks, engines and task counts (by state and by app) of the loaded kernel."""
    k = _require(dfk)
    by_app: dict[str, dict[str, int]] = {}
    for r in list(k.tasks.values()):
        row = by_app.setdefault(r.app_name, {})
        row[r.status.label] = row.get(r.status.label, 0) + 1
    executors = [dict(ex.status_summary()) for label, ex in k.executors.items() if label != _INTERNAL]
    return Status(k.run_dir, "cleaned up" if k.cleanup_called else "running", executors, k.task_counts(), by_app)


# -------------------------------------------------------------------- tasks
@dataclass(frozen=True)
class TaskTable:
    """Task records selected by :func:`tasks`, displayed as a table."""

    records: list[TaskRecord] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)

    def __str__(self) -> str:
        return reprs.tasks_text(self.records)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return reprs.mimebundle(reprs.tasks_text(self.records), reprs.tasks_html(self.records))


def _states(state: str | TaskState | None) -> set[TaskState] | None:
    if state is None:
        return None
    if isinstance(state, TaskState):
        return {state}
    chosen: set[TaskState] = set()
    for word in state.replace(",", " ").split():
        try:
            chosen.add(TaskState[word.upper()])
        except KeyError:
            names = ", ".join(s.label for s in TaskState)
            raise ValueError(f"unknown task state {word!r}; choose from {names}") from None
    return chosen


def tasks(state: str | TaskState | None = None, app: str | None = None,
          dfk: DataFlowKernel | None = None) -> TaskTable:
    """The tasks of the loaded kernel, optionally filtered.

    Parameters
    ----------
    state : str or TaskState, optional
        One state or several, comma-separated, in Parsl's spelling (``'failed,dep_fail'``).
    app : str, optional
        Only tasks of this app.
    dfk : DataFlowKernel, optional
        Default: the loaded kernel.

    Returns
    -------
    TaskTable
    """
    k = _require(dfk)
    wanted = _states(state)
    rows = [r for r in list(k.tasks.values())
            if (wanted is None or r.status in wanted) and (app is None or r.app_name == app)]
    return TaskTable(rows)


# ------------------------------------------------------------------- cancel
@dataclass(frozen=True)
class CancelResult:
    """Which tasks were cancelled, and which were running and could not be stopped."""

    cancelled: list[int]
    not_stopped: list[int]

    def __str__(self) -> str:
        msg = f"cancelled {len(self.cancelled)} task(s)"
        if self.not_stopped:
            shown = ", ".join(str(t) for t in self.not_stopped[:10])
            msg += (f"; {len(self.not_stopped)} running task(s) could not be stopped by their executor "
                    f"(threads cannot be interrupted) and will finish: {shown}")
        return msg


def _targets(k: DataFlowKernel, target: int | str) -> list[TaskRecord]:
    if isinstance(target, int) or (isinstance(target, str) and target.strip().isdigit()):
        tid = int(target)
        if tid not in k.tasks:
            raise ValueError(f"no task {tid} in this kernel (task ids run from 0 to {len(k.tasks) - 1})")
        return [k.tasks[tid]]
    if target == "all":
        return _unfinished(k)
    records = [r for r in list(k.tasks.values()) if r.app_name == target]
    if not records:
        apps = sorted({r.app_name for r in k.tasks.values()})
        raise ValueError(f"no task of an app named {target!r}; apps with tasks: {', '.join(apps) or 'none'}; "
                         "give a task id, an app name, or 'all'")
    return [r for r in records if not r.final]


def cancel(target: int | str = "all", dfk: DataFlowKernel | None = None) -> CancelResult:
    """Cancel a task by id, every unfinished task of an app (by name), or ``'all'``.

    Tasks not launched yet are always cancelled (their dependants end
    ``dep_fail``); running tasks only where the executor can stop them.

    Returns
    -------
    CancelResult
    """
    k = _require(dfk)
    done: list[int] = []
    left: list[int] = []
    for record in _targets(k, target):
        if record.final:
            continue
        (done if k.cancel_task(record) else left).append(record.tid)
    return CancelResult(done, left)


# -------------------------------------------------------------------- scale
def _scalable(k: DataFlowKernel, label: str | None) -> Executor:
    from ..executors.base import Executor

    execs = {lb: ex for lb, ex in k.executors.items() if lb != _INTERNAL}
    if label is not None:
        if label not in execs:
            raise ValueError(f"no executor labelled {label!r}; loaded: {', '.join(execs)}")
        return execs[label]
    able = [ex for ex in execs.values() if type(ex).scale_out is not Executor.scale_out]
    if not able:
        raise ValueError(f"none of the loaded executors ({', '.join(execs)}) has blocks to scale; "
                         "load engines with %parsl_load local")
    if len(able) > 1:
        raise ValueError(f"several executors have blocks ({', '.join(ex.label for ex in able)}); name one")
    return able[0]


def scale(blocks: int | str, executor: str | None = None, dfk: DataFlowKernel | None = None) -> str:
    """Add (``+N``) or remove (``-N``) blocks of an executor's workers.

    Parameters
    ----------
    blocks : int or str
        ``2`` or ``'+2'`` to scale out, ``-1`` or ``'-1'`` to scale in.
    executor : str, optional
        Executor label; needed only if several executors have blocks.

    Returns
    -------
    str
        What changed, with the block ids.
    """
    try:
        n = int(blocks)
    except ValueError:
        raise ValueError(f"blocks must be a whole number such as +2 or -1 (got {blocks!r})") from None
    if n == 0:
        raise ValueError("blocks must not be 0: use +N to add blocks or -N to remove them")
    ex = _scalable(_require(dfk), executor)
    ids = ex.scale_out(n) if n > 0 else ex.scale_in(-n)
    verb = "added" if n > 0 else "removed"
    return f"{ex.label}: {verb} {len(ids)} block(s){': ' + ', '.join(map(str, ids)) if ids else ''}"
