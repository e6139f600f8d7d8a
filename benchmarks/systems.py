"""System adapters: one small object per system under test, with start / submit / stop.

Each system runs in its own benchmark process (see ``worker.py``), so importing
one system never touches another. An adapter imports its library inside
``start`` only, which keeps this module importable by any interpreter: the
project's own (``env = "self"``) or the peers' venv (``env = "peer"``).

Adding a system: subclass :class:`System` (or :class:`DataflowSystem` for
Parsl-style apps, :class:`CallbackChaining` for plain pools whose tasks cannot
take futures as arguments), give it ``name``, ``env`` and ``requires``, and
decorate it with ``@register``.
"""

from __future__ import annotations

import abc
import concurrent.futures as cf
import os
from collections.abc import Callable, Sequence
from typing import Any

REGISTRY: dict[str, type[System]] = {}


def register(cls: type[System]) -> type[System]:
    REGISTRY[cls.name] = cls
    return cls


class System(abc.ABC):
    """One workflow system with ``workers`` workers.

    ``env`` says which interpreter runs it: ``"self"`` (the one with parsl_nb)
    or ``"peer"`` (the venv made by ``setup_peers.sh``). ``requires`` lists the
    modules that must import there, or the system is skipped.
    """

    name: str = ""
    env: str = "self"
    requires: tuple[str, ...] = ()
    description: str = ""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    @abc.abstractmethod
    def start(self) -> None:
        """Start workers (timed as part of ``startup``)."""

    @abc.abstractmethod
    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)``; return a future."""

    @abc.abstractmethod
    def submit_after(self, fn: Callable[[Any], Any], dep: Any) -> Any:
        """Run ``fn(dep_result)`` once ``dep`` is done; return a future."""

    @abc.abstractmethod
    def submit_gather(self, fn: Callable[..., Any], deps: Sequence[Any]) -> Any:
        """Run ``fn(inputs=[results of deps])`` once all are done; return a future."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop every worker and process the system started."""

    def result(self, fut: Any) -> Any:
        return fut.result()

    def wait_all(self, futures: Sequence[Any]) -> None:
        cf.wait(futures)

    def versions(self) -> dict[str, str]:
        """Versions of the libraries behind this system (after ``start``)."""
        import importlib

        out: dict[str, str] = {}
        for mod in self.requires:
            out[mod] = str(getattr(importlib.import_module(mod), "__version__", "?"))
        return out

    def log_bytes(self) -> int:
        """Bytes of log files the system wrote (0 if none)."""
        return 0

    def other_pids(self) -> list[int]:
        """Worker pids that are not descendants of this process (counted in its CPU per task)."""
        return []


def _dir_bytes(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


class CallbackChaining(System):
    """Dependencies for plain pools: submit the next task from a done callback.

    This is what a user of a bare pool writes by hand, so it is the fair floor
    for the ``chain`` and ``fanout`` workloads.
    """

    def submit_after(self, fn: Callable[[Any], Any], dep: Any) -> cf.Future[Any]:
        out: cf.Future[Any] = cf.Future()

        def go(done: cf.Future[Any]) -> None:
            try:
                _copy_into(self.submit(fn, done.result()), out)
            except BaseException as e:  # the submit itself failed
                out.set_exception(e)

        dep.add_done_callback(go)
        return out

    def submit_gather(self, fn: Callable[..., Any], deps: Sequence[Any]) -> cf.Future[Any]:
        import threading

        out: cf.Future[Any] = cf.Future()
        left = [len(deps)]
        lock = threading.Lock()

        def tick(_done: cf.Future[Any]) -> None:
            with lock:
                left[0] -= 1
                last = left[0] == 0
            if last:
                try:
                    _copy_into(self.submit(fn, inputs=[d.result() for d in deps]), out)
                except BaseException as e:
                    out.set_exception(e)

        for d in deps:
            d.add_done_callback(tick)
        return out


def _copy_into(src: cf.Future[Any], dst: cf.Future[Any]) -> None:
    def copy(done: cf.Future[Any]) -> None:
        exc = done.exception()
        if exc is not None:
            dst.set_exception(exc)
        else:
            dst.set_result(done.result())

    src.add_done_callback(copy)


@register
class CfThreads(CallbackChaining):
    name = "cf-threads"
    description = "concurrent.futures.ThreadPoolExecutor (the floor for threads)"

    def start(self) -> None:
        self.pool = cf.ThreadPoolExecutor(self.workers)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> cf.Future[Any]:
        return self.pool.submit(fn, *args, **kwargs)

    def stop(self) -> None:
        self.pool.shutdown(wait=True)

    def versions(self) -> dict[str, str]:
        import platform

        return {"python": platform.python_version()}


@register
class ProcessPool(CfThreads):
    name = "processpool"
    description = "concurrent.futures.ProcessPoolExecutor (the floor for processes)"

    def start(self) -> None:
        self.pool = cf.ProcessPoolExecutor(self.workers)  # type: ignore[assignment]


class DataflowSystem(System):
    """Parsl-style systems: apps take futures as arguments and in ``inputs=``."""

    module = "parsl"

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self._apps: dict[Callable[..., Any], Any] = {}

    def app(self, fn: Callable[..., Any]) -> Any:
        app = self._apps.get(fn)
        if app is None:
            import importlib

            app = self._apps[fn] = importlib.import_module(self.module).python_app(fn)
        return app

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.app(fn)(*args, **kwargs)

    def submit_after(self, fn: Callable[[Any], Any], dep: Any) -> Any:
        return self.app(fn)(dep)

    def submit_gather(self, fn: Callable[..., Any], deps: Sequence[Any]) -> Any:
        return self.app(fn)(inputs=list(deps))

    def stop(self) -> None:
        import importlib

        mod = importlib.import_module(self.module)
        mod.dfk().cleanup()
        mod.clear()

    def log_bytes(self) -> int:
        return _dir_bytes(self.run_dir)


@register
class ParslNbThreads(DataflowSystem):
    name = "parsl_nb-threads"
    env = "self"
    requires = ("parsl_nb",)
    module = "parsl_nb"
    description = "parsl_nb ThreadPoolExecutor, default Config (logging on as shipped)"

    def start(self) -> None:
        import parsl_nb
        from parsl_nb.executors import ThreadPoolExecutor

        dfk = parsl_nb.load(parsl_nb.Config(executors=[ThreadPoolExecutor(max_threads=self.workers)]))
        self.run_dir = dfk.run_dir


@register
class ParslNbEngines(DataflowSystem):
    name = "parsl_nb-engines"
    env = "self"
    requires = ("parsl_nb", "ipyparallel")
    module = "parsl_nb"
    description = "parsl_nb EngineExecutor, LocalProvider, 1 block of 2 engines, default Config"

    def start(self) -> None:
        import parsl_nb
        from parsl_nb.executors import EngineExecutor

        self.executor = EngineExecutor(engines_per_node=self.workers)
        dfk = parsl_nb.load(parsl_nb.Config(executors=[self.executor]))
        self.run_dir = dfk.run_dir

    def other_pids(self) -> list[int]:
        # local blocks run detached (re-parented to init): name their engines and watchdogs
        import psutil

        out = []
        for engine in self.executor.status_summary()["engines"]:
            out.append(engine.pid)
            try:
                for parent in psutil.Process(engine.pid).parents():  # its block's shell and watchdog
                    if parent.pid in (1, os.getpid()):
                        break
                    out.append(parent.pid)
            except psutil.NoSuchProcess:
                pass
        return out


@register
class ParslThreads(DataflowSystem):
    name = "parsl-threads"
    env = "peer"
    requires = ("parsl",)
    description = "Parsl ThreadPoolExecutor, default Config (DEBUG file logging)"

    def start(self) -> None:
        import parsl
        from parsl.config import Config
        from parsl.executors import ThreadPoolExecutor

        dfk = parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=self.workers)]))
        self.run_dir = dfk.run_dir


@register
class ParslHtex(DataflowSystem):
    name = "parsl-htex"
    env = "peer"
    requires = ("parsl",)
    description = "Parsl HighThroughputExecutor, LocalProvider, 1 block of 2 workers, default logging"

    def start(self) -> None:
        import parsl
        from parsl.config import Config
        from parsl.executors import HighThroughputExecutor
        from parsl.providers import LocalProvider

        htex = HighThroughputExecutor(
            label="htex",
            max_workers_per_node=self.workers,
            provider=LocalProvider(init_blocks=1, min_blocks=1, max_blocks=1),
        )
        dfk = parsl.load(Config(executors=[htex]))
        self.run_dir = dfk.run_dir


@register
class Dask(System):
    name = "dask"
    env = "peer"
    requires = ("dask", "distributed")
    description = "Dask distributed LocalCluster, 2 processes x 1 thread"

    def start(self) -> None:
        from distributed import Client, LocalCluster

        self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                    dashboard_address=None)
        self.client = Client(self.cluster)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.client.submit(fn, *args, pure=False, **kwargs)

    def submit_after(self, fn: Callable[[Any], Any], dep: Any) -> Any:
        return self.client.submit(fn, dep, pure=False)

    def submit_gather(self, fn: Callable[..., Any], deps: Sequence[Any]) -> Any:
        return self.client.submit(fn, inputs=list(deps), pure=False)

    def wait_all(self, futures: Sequence[Any]) -> None:
        from distributed import wait

        wait(list(futures))

    def stop(self) -> None:
        self.client.close()
        self.cluster.close()


@register
class IpyparallelLB(CallbackChaining):
    name = "ipyparallel"
    env = "peer"
    requires = ("ipyparallel",)
    description = "raw ipyparallel: local Cluster of 2 engines, LoadBalancedView"

    def start(self) -> None:
        import ipyparallel as ipp

        self.cluster = ipp.Cluster(n=self.workers, log_level=40)
        self.client = self.cluster.start_and_connect_sync(activate=False)
        self.view = self.client.load_balanced_view()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.view.apply_async(fn, *args, **kwargs)

    def stop(self) -> None:
        self.client.close()
        self.cluster.stop_cluster_sync()
