"""``Config``: what a DataFlowKernel runs on, with Parsl's option names."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from .dataflow.taskrecord import TaskRecord
    from .executors.base import Executor

__all__ = ["Config"]

_STRATEGIES = ("simple", "htex_auto_scale", "none", None)
_CHECKPOINT_MODES = (None, "task_exit", "periodic", "dfk_exit", "manual")
_EXIT_MODES = ("cleanup", "skip", "wait")


class Config:
    """Configuration of a :class:`~parsl_nb.DataFlowKernel`.

    Parameters
    ----------
    executors : sequence of executors, optional
        Where tasks run. Default: one ``ThreadPoolExecutor(label="threads")``.
    app_cache : bool
        Allow apps declared with ``cache=True`` to be memoized (default True).
    retries : int
        How many times a failed task is tried again (default 0).
    retry_handler : callable, optional
        ``retry_handler(exception, task_record) -> float``: the cost of a
        failure; a task is retried while its summed cost is ``<= retries``.
    run_dir : str
        Folder under which each kernel makes its numbered run directory.
    dependency_resolver : DependencyResolver, optional
        How futures are found in arguments. Default: deep (inside lists,
        tuples, sets and dicts); Parsl's shallow behaviour is
        ``parsl_nb.dataflow.dependency_resolvers.SHALLOW_DEPENDENCY_RESOLVER``.
    checkpoint_mode, checkpoint_files, checkpoint_period
        Checkpointing, with Parsl's names.
    memoizer : BasicMemoizer, optional
        Parsl's newer spelling of ``app_cache`` and the checkpoint options,
        ``memoizer=BasicMemoizer(checkpoint_mode='task_exit')`` (from
        ``parsl_nb.dataflow.memoization``); give those options one way or
        the other, not both.
    strategy, strategy_period, max_idletime
        How executors with blocks scale: ``'simple'`` (add blocks for queued
        tasks, retire blocks idle for ``max_idletime`` s) or ``'none'``; the
        strategy runs every ``strategy_period`` s (default: the executor's
        own, 0.5 s for engines, where Parsl waits 5 s). An executor's own
        argument wins over the Config's.
    exit_mode : str
        What leaving a ``with`` block does: ``'cleanup'`` (default), ``'wait'``
        (wait for tasks, then clean up) or ``'skip'``.
    monitoring : bool or MonitoringOptions, optional
        The monitoring store (``<run_dir>/monitoring.db``) is on by default;
        ``False`` turns it off. ``MonitoringOptions(resource_interval=5)``
        (or Parsl's ``MonitoringHub(resource_monitoring_interval=5)``) also
        samples engines' CPU, memory and I/O every 5 s.
    initialize_logging : bool
        Write the kernel's log file in the run directory (default True).

    Examples
    --------
    >>> from parsl_nb import Config
    >>> from parsl_nb.executors import ThreadPoolExecutor
    >>> config = Config(executors=[ThreadPoolExecutor(max_threads=4)], retries=2)
    """

    def __init__(
        self,
        executors: Sequence[Executor] | None = None,
        memoizer: Any = None,
        app_cache: bool = True,
        checkpoint_files: Sequence[str] | None = None,
        checkpoint_mode: str | None = None,
        checkpoint_period: str | None = None,
        dependency_resolver: Any = None,
        exit_mode: str = "cleanup",
        garbage_collect: bool = True,
        internal_tasks_max_threads: int = 10,
        retries: int = 0,
        retry_handler: Callable[[BaseException, TaskRecord], float] | None = None,
        run_dir: str = "runinfo",
        std_autopath: Callable[..., str] | None = None,
        strategy: str | None = "simple",
        strategy_period: float | None = None,
        max_idletime: float = 120.0,
        monitoring: Any = None,
        usage_tracking: int = 0,
        project_name: str | None = None,
        initialize_logging: bool = True,
    ) -> None:
        if executors is None:
            from .executors.threads import ThreadPoolExecutor

            executors = [ThreadPoolExecutor()]
        self.executors = list(executors)
        self.app_cache = app_cache
        self.checkpoint_files = checkpoint_files
        self.checkpoint_mode = checkpoint_mode
        self.checkpoint_period = checkpoint_period
        self.dependency_resolver = dependency_resolver
        self.exit_mode = exit_mode
        self.garbage_collect = garbage_collect
        self.internal_tasks_max_threads = internal_tasks_max_threads
        self.retries = retries
        self.retry_handler = retry_handler
        self.run_dir = run_dir
        self.std_autopath = std_autopath
        self.strategy = strategy
        self.strategy_period = strategy_period
        self.max_idletime = max_idletime
        self.monitoring = monitoring
        self.usage_tracking = usage_tracking
        self.project_name = project_name
        self.initialize_logging = initialize_logging
        self.memoizer = memoizer
        if memoizer is not None:
            self._take_memoizer(memoizer)
        self._validate()

    def _take_memoizer(self, memoizer: Any) -> None:
        names = ("checkpoint_files", "checkpoint_period", "checkpoint_mode")
        if not all(hasattr(memoizer, n) for n in (*names, "memoize")):
            raise ConfigError(
                f"memoizer must be a BasicMemoizer(...) from parsl_nb.dataflow.memoization (got "
                f"{type(memoizer).__name__}: {memoizer!r}); other memoizer plug-ins are not supported"
            )
        both = [n for n in names if getattr(self, n) is not None]
        if both or self.app_cache is not True:
            given = ", ".join(both or ["app_cache"])
            raise ConfigError(
                f"Config got {given} both directly and through memoizer={memoizer!r}; "
                "give the caching and checkpoint options in one place"
            )
        for name in names:
            setattr(self, name, getattr(memoizer, name))
        self.app_cache = bool(memoizer.memoize)

    def _validate(self) -> None:
        _check_executors(self.executors)
        if not isinstance(self.run_dir, (str, os.PathLike)) or not os.fspath(self.run_dir):
            raise ConfigError(f"run_dir must be a folder path (got run_dir={self.run_dir!r}); "
                              "for example run_dir='runinfo'")
        if not isinstance(self.retries, int) or isinstance(self.retries, bool) or self.retries < 0:
            raise ConfigError(
                f"retries must be a whole number >= 0 (got retries={self.retries!r}); "
                "use retries=0 for no retries"
            )
        if self.retry_handler is not None and not callable(self.retry_handler):
            raise ConfigError(
                f"retry_handler must be callable(exception, task_record) -> float "
                f"(got {self.retry_handler!r})"
            )
        _one_of("strategy", self.strategy, _STRATEGIES)
        _one_of("checkpoint_mode", self.checkpoint_mode, _CHECKPOINT_MODES)
        _one_of("exit_mode", self.exit_mode, _EXIT_MODES)
        if self.checkpoint_mode == "periodic" and self.checkpoint_period is None:
            raise ConfigError(
                "checkpoint_mode='periodic' needs checkpoint_period, for example "
                "checkpoint_period='00:10:00' (every 10 minutes)"
            )
        for name in ("strategy_period", "max_idletime"):
            value = getattr(self, name)
            if name == "strategy_period" and value is None:
                continue  # each executor's own default (0.5 s for engines)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds (got {name}={value!r})")
        if not isinstance(self.internal_tasks_max_threads, int) or self.internal_tasks_max_threads < 1:
            raise ConfigError(
                "internal_tasks_max_threads must be an int >= 1 "
                f"(got {self.internal_tasks_max_threads!r})"
            )

    def __repr__(self) -> str:
        labels = ", ".join(getattr(e, "label", "?") for e in self.executors)
        return f"Config(executors=[{labels}], retries={self.retries}, run_dir={self.run_dir!r})"


def _one_of(name: str, value: Any, choices: tuple[Any, ...]) -> None:
    if value not in choices:
        shown = ", ".join(repr(c) for c in choices)
        raise ConfigError(f"{name} must be one of {shown} (got {name}={value!r})")


def _check_executors(executors: list[Any]) -> None:
    from .executors.base import Executor

    if not executors:
        raise ConfigError("Config(executors=[...]) needs at least one executor, for example ThreadPoolExecutor()")
    labels: list[str] = []
    for ex in executors:
        if not isinstance(ex, Executor):
            raise ConfigError(
                f"Config executors must be executor objects such as ThreadPoolExecutor() "
                f"(got {type(ex).__name__}: {ex!r})"
            )
        if ex.label in labels:
            raise ConfigError(
                f"two executors share the label {ex.label!r}; give each a unique label=..."
            )
        if ex.label.startswith("_parsl"):
            raise ConfigError(f"executor label {ex.label!r} is reserved; choose another label")
        labels.append(ex.label)
