"""Load: N no-op tasks through local engines with the kernel's memory bounded.

Submits every task at once, as a notebook cell would (``[noop(i) for i in
range(N)]``), waits for all of them, and samples the kernel process's RSS
every 50 ms (psutil) from load() to the end. Goal (issue 11): 100,000 tasks
with a peak kernel RSS under 500 MB. Prints one JSON object; ``--out`` also
writes it.

    python benchmarks/load.py [--tasks 100000] [--engines 2] [--window 0] [--out FILE]

``--window W`` keeps at most W tasks outstanding (a bounded submitter) to
separate the cost of many live futures from the cost of the run itself.
tests/faults/test_load.py runs a smaller version with the same function.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from typing import Any

import psutil


class PeakRSS:
    """Samples this process's RSS in a thread; ``peak`` in bytes."""

    def __init__(self, interval: float = 0.05) -> None:
        self.proc = psutil.Process()
        self.peak = self.proc.memory_info().rss
        self.start = self.peak
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)
        return self.peak


def run(tasks: int, engines: int = 2, window: int = 0, run_dir: str | None = None,
        monitoring: bool = True) -> dict[str, Any]:
    """Run the load and return its measurements (used by tests/faults/test_load.py too)."""
    import parsl_nb as parsl
    from parsl_nb.executors import EngineExecutor

    @parsl.python_app
    def noop(i: int) -> int:
        return i

    rss = PeakRSS()
    t0 = time.perf_counter()
    run_dir = run_dir or tempfile.mkdtemp(prefix="parsl_nb-load-")
    dfk = parsl.load(parsl.Config(executors=[EngineExecutor(engines_per_node=engines)], run_dir=run_dir,
                                  monitoring=None if monitoring else False))
    try:
        assert noop(-1).result(timeout=60) == -1
        t1 = time.perf_counter()
        total = 0
        if window <= 0:
            futs = [noop(i) for i in range(tasks)]
            for f in futs:
                total += f.result(timeout=600)
            del futs
        else:
            live: list[Any] = []
            for i in range(tasks):
                live.append(noop(i))
                if len(live) >= window:
                    total += sum(f.result(timeout=600) for f in live)
                    live = []
            total += sum(f.result(timeout=600) for f in live)
        elapsed = time.perf_counter() - t1
        assert total == tasks * (tasks - 1) // 2, "a task's result was lost"
        counts = dfk.task_counts()
    finally:
        dfk.cleanup()
        parsl.clear()
    peak = rss.stop()
    return {"tasks": tasks, "engines": engines, "window": window, "monitoring": monitoring,
            "seconds": round(elapsed, 2), "tasks_per_s": round(tasks / elapsed),
            "startup_s": round(t1 - t0, 2), "rss_start_mb": round(rss.start / 2**20, 1),
            "rss_peak_mb": round(peak / 2**20, 1), "rss_end_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
            "task_counts": counts, "goal_rss_peak_mb": 500, "pid": os.getpid()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--engines", type=int, default=2)
    ap.add_argument("--window", type=int, default=0)
    ap.add_argument("--no-monitoring", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    result = run(args.tasks, args.engines, args.window, monitoring=not args.no_monitoring)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
