"""One benchmark process: start one system, run the workloads, write JSON.

Run by ``run.py`` (``python benchmarks/worker.py --system NAME --out FILE``), with
the interpreter the system needs. The task functions are defined here, in
``__main__``, as they would be in a notebook.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from typing import Any


def noop() -> None:
    return None


def inc(x: int) -> int:
    return x + 1


def total(inputs: Any = ()) -> int:
    return sum(inputs)


def sleep(seconds: float) -> None:
    import time  # inside: Parsl ships __main__ functions by value, without module globals

    time.sleep(seconds)


def run(system_name: str, workloads: list[str], workers: int, scale: float, warmup: int) -> dict[str, Any]:
    from systems import REGISTRY
    from workloads import WORKLOADS, CpuClock, Sizes, Tasks

    tasks = Tasks(noop=noop, inc=inc, total=total, sleep=sleep)
    sizes = Sizes().scaled(scale)
    system = REGISTRY[system_name](workers)
    clock = CpuClock(system.other_pids)
    out: dict[str, Any] = {"system": system_name, "metrics": {}}

    t0 = time.perf_counter()
    system.start()
    system.result(system.submit(noop))
    out["metrics"]["startup"] = {"s": time.perf_counter() - t0}
    out["versions"] = system.versions()
    try:
        if warmup:
            system.wait_all([system.submit(noop) for _ in range(warmup)])
        for name in workloads:
            out["metrics"][name] = WORKLOADS[name](system, tasks, sizes, clock)
        out["log_bytes"] = system.log_bytes()
    finally:
        t1 = time.perf_counter()
        system.stop()
        out["stop_s"] = time.perf_counter() - t1
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--system", required=True)
    p.add_argument("--workloads", default="noop,latency,chain,fanout")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    names = [w for w in args.workloads.split(",") if w and w != "startup"]
    try:
        result = run(args.system, names, args.workers, args.scale, args.warmup)
    except BaseException:
        result = {"system": args.system, "error": traceback.format_exc()}
    with open(args.out, "w") as f:
        json.dump(result, f)
    # Some systems leave non-daemon threads behind; the numbers are written.
    sys.stdout.flush()
    sys.stderr.flush()
    import os

    os._exit(0 if "error" not in result else 1)


if __name__ == "__main__":
    main()
