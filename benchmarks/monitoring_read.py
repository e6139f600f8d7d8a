"""How fast a large run's summary is read back from its monitoring store.

Runs N no-op tasks (default 100,000) on threads with monitoring on, some of
them failing once and retried, then times what ``parsl-nb runs`` and
``parsl-nb show`` do, each from a cold connection. Goal (issue 8): the
summary of a 100,000-task run in under 1 s.

    python benchmarks/monitoring_read.py [--tasks 100000] [--run-dir DIR] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time


def make_run(run_dir: str, n: int) -> float:
    import parsl_nb as parsl
    from parsl_nb.executors import ThreadPoolExecutor

    @parsl.python_app
    def noop(i: int) -> int:
        return i

    @parsl.python_app
    def flaky(path: str) -> int:
        if not os.path.exists(path):
            open(path, "w").close()
            raise RuntimeError("first try fails")
        return 1

    t0 = time.perf_counter()
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_threads=4)], run_dir=run_dir, retries=1)):
        futures = [noop(i) for i in range(n - 100)]
        futures += [flaky(os.path.join(run_dir, f"flag{i}")) for i in range(100)]
        for f in futures:
            f.result()
    return time.perf_counter() - t0


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--run-dir", default=None, help="where to make (or, with --reuse, find) the run")
    ap.add_argument("--reuse", action="store_true", help="read the last run in --run-dir instead of making one")
    args = ap.parse_args()
    run_dir = args.run_dir or tempfile.mkdtemp(prefix="parsl-nb-monread-")
    made = None if args.reuse else make_run(run_dir, args.tasks)

    import parsl_nb
    from parsl_nb.monitoring import Run
    from parsl_nb.monitoring.report import format_run, format_runs

    path = parsl_nb.runs(run_dir)[-1].path
    db_mb = os.path.getsize(path / "monitoring.db") / 1e6
    results = {
        "tasks": len(Run(path).tasks()) if args.tasks <= 200_000 else None,
        "make_run_s": made,
        "db_mb": round(db_mb, 1),
        "runs_list_s": timed(lambda: format_runs(run_dir)),
        "show_summary_s": timed(lambda: format_run(Run(path))),
        "counts_s": timed(lambda: Run(path).counts()),
        "all_task_records_s": timed(lambda: Run(path).tasks(), repeat=1),
        "all_transitions_s": timed(lambda: Run(path).states(), repeat=1),
    }
    print(json.dumps(results, indent=2))
    ok = results["show_summary_s"] < 1.0
    print(f"summary of {args.tasks} tasks read in {results['show_summary_s']:.3f} s: "
          f"{'OK' if ok else 'SLOWER THAN'} (goal < 1 s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
