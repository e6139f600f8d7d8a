"""Monitoring on versus off: the 5,000-task no-op workload on threads or local engines.

Alternates kernels with ``monitoring`` on (the default) and off, each in a
fresh run directory, and prints the median tasks/s of each, the slowdown, and
the kernel process's CPU per task (less sensitive to a busy machine than wall
time). Goal (issue 8): at most 5 % slower with monitoring on, on local engines.

    python benchmarks/monitoring_overhead.py [--executor engines] [--tasks 5000] [--repeat 7] [--workers 2]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from typing import Any


def noop() -> None:
    return None


def _executor(kind: str, workers: int) -> Any:
    from parsl_nb.executors import EngineExecutor, ThreadPoolExecutor

    if kind == "engines":
        return EngineExecutor(engines_per_node=workers)
    return ThreadPoolExecutor(max_threads=workers)


def one_run(monitoring: bool, n: int, workers: int, run_dir: str, kind: str = "threads") -> tuple[float, float]:
    """(tasks/s, kernel CPU us per task) of ``n`` no-ops, after a warm-up that waits for the workers."""
    import parsl_nb as parsl

    app = parsl.python_app(noop)
    config = parsl.Config(executors=[_executor(kind, workers)], run_dir=run_dir,
                          monitoring=None if monitoring else False)
    with parsl.load(config):
        for f in [app() for _ in range(200)]:  # engines up and warm
            f.result()
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        futures = [app() for _ in range(n)]
        for f in futures:
            f.result()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return n / wall, cpu / n * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--executor", choices=("threads", "engines"), default="threads")
    args = ap.parse_args()
    run_dir = tempfile.mkdtemp(prefix="parsl-nb-monoverhead-")
    one_run(True, 500, args.workers, run_dir, args.executor)  # warm up imports and caches
    rates: dict[str, list[float]] = {"on": [], "off": []}
    cpus: dict[str, list[float]] = {"on": [], "off": []}
    for k in range(args.repeat):
        for mode in ("off", "on") if k % 2 == 0 else ("on", "off"):
            rate, cpu = one_run(mode == "on", args.tasks, args.workers, run_dir, args.executor)
            rates[mode].append(rate)
            cpus[mode].append(cpu)
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    ratios = sorted(b / a for a, b in zip(rates["on"], rates["off"], strict=True))
    print(json.dumps({"executor": args.executor, "tasks": args.tasks,
                      "tasks_per_s_on": round(on), "tasks_per_s_off": round(off),
                      "slowdown_pct": round((off / on - 1) * 100, 1),
                      "slowdown_pct_paired_median": round((statistics.median(ratios) - 1) * 100, 1),
                      "kernel_cpu_us_per_task_on": round(statistics.median(cpus["on"]), 1),
                      "kernel_cpu_us_per_task_off": round(statistics.median(cpus["off"]), 1),
                      "runs_on": [round(x) for x in rates["on"]], "runs_off": [round(x) for x in rates["off"]]},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
