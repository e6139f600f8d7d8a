"""The workloads, written once against the :class:`systems.System` interface.

Task functions live in ``worker.py`` (the benchmark process's ``__main__``, as
in a notebook) and arrive here in a :class:`Tasks` bundle. Every workload
returns a flat dict of numbers; the first key is its headline metric.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from systems import System


@dataclass(frozen=True)
class Tasks:
    noop: Callable[[], None]
    inc: Callable[[int], int]
    total: Callable[..., int]
    sleep: Callable[[float], None]


@dataclass(frozen=True)
class Sizes:
    """Task counts; ``scaled(0.01)`` gives a smoke-test run."""

    noop: int = 5000
    latency: int = 200
    chain: int = 500
    fanout: int = 2000
    sleep: int = 200
    sleep_s: float = 0.05
    memory: int = 10000

    def scaled(self, factor: float) -> Sizes:
        def s(n: int) -> int:
            return max(2, round(n * factor))

        return Sizes(s(self.noop), s(self.latency), s(self.chain), s(self.fanout), s(self.sleep),
                     self.sleep_s, s(self.memory))


class CpuClock:
    """CPU seconds used by this process and, separately, by the system's other processes.

    The others are this process's descendants plus whatever ``extra()`` names
    (pids of workers that were started detached, such as local engine blocks).
    """

    def __init__(self, extra: Callable[[], list[int]] = lambda: []) -> None:
        self.extra = extra
        try:
            import psutil
        except ImportError:
            self._proc = None
        else:
            self._proc = psutil.Process()

    def read(self) -> tuple[float, float]:
        own = time.process_time()
        if self._proc is None:
            return own, 0.0
        import psutil

        kids = 0.0
        others = {p.pid: p for p in self._proc.children(recursive=True)}
        for pid in self.extra():
            try:
                others.setdefault(pid, psutil.Process(pid))
            except psutil.NoSuchProcess:
                pass
        for child in others.values():
            try:
                t = child.cpu_times()
                kids += t.user + t.system
            except Exception:  # it exited meanwhile
                pass
        return own, kids


def _timed(clock: CpuClock, n_tasks: int, body: Callable[[], Any]) -> tuple[float, dict[str, float]]:
    own0, kids0 = clock.read()
    t0 = time.perf_counter()
    body()
    wall = time.perf_counter() - t0
    own1, kids1 = clock.read()
    cpu = {
        "cpu_us_per_task_driver": (own1 - own0) / n_tasks * 1e6,
        "cpu_us_per_task_children": max(0.0, kids1 - kids0) / n_tasks * 1e6,
    }
    return wall, cpu


def noop(system: System, tasks: Tasks, sizes: Sizes, clock: CpuClock) -> dict[str, float]:
    """``sizes.noop`` independent no-op tasks, all submitted, then awaited."""
    n = sizes.noop

    def body() -> None:
        futures = [system.submit(tasks.noop) for _ in range(n)]
        system.wait_all(futures)
        for f in futures:
            system.result(f)

    wall, cpu = _timed(clock, n, body)
    return {"tasks_per_s": n / wall, "wall_s": wall, **cpu}


def latency(system: System, tasks: Tasks, sizes: Sizes, clock: CpuClock) -> dict[str, float]:
    """``sizes.latency`` sequential round trips: submit one no-op, wait for it."""
    samples: list[float] = []
    for _ in range(sizes.latency):
        t0 = time.perf_counter()
        system.result(system.submit(tasks.noop))
        samples.append((time.perf_counter() - t0) * 1e3)
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50_ms": statistics.median(samples), "p99_ms": cuts[98], "mean_ms": statistics.fmean(samples)}


def chain(system: System, tasks: Tasks, sizes: Sizes, clock: CpuClock) -> dict[str, float]:
    """``sizes.chain`` dependent tasks; each takes the previous future as its argument."""
    n = sizes.chain
    out: list[int] = []

    def body() -> None:
        fut = system.submit(tasks.inc, 0)
        for _ in range(n - 1):
            fut = system.submit_after(tasks.inc, fut)
        out.append(system.result(fut))

    wall, cpu = _timed(clock, n, body)
    if out != [n]:
        raise AssertionError(f"chain of {n} returned {out}, expected [{n}]")
    return {"ms_per_hop": wall / n * 1e3, "wall_s": wall, **cpu}


def fanout(system: System, tasks: Tasks, sizes: Sizes, clock: CpuClock) -> dict[str, float]:
    """One task, ``sizes.fanout`` tasks that each depend on it, one task that gathers them."""
    n = sizes.fanout
    out: list[int] = []

    def body() -> None:
        root = system.submit(tasks.inc, 0)
        middle = [system.submit_after(tasks.inc, root) for _ in range(n)]
        out.append(system.result(system.submit_gather(tasks.total, middle)))

    wall, cpu = _timed(clock, n + 2, body)
    if out != [2 * n]:
        raise AssertionError(f"fanout of {n} returned {out}, expected [{2 * n}]")
    return {"tasks_per_s": (n + 2) / wall, "wall_s": wall, **cpu}


def sleep(system: System, tasks: Tasks, sizes: Sizes, clock: CpuClock) -> dict[str, float]:
    """``sizes.sleep`` tasks of ``sizes.sleep_s`` seconds; efficiency against a perfect schedule."""
    n = sizes.sleep
    ideal = n * sizes.sleep_s / system.workers
    t0 = time.perf_counter()
    futures = [system.submit(tasks.sleep, sizes.sleep_s) for _ in range(n)]
    system.wait_all(futures)
    wall = time.perf_counter() - t0
    for f in futures:
        system.result(f)  # a failed task must not pass for a fast one
    return {"efficiency": ideal / wall, "wall_s": wall, "ideal_s": ideal}


def memory(system: System, tasks: Tasks, sizes: Sizes, clock: CpuClock) -> dict[str, float]:
    """RSS growth of this (the driver's) process per 10,000 finished tasks the caller dropped."""
    import psutil

    proc = psutil.Process()
    n = sizes.memory
    batch = 1000
    gc.collect()
    before = proc.memory_info().rss
    done = 0
    while done < n:
        k = min(batch, n - done)
        futures = [system.submit(tasks.noop) for _ in range(k)]
        system.wait_all(futures)
        for f in futures:
            system.result(f)
        del futures
        done += k
    gc.collect()
    after = proc.memory_info().rss
    growth_mb = (after - before) / 2**20
    return {"mb_per_10k_tasks": growth_mb * 10000 / n, "rss_after_mb": after / 2**20}


WORKLOADS: dict[str, Callable[[System, Tasks, Sizes, CpuClock], dict[str, float]]] = {
    "noop": noop,
    "latency": latency,
    "chain": chain,
    "fanout": fanout,
    "sleep": sleep,
    "memory": memory,
}
"""Run in this order; ``startup`` is measured by the worker around ``start``."""

