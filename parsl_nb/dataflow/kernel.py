"""The DataFlowKernel: tracks every task and launches each when its dependencies are met."""

from __future__ import annotations

import atexit
import itertools
import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from typing import TYPE_CHECKING, Any

from ..config import Config
from ..data.staging.manager import DataManager
from ..errors import ConfigError, DependencyError, JoinError
from ..executors.base import Executor, ExecutorContext, TaskSpec
from ..executors.threads import ThreadPoolExecutor
from ..futures import AppFuture, DataFuture
from ..monitoring.options import resource_interval
from ..monitoring.store import open_store
from .checkpoint import Checkpointer
from .dependency_resolvers import DEEP_DEPENDENCY_RESOLVER, DependencyResolver
from .events import EventBus, Subscriber, Subscription, TaskEvent
from .launch import AUTO_LOGNAME, Countdown, failures_of, std_target
from .memo import Memoizer
from .rundir import RunLog, make_run_dir
from .states import FINAL_STATES, TaskState, TaskStateCounts
from .taskrecord import TaskRecord
from .watch import Hooks

if TYPE_CHECKING:
    import networkx as nx

    from ..apps.base import AppBase, CallSpec

__all__ = ["DataFlowKernel"]

logger = logging.getLogger(__name__)
S = TaskState
_INTERNAL = "_parsl_internal"


class DataFlowKernel:
    """Runs apps' tasks on executors as their dependencies are met.

    Usually made by :func:`parsl_nb.load`; also a context manager.

    Parameters
    ----------
    config : Config, optional
        Executors and options; default ``Config()`` (a thread pool).

    Examples
    --------
    >>> import parsl_nb as parsl
    >>> with parsl.load(parsl.Config()) as dfk:      # doctest: +SKIP
    ...     print(double(2).result())
    4
    """

    def __init__(self, config: Config | None = None) -> None:
        self.config = config if config is not None else Config()
        if not isinstance(self.config, Config):
            raise ConfigError(f"DataFlowKernel needs a parsl_nb.Config, got {type(self.config).__name__}")
        self.run_id = str(uuid.uuid4())
        self.run_dir = make_run_dir(self.config.run_dir)
        # first: a bad checkpoint_period or checkpoint_files fails before anything is started
        self.checkpointer = Checkpointer(self.run_dir, self.config.checkpoint_mode, self.config.checkpoint_period,
                                         self.config.checkpoint_files)
        self._log = RunLog(self.run_dir) if self.config.initialize_logging else None
        self.events = EventBus()
        self.tasks: dict[int, TaskRecord] = {}
        self.task_state_counts = TaskStateCounts(lambda: [r.status for r in list(self.tasks.values())])
        """Parsl's live count of tasks by state: ``dfk.task_state_counts[States.failed]``."""
        self._next_tid = itertools.count()
        self._resolver: DependencyResolver = self.config.dependency_resolver or DEEP_DEPENDENCY_RESOLVER
        self.memoizer = Memoizer(enabled=self.config.app_cache, checkpoints=self.checkpointer)
        self.data_manager = DataManager(self)
        self._apps: dict[int, AppBase[Any, Any]] = {}  # until the task is final: its memo key needs the app
        self._outputs_of: dict[int, list[Any]] = {}
        self.cleanup_called = False
        self.time_began = time.time()
        self.time_completed: float | None = None
        self.executors: dict[str, Executor] = {}
        self.final_hooks = Hooks()
        """Called with a task's id as it reaches a final state (on that thread: keep them O(1)); the monitoring
        scanner and the widgets use it to learn which tasks ended."""
        self.monitoring = open_store(self)  # before the executors, which may report blocks as they start
        self._start_executors()
        atexit.register(self.atexit_cleanup)
        logger.info("DataFlowKernel %s started in %s with executors %s",
                    self.run_id, self.run_dir, list(self.executors))

    # ----------------------------------------------------------------- setup
    def _start_executors(self) -> None:
        internal = ThreadPoolExecutor(label=_INTERNAL, max_threads=self.config.internal_tasks_max_threads)
        cfg = self.config
        context = ExecutorContext(self.run_dir, self._task_running, self._task_placed, self.events.publish,
                                  cfg.strategy, cfg.strategy_period, cfg.max_idletime,
                                  resource_interval(cfg.monitoring) if self.monitoring is not None else None)
        for ex in [*self.config.executors, internal]:
            ex.run_dir = self.run_dir
            try:
                ex.start(context)
            except Exception:
                self._shutdown_executors()
                self._close_records()
                raise
            self.executors[ex.label] = ex

    # ---------------------------------------------------------------- submit
    def submit(self, app: AppBase[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> AppFuture[Any]:
        """Create a task for one call of ``app`` and return its future."""
        if self.cleanup_called:
            raise RuntimeError(
                "this DataFlowKernel has been cleaned up and takes no new tasks; "
                "load a new one with parsl_nb.load()"
            )
        spec = app.split_call(args, kwargs)
        label = self._choose_executor(app)
        self.data_manager.stage_in(spec, label)  # remote Files -> DataFutures of stage_in tasks
        tid = next(self._next_tid)
        record = TaskRecord(tid, app.__name__, app.func, spec.args, spec.kwargs, app.executors)
        record.executor = label
        record.dfk = self
        record.join = app.kind == "join"
        record.memoize = app.cache and self.memoizer.enabled
        record.ignore_for_cache = app.ignore_for_cache
        record.resource_specification = spec.resource_specification
        record.walltime = spec.walltime
        record.stdout = std_target(spec.stdout, record, "stdout", self.run_dir, self.config.std_autopath)
        record.stderr = std_target(spec.stderr, record, "stderr", self.run_dir, self.config.std_autopath)
        _auto_lognames_into_kwargs(record, spec)
        record.func = app.executed_function(spec, record.stdout, record.stderr)
        self._apps[tid] = app
        fut: AppFuture[Any] = AppFuture(record)
        record.app_fu = fut
        fut._outputs = [DataFuture(fut, f, tid) for f in spec.outputs]
        self._outputs_of[tid] = spec.outputs
        deps = self._gather(spec)
        record.depends = [d.tid for d in deps if isinstance(d, (AppFuture, DataFuture))]
        monitoring = self.monitoring
        if monitoring is not None and (spec.args or spec.kwargs or spec.inputs or spec.outputs) and monitoring.active:
            # for the store's argument preview, made (and this dropped) at its next scan
            record.call = (spec.args, spec.kwargs, spec.inputs, spec.outputs)
        self.tasks[tid] = record
        if self.events.wants_tasks:
            self.events.publish(TaskEvent(record.time_invoked, tid, record.app_name, None, S.UNSCHED,
                                          executor=label, depends=tuple(record.depends), call=spec))
        self._set_state(record, S.PENDING)
        self._when_done(deps, lambda: self._launch_if_ready(record, deps))
        if fut._outputs:
            self.data_manager.stage_out(fut, label)  # remote outputs: stage_out tasks after this one
        return fut

    def _choose_executor(self, app: AppBase[Any, Any]) -> str:
        if app.executors == "all":
            choices = [label for label in self.executors if label != _INTERNAL]
            return choices[0] if len(choices) == 1 else random.choice(choices)
        for label in app.executors:
            if label not in self.executors:
                known = [x for x in self.executors if x != _INTERNAL]
                raise ConfigError(
                    f"app {app.__name__} asks for executor {label!r}, but the loaded config has "
                    f"only {known}; fix executors= on the app or add that executor to the Config"
                )
        return app.executors[0] if len(app.executors) == 1 else random.choice(app.executors)

    def _gather(self, spec: CallSpec) -> list[Future[Any]]:
        gather = self._resolver.traverse_to_gather
        deps: list[Future[Any]] = []
        for a in spec.args:
            deps.extend(gather(a))
        for k, v in spec.kwargs.items():
            if k != "inputs":
                deps.extend(gather(v))
        for item in spec.inputs:
            deps.extend(gather(item))
        return deps

    @staticmethod
    def _when_done(futures: Sequence[Future[Any]], then: Callable[[], None]) -> None:
        pending = [f for f in futures if not f.done()]
        if not pending:
            then()
            return
        countdown = Countdown(len(pending), then)
        for f in pending:
            f.add_done_callback(countdown.tick)

    # ---------------------------------------------------------------- launch
    def _launch_if_ready(self, record: TaskRecord, deps: Sequence[Future[Any]]) -> None:
        if record.final:
            return
        failed = failures_of(deps)
        if failed:
            self._finish_failed(record, DependencyError(failed, record.tid), S.DEP_FAIL)
            return
        if deps:
            unwrap = self._resolver.traverse_to_unwrap
            record.args = tuple(unwrap(a) for a in record.args)
            # items of inputs= are unwrapped one by one, also by the shallow resolver (as in Parsl)
            record.kwargs = {k: [unwrap(x) for x in v] if k == "inputs" and isinstance(v, (list, tuple))
                             else unwrap(v) for k, v in record.kwargs.items()}
        try:
            if record.memoize and self._serve_from_memo(record):
                return
        except Exception as e:  # e.g. an argument with no id_for_memo: this task fails, no retry can help
            self._finish_failed(record, e, S.FAILED)
            return
        if self.cleanup_called:  # executors are going away: a task not launched yet is cancelled
            if self._set_state(record, S.CANCELLED, detail="kernel cleaned up"):
                self._cancel_future(record)
            return
        self._launch(record)

    def _serve_from_memo(self, record: TaskRecord) -> bool:
        app = self._apps[record.tid]
        key = self.memoizer.make_key(record, app.func_hash, self._outputs_of.get(record.tid, []), app.func)
        record.hashsum = key
        hit = self.memoizer.check(key)
        if hit is None:
            return False
        if self._set_state(record, S.MEMO_DONE, detail="memo"):
            self._resolve(record, hit.result())
        return True

    def _launch(self, record: TaskRecord) -> None:
        executor = self.executors[record.executor]
        record.try_time_launched = time.time()
        if not self._set_state(record, S.LAUNCHED):
            return
        assert record.func is not None
        task = TaskSpec(record.tid, record.app_name, record.func, record.args, record.kwargs,
                        record.resource_specification, record.walltime, record.try_id)
        try:
            exec_fu = executor.submit_task(task)
        except Exception as e:  # the executor refused the task: it fails, others go on
            self._handle_failure(record, e)
            return
        record.exec_fu = exec_fu
        exec_fu.add_done_callback(lambda f: self._exec_done(record, f))

    def _task_running(self, tid: int) -> None:
        record = self.tasks.get(tid)
        if record is not None and record.status is S.LAUNCHED:
            self._set_state(record, S.RUNNING, expect=(S.LAUNCHED,))

    def _task_placed(self, tid: int, engine: str | None, block: str | None) -> None:
        record = self.tasks.get(tid)
        if record is not None:
            record.engine, record.block = engine, block

    # --------------------------------------------------------------- results
    def _exec_done(self, record: TaskRecord, exec_fu: Future[Any]) -> None:
        record.try_time_returned = time.time()
        if exec_fu.cancelled():
            if self._set_state(record, S.CANCELLED):
                self._cancel_future(record)
            return
        exc = exec_fu.exception()
        if exc is not None:
            self._handle_failure(record, exc)
        elif record.join:
            self._join(record, exec_fu.result())
        else:
            self._complete(record, exec_fu.result())

    def _complete(self, record: TaskRecord, result: Any) -> None:
        if not self._set_state(record, S.EXEC_DONE):
            return
        if record.memoize and record.hashsum is not None:
            # remembered before the future resolves, so a call made as soon as
            # result() returns is served from the memo table
            done: Future[Any] = Future()
            done.set_result(result)
            self.memoizer.update(record.hashsum, done)
        self._resolve(record, result)

    def _resolve(self, record: TaskRecord, result: Any) -> None:
        record.time_returned = time.time()
        fut = record.app_fu
        self._release(record)
        if fut is not None and not fut.done():
            fut.set_result(result)

    def _handle_failure(self, record: TaskRecord, exc: BaseException) -> None:
        record.fail_count += 1
        record.fail_history.append(f"{type(exc).__name__}: {exc}")
        logger.info("task %s (%s) try %s failed: %s: %s", record.tid, record.app_name,
                    record.try_id, type(exc).__name__, exc)
        if isinstance(exc, DependencyError) or record.final:
            self._finish_failed(record, exc, S.FAILED)
            return
        try:
            handler = self.config.retry_handler
            record.fail_cost += float(handler(exc, record)) if handler else 1.0
        except Exception as handler_exc:
            handler_exc.__cause__ = exc
            name = getattr(handler, "__qualname__", repr(handler))
            if hasattr(handler_exc, "add_note"):  # the handler's own error type is kept
                handler_exc.add_note(
                    f"raised by Config(retry_handler={name}) while deciding whether to retry task "
                    f"{record.tid} ({record.app_name}) after {type(exc).__name__}: {exc}; fix the handler "
                    "so it returns a number (the cost of this failure) for every exception")
            self._finish_failed(record, handler_exc, S.FAILED)
            return
        if record.fail_cost > self.config.retries:
            self._finish_failed(record, exc, S.FAILED)
            return
        if self.cleanup_called:  # no new try on executors that are shutting down
            self._finish_failed(record, exc, S.FAILED)
            return
        if self._set_state(record, S.FAIL_RETRYABLE, detail=f"{type(exc).__name__}: {exc}"):
            record.next_try()
            if self._set_state(record, S.PENDING):
                self._launch(record)

    def _finish_failed(self, record: TaskRecord, exc: BaseException, state: TaskState) -> None:
        if not self._set_state(record, state, detail=f"{type(exc).__name__}: {exc}"):
            return
        record.time_returned = time.time()
        fut = record.app_fu
        self._release(record)
        if fut is not None and not fut.done():
            fut.set_exception(exc)

    def _release(self, record: TaskRecord) -> None:
        self._apps.pop(record.tid, None)
        self._outputs_of.pop(record.tid, None)
        if self.config.garbage_collect:
            record.release()

    # ------------------------------------------------------------------ join
    def _join(self, record: TaskRecord, inner: Any) -> None:
        if isinstance(inner, Future):
            futures: list[Future[Any]] = [inner]
        elif isinstance(inner, (list, tuple)) and all(isinstance(f, Future) for f in inner):
            futures = list(inner)
        else:
            err = TypeError(
                f"join app {record.app_name} must return a Future or a list of Futures, "
                f"got {type(inner).__name__}: {inner!r}; call apps inside it and return their futures"
            )
            self._finish_failed(record, err, S.FAILED)
            return
        record.depends.extend(f.tid for f in futures if isinstance(f, AppFuture))
        if not self._set_state(record, S.JOINING):
            return
        self._when_done(futures, lambda: self._join_done(record, inner, futures))

    def _join_done(self, record: TaskRecord, inner: Any, futures: list[Future[Any]]) -> None:
        failed = failures_of(futures)
        if failed:
            self._finish_failed(record, JoinError(failed, record.tid), S.FAILED)
        elif isinstance(inner, Future):
            self._complete(record, inner.result())
        else:
            self._complete(record, [f.result() for f in futures])

    # ------------------------------------------------------------ state + events
    def _set_state(self, record: TaskRecord, new: TaskState, expect: tuple[TaskState, ...] | None = None,
                   detail: str = "") -> bool:
        now = time.time()
        old = record.transition(new, now, expect, detail)
        if old is None:
            return False
        if new in FINAL_STATES:
            for hook in self.final_hooks.fns:
                hook(record.tid)
        if self.events.wants_tasks:  # no event is built when nobody listens
            self.events.publish(TaskEvent(now, record.tid, record.app_name, old, new, record.try_id,
                                          record.executor, detail=detail))
        return True

    def subscribe(self, fn: Subscriber) -> Subscription:
        """Deliver every event (in batches, off the task path) to ``fn(events)``.

        Returns
        -------
        Subscription
            Call ``.close()`` on it to stop.
        """
        return self.events.subscribe(fn)

    # ---------------------------------------------------------------- cancel
    def cancel_task(self, record: TaskRecord) -> bool:
        """Cancel a task: always possible before launch, on running tasks where the executor can."""
        fut = record.app_fu
        if record.final:
            return record.status is S.CANCELLED
        if self._set_state(record, S.CANCELLED, expect=(S.UNSCHED, S.PENDING, S.FAIL_RETRYABLE)):
            self._cancel_future(record)
            return True
        exec_fu = record.exec_fu
        if exec_fu is not None and record.status in (S.LAUNCHED, S.RUNNING):
            executor = self.executors[record.executor]
            if executor.cancel_task(exec_fu) and self._set_state(record, S.CANCELLED):
                self._cancel_future(record)
                return True
        return fut is not None and fut.cancelled()

    def _cancel_future(self, record: TaskRecord) -> None:
        record.time_returned = time.time()
        fut = record.app_fu
        self._release(record)
        if fut is not None:
            fut._set_cancelled()

    # --------------------------------------------------------------- helpers
    def deferred(self, kind: str, fut: AppFuture[Any], key: Any) -> AppFuture[Any]:
        """A future of ``fut.result()[key]`` (getitem) or ``getattr(result, key)``."""
        from ..apps.python import PythonApp
        from .launch import deferred_getattr, deferred_getitem

        func = deferred_getitem if kind == "getitem" else deferred_getattr
        return PythonApp(func, data_flow_kernel=self, executors=[_INTERNAL])(fut, key)

    def wait_for_current_tasks(self) -> None:
        """Block until every task submitted so far (and any they start) is final."""
        while True:
            futures = [r.app_fu for r in list(self.tasks.values()) if not r.final and r.app_fu is not None]
            if not futures:
                return
            wait(futures)

    @property
    def task_count(self) -> int:
        """How many tasks were submitted to this kernel (Parsl's ``dfk.task_count``)."""
        return len(self.tasks)

    def task_counts(self) -> dict[str, int]:
        """How many tasks are in each state with any, by Parsl's state names (from ``task_state_counts``)."""
        return {state.label: n for state, n in self.task_state_counts.items() if n}

    @property
    def graph(self) -> nx.DiGraph:
        """The task graph as a networkx DiGraph (a snapshot; edges run dependency -> dependant)."""
        from .graph import task_graph

        return task_graph(list(self.tasks.values()))

    # --------------------------------------------------------------- cleanup
    def cleanup(self) -> None:
        """Shut down every executor and process this kernel started.

        Launched tasks on threads finish first; tasks not launched yet end
        ``CANCELLED``. Safe to call twice.
        """
        if self.cleanup_called:
            return
        self.cleanup_called = True
        logger.info("DataFlowKernel %s cleaning up", self.run_id)
        self._cancel_all((S.UNSCHED, S.PENDING, S.FAIL_RETRYABLE))
        self._shutdown_executors()
        self._cancel_all(None)
        self.time_completed = time.time()
        self.events.close()
        self._close_records()
        atexit.unregister(self.atexit_cleanup)
        from .loader import DataFlowKernelLoader

        DataFlowKernelLoader._forget(self)
        logger.info("DataFlowKernel %s cleaned up", self.run_id)
        if self._log is not None:
            self._log.close()

    def _cancel_all(self, states: tuple[TaskState, ...] | None) -> None:
        for record in list(self.tasks.values()):
            if not record.final and self._set_state(record, S.CANCELLED, expect=states, detail="kernel cleaned up"):
                self._cancel_future(record)

    def _close_records(self) -> None:
        self.checkpointer.close()
        if self.monitoring is not None:
            self.monitoring.close(self.time_completed)

    def checkpoint(self, tasks: Any = None) -> str:
        """Write the results of every memoized task finished since the last checkpoint.

        ``checkpoint_mode='manual'`` writes only here (and at cleanup); the
        other modes call it for you. ``tasks`` is accepted for Parsl
        compatibility and ignored.

        Returns
        -------
        str
            The checkpoint directory, for ``Config(checkpoint_files=[...])``.
        """
        return self.checkpointer.checkpoint()

    def _shutdown_executors(self) -> None:
        for label, ex in list(self.executors.items()):
            try:
                ex.shutdown()
            except Exception as e:  # one failing executor must not keep the others alive
                logger.warning("executor %s failed to shut down: %s", label, e)

    def atexit_cleanup(self) -> None:
        """Clean up at interpreter exit (registered by the kernel itself)."""
        if not self.cleanup_called:
            self.cleanup()

    def __enter__(self) -> DataFlowKernel:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        mode = self.config.exit_mode
        if mode == "skip":
            return
        if mode == "wait" and exc_type is None:
            self.wait_for_current_tasks()
        self.cleanup()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from ..jupyter.reprs import kernel_html, kernel_text, mimebundle

        return mimebundle(kernel_text(self), kernel_html(self))

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.task_counts().items()))
        state = "cleaned up" if self.cleanup_called else "running"
        execs = [x for x in self.executors if x != _INTERNAL]
        return f"<DataFlowKernel {state} run_dir={self.run_dir} executors={execs} tasks: {counts or 'none'}>"


def _auto_lognames_into_kwargs(record: TaskRecord, spec: CallSpec) -> None:
    """As in Parsl: a body that declares ``stdout``/``stderr`` sees the path AUTO_LOGNAME chose.

    The chosen path names the task id, so it is left out of the memo key.
    """
    if spec.stdout is not AUTO_LOGNAME and spec.stderr is not AUTO_LOGNAME:
        return
    for kind in ("stdout", "stderr"):
        if getattr(spec, kind) is AUTO_LOGNAME and kind in record.kwargs:
            record.kwargs[kind] = getattr(record, kind)
            record.ignore_for_cache = [*record.ignore_for_cache, kind]
