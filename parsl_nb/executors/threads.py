"""``ThreadPoolExecutor``: tasks run in threads of the notebook's own process."""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable
from typing import Any

from ..errors import AppTimeout, ConfigError, ExecutorError, InvalidResourceSpecification
from .base import Executor, ExecutorContext, TaskSpec

__all__ = ["ThreadPoolExecutor"]


class ThreadPoolExecutor(Executor):
    """Run tasks on a pool of threads in this process (they share memory).

    Parameters
    ----------
    label : str
        Name used in ``executors=[...]`` of apps (default ``"threads"``).
    max_threads : int
        How many tasks run at the same time (default 2, as in Parsl).
    thread_name_prefix : str
        Prefix of the worker threads' names.
    storage_access : list, optional
        Staging providers (Parsl's name).
    working_dir : str, optional
        Accepted for Parsl compatibility; tasks run in the kernel's cwd.

    Examples
    --------
    >>> from parsl_nb import Config
    >>> from parsl_nb.executors import ThreadPoolExecutor
    >>> config = Config(executors=[ThreadPoolExecutor(max_threads=8)])
    """

    def __init__(self, label: str = "threads", max_threads: int = 2, thread_name_prefix: str = "",
                 storage_access: list[Any] | None = None, working_dir: str | None = None) -> None:
        if not isinstance(max_threads, int) or isinstance(max_threads, bool) or max_threads < 1:
            raise ConfigError(f"max_threads must be an int >= 1 (got max_threads={max_threads!r})")
        if not isinstance(label, str) or not label:
            raise ConfigError(f"label must be a non-empty string (got label={label!r})")
        self.label = label
        self.max_threads = max_threads
        self.thread_name_prefix = thread_name_prefix or f"parsl_nb-{label}"
        self.storage_access = storage_access
        self.working_dir = working_dir
        self._pool: cf.ThreadPoolExecutor | None = None
        self._running: Callable[[int], None] = lambda tid: None
        self._closed = False

    def start(self, context: ExecutorContext) -> None:
        """Create the thread pool."""
        self.run_dir = context.run_dir
        self._running = context.task_running
        self._closed = False  # the same Config may be loaded again after parsl_nb.clear()
        self._pool = cf.ThreadPoolExecutor(self.max_threads, self.thread_name_prefix)

    def submit_task(self, task: TaskSpec) -> cf.Future[Any]:
        """Queue the task on the pool."""
        spec = task.resource_specification
        if spec:
            raise InvalidResourceSpecification(
                set(spec), f"got {spec!r}, but threads share one process and "
                "cannot reserve cores, memory or GPUs; drop the specification or send the app to an engine executor",
                self.label)
        pool = self._pool
        if pool is None or self._closed:
            raise ExecutorError(self.label, "it is shut down (its DataFlowKernel was cleaned up); "
                                "load a new kernel with parsl_nb.load() to run more tasks")
        if task.walltime is None:
            return pool.submit(self._run, task.tid, task.func, task.args, task.kwargs)
        out = _DeadlineFuture(task.walltime, task.app_name)
        out.attach(pool.submit(self._run, task.tid, task.func, task.args, task.kwargs, out))
        return out

    def _run(self, tid: int, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
             deadline: _DeadlineFuture | None = None) -> Any:
        if deadline is not None:
            deadline.start_clock()
        self._running(tid)
        return func(*args, **kwargs)

    def shutdown(self) -> None:
        """Wait for launched tasks to finish, then stop the threads."""
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    @property
    def outstanding(self) -> int:
        """Tasks queued or running in the pool."""
        pool = self._pool
        return pool._work_queue.qsize() if pool is not None else 0

    def status_summary(self) -> dict[str, Any]:
        """Kind and number of threads."""
        return {"label": self.label, "kind": "threads", "workers": self.max_threads}

    def __repr__(self) -> str:
        return f"ThreadPoolExecutor(label={self.label!r}, max_threads={self.max_threads})"


class _DeadlineFuture(cf.Future[Any]):
    """The future of a task with a walltime, counted from the moment the task starts.

    It fails with AppTimeout at the deadline if the task is late. The thread
    itself cannot be killed; the walltime wrapper inside the task interrupts it
    as soon as Python code runs again. Cancelling it cancels the queued task.
    """

    def __init__(self, walltime: float, name: str) -> None:
        super().__init__()
        self.walltime = walltime
        self.name = name
        self.inner: cf.Future[Any] | None = None
        self._timer: threading.Timer | None = None

    def attach(self, inner: cf.Future[Any]) -> None:
        """Follow the pool's future of the task."""
        self.inner = inner
        inner.add_done_callback(self._copy)

    def start_clock(self) -> None:
        """Called by the worker thread as the task starts."""
        timer = threading.Timer(self.walltime, self._expire)
        timer.daemon = True
        self._timer = timer
        timer.start()

    def cancel(self) -> bool:
        """Cancel only if the task has not started (a running thread cannot be stopped)."""
        if self.cancelled():
            return True
        return self.inner is not None and self.inner.cancel() and super().cancel()

    def _expire(self) -> None:
        _settle(self, exc=AppTimeout(f"app {self.name} exceeded its walltime of {self.walltime} s"))

    def _copy(self, src: cf.Future[Any]) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if src.cancelled():
            cf.Future.cancel(self)
            return
        exc = src.exception()
        _settle(self, exc=exc) if exc is not None else _settle(self, result=src.result())


def _settle(fut: cf.Future[Any], result: Any = None, exc: BaseException | None = None) -> None:
    try:
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)
    except cf.InvalidStateError:
        pass  # the deadline and the task raced; the first one wins
