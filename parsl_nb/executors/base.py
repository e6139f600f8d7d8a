"""The executor interface: where the kernel sends tasks that are ready."""

from __future__ import annotations

import abc
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Executor", "ExecutorContext", "ParslExecutor", "TaskSpec"]


@dataclass(slots=True)
class TaskSpec:
    """One try of one task, as the kernel hands it to an executor."""

    tid: int
    app_name: str
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    resource_specification: dict[str, Any] = field(default_factory=dict)
    walltime: float | None = None
    try_id: int = 0


@dataclass(slots=True)
class ExecutorContext:
    """What the kernel gives an executor when it starts it.

    ``task_running(tid)`` reports that a worker started a task;
    ``task_placed(tid, engine, block)`` where it runs; ``publish(event)``
    sends an event (for example a block state change) to subscribers.
    ``strategy``, ``strategy_period`` and ``max_idletime`` are the Config's
    scaling options, for executors with blocks (``strategy=None`` is Parsl's
    "no scaling"; a None period or idle time means the executor's default).
    ``resource_interval`` is how often workers in their own processes sample
    their resources for monitoring (None: never), sent as ``ResourceEvent``.
    """

    run_dir: str
    task_running: Callable[[int], None] = lambda tid: None
    task_placed: Callable[[int, str | None, str | None], None] = lambda tid, engine, block: None
    publish: Callable[[Any], None] = lambda event: None
    strategy: str | None = "simple"
    strategy_period: float | None = None
    max_idletime: float | None = None
    resource_interval: float | None = None


class Executor(abc.ABC):
    """Base class of executors.

    Subclasses implement :meth:`start`, :meth:`submit_task` and
    :meth:`shutdown`; the others have safe defaults. ``submit(func,
    resource_specification, *args, **kwargs)`` is Parsl's executor call and
    works on every executor.
    """

    label: str = "executor"
    run_dir: str = "."

    @abc.abstractmethod
    def start(self, context: ExecutorContext) -> None:
        """Start workers; called once by the kernel before any task."""

    @abc.abstractmethod
    def submit_task(self, task: TaskSpec) -> Future[Any]:
        """Run one try of a task; the future resolves to its result."""

    @abc.abstractmethod
    def shutdown(self) -> None:
        """Stop every worker and process this executor started."""

    def submit(self, func: Callable[..., Any], resource_specification: dict[str, Any],
               *args: Any, **kwargs: Any) -> Future[Any]:
        """Parsl's executor call: run ``func(*args, **kwargs)``."""
        name = getattr(func, "__name__", "task")
        return self.submit_task(TaskSpec(-1, name, func, args, kwargs, dict(resource_specification or {})))

    def cancel_task(self, future: Future[Any]) -> bool:
        """Stop a launched task if possible; True if it will never report a result."""
        return future.cancel()

    def scale_out(self, blocks: int = 1) -> list[str]:
        """Add ``blocks`` blocks of workers; return their ids (none here)."""
        return []

    def scale_in(self, blocks: int = 1) -> list[str]:
        """Remove ``blocks`` idle blocks; return their ids (none here)."""
        return []

    @property
    def outstanding(self) -> int:
        """Tasks launched here that have not finished."""
        return 0

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from ..jupyter.reprs import executor_html, executor_text, mimebundle

        return mimebundle(executor_text(self), executor_html(self))

    def status_summary(self) -> dict[str, Any]:
        """A plain summary for status displays: kind, workers, blocks."""
        return {"label": self.label, "kind": type(self).__name__}


ParslExecutor = Executor
"""Parsl's name for the executor base class."""
