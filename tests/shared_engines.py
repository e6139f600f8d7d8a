"""One local engine cluster for the whole test session, lent to each test's kernel.

Starting a controller and two engines takes 2-4 s on this machine, and the
behavioural suite loads a fresh kernel about a hundred times. So the session
starts one real :class:`EngineExecutor` and each test's kernel gets an
:class:`EngineLease`: an executor whose tasks run on the shared engines, with
task ids of its own and events routed back to its own kernel only.

A lease's ``shutdown`` does what the real executor's does to that kernel's
tasks: every unfinished one is cancelled (running ones are interrupted on
their engine). The real start, shutdown and no-orphan behaviour is tested
with fresh executors in ``tests/engines/``. Set ``PARSL_NB_FRESH_ENGINES=1``
to run the behavioural suite with a fresh EngineExecutor per test instead
(slow, about 4 s per test; a check that the lease hides nothing).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from parsl_nb.errors import ExecutorError
from parsl_nb.executors import EngineExecutor
from parsl_nb.executors.base import Executor, ExecutorContext, TaskSpec

FRESH = os.environ.get("PARSL_NB_FRESH_ENGINES") == "1"


class SharedEngines:
    """The session's engine executor and the routing of its task events to leases."""

    def __init__(self, label: str, workdir: str) -> None:
        self.label, self.workdir = label, workdir
        self.executor: EngineExecutor | None = None
        self._owners: dict[int, tuple[EngineLease, int]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def started(self) -> EngineExecutor:
        """The shared executor, started on first use (engines run in ``workdir``)."""
        if self.executor is None:
            ex = EngineExecutor(label=self.label, engines_per_node=2, strategy="none")
            context = ExecutorContext(os.path.join(self.workdir, "runinfo"), task_running=self._running,
                                      task_placed=self._placed, strategy="none")
            here = os.getcwd()
            os.chdir(self.workdir)  # engines inherit it: stray relative paths land here, not in the checkout
            try:
                ex.start(context)
            finally:
                os.chdir(here)
            self.executor = ex
        return self.executor

    def stop(self) -> None:
        """Shut the shared executor down (end of session)."""
        if self.executor is not None:
            self.executor.shutdown()
            self.executor = None

    def adopt(self, lease: EngineLease, tid: int) -> int:
        """A session-wide task id for ``tid`` of ``lease``."""
        gid = next(self._ids)
        with self._lock:
            self._owners[gid] = (lease, tid)
        return gid

    def release(self, gid: int) -> None:
        """Forget a finished task."""
        with self._lock:
            self._owners.pop(gid, None)

    def _owner(self, gid: int) -> tuple[EngineLease, int] | None:
        with self._lock:
            return self._owners.get(gid)

    def _running(self, gid: int) -> None:
        owner = self._owner(gid)
        if owner is not None and owner[0].context is not None:
            owner[0].context.task_running(owner[1])

    def _placed(self, gid: int, engine: str | None, block: str | None) -> None:
        owner = self._owner(gid)
        if owner is not None and owner[0].context is not None:
            owner[0].context.task_placed(owner[1], engine, block)


class EngineLease(Executor):
    """One kernel's executor on the session's shared engines (see the module docstring)."""

    def __init__(self, shared: SharedEngines) -> None:
        self.shared = shared
        self.label = shared.label
        self.context: ExecutorContext | None = None
        self._futures: dict[Future[Any], int] = {}
        self._lock = threading.Lock()

    def start(self, context: ExecutorContext) -> None:
        """Attach to the shared engines (starting them on first use)."""
        self.run_dir = context.run_dir
        self.shared.started()
        self.context = context

    def submit_task(self, task: TaskSpec) -> Future[Any]:
        """Run the task on the shared engines under a session-wide task id."""
        real = self.shared.started()
        if self.context is None:  # as the real executor says once shut down
            raise ExecutorError(self.label, "it is not running (not started, or shut down); "
                                "load a new kernel with parsl_nb.load() to run more tasks")
        gid = self.shared.adopt(self, task.tid)
        try:
            fut = real.submit_task(replace(task, tid=gid))
        except BaseException:
            self.shared.release(gid)
            raise
        with self._lock:
            self._futures[fut] = gid
        fut.add_done_callback(self._finished)
        return fut

    def _finished(self, fut: Future[Any]) -> None:
        with self._lock:
            gid = self._futures.pop(fut, None)
        if gid is not None:
            self.shared.release(gid)

    def cancel_task(self, future: Future[Any]) -> bool:
        """Cancel through the shared executor (interrupts a running task)."""
        return self.shared.started().cancel_task(future)

    def shutdown(self) -> None:
        """Cancel this kernel's unfinished tasks and detach; the engines stay up."""
        self.context = None
        real = self.shared.executor
        with self._lock:
            futures = list(self._futures)
        if real is not None:
            for fut in futures:
                real.cancel_task(fut)
            deadline = time.monotonic() + 10
            while any(not f.done() for f in futures) and time.monotonic() < deadline:
                time.sleep(0.01)

    @property
    def outstanding(self) -> int:
        """This kernel's unfinished tasks."""
        with self._lock:
            return len(self._futures)

    def status_summary(self) -> dict[str, Any]:
        """The shared executor's summary."""
        return self.shared.started().status_summary()

    def __repr__(self) -> str:
        return f"EngineLease(label={self.label!r}, shared={self.shared.executor!r})"
