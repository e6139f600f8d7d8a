"""Monitoring on versus off: the 5,000-task no-op workload on threads.

Alternates kernels with ``monitoring`` on (the default) and off, each in a
fresh run directory, and prints the median tasks/s of each and the slowdown.
Goal (issue 8): at most 5 % slower with monitoring on.

    python benchmarks/monitoring_overhead.py [--tasks 5000] [--repeat 7] [--workers 2]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time


def noop() -> None:
    return None


def one_run(monitoring: bool, n: int, workers: int, run_dir: str) -> float:
    import parsl_nb as parsl
    from parsl_nb.executors import ThreadPoolExecutor

    app = parsl.python_app(noop)
    config = parsl.Config(executors=[ThreadPoolExecutor(max_threads=workers)], run_dir=run_dir,
                          monitoring=None if monitoring else False)
    with parsl.load(config):
        gc.collect()
        t0 = time.perf_counter()
        futures = [app() for _ in range(n)]
        for f in futures:
            f.result()
        wall = time.perf_counter() - t0
    return n / wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    run_dir = tempfile.mkdtemp(prefix="parsl-nb-monoverhead-")
    one_run(True, 500, args.workers, run_dir)  # warm up imports and caches
    rates: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(args.repeat):
        for mode in ("off", "on"):
            rates[mode].append(one_run(mode == "on", args.tasks, args.workers, run_dir))
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    print(json.dumps({"tasks_per_s_on": round(on), "tasks_per_s_off": round(off),
                      "slowdown_pct": round((off / on - 1) * 100, 1),
                      "runs_on": [round(x) for x in rates["on"]], "runs_off": [round(x) for x in rates["off"]]},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
