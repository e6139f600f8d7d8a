"""Profile parsl_nb's per-task path (threads or engines executor) on noop, chain and fanout.

cProfile follows one thread only, so every thread started after ``install`` gets
its own profiler (the pool's workers run the kernel's done-callbacks, which is
where dependants launch); the per-thread stats are merged at the end. Costs are
shown in microseconds per task. cProfile inflates small functions, so read the
ranking, and compare with the un-profiled ``run.py`` numbers for absolute cost.

    python benchmarks/profile_hot_path.py                 # all three, top 25 each
    python benchmarks/profile_hot_path.py --workload chain --top 40 --sort cumulative
    python benchmarks/profile_hot_path.py --system parsl_nb-engines   # the kernel's side only
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import threading
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from systems import REGISTRY  # noqa: E402
from workloads import CpuClock, Sizes, Tasks, chain, fanout, noop  # noqa: E402

_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def install() -> None:
    """Give every thread started from now on its own profiler."""
    original = threading.Thread.run

    def run(self: threading.Thread) -> None:
        prof = cProfile.Profile()
        with _lock:
            _profiles.append(prof)
        prof.enable()
        try:
            original(self)
        finally:
            prof.disable()

    threading.Thread.run = run  # type: ignore[method-assign]


def _noop() -> None:
    return None


def _inc(x: int) -> int:
    return x + 1


def _total(inputs: Any = ()) -> int:
    return sum(inputs)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


WORKLOADS = {"noop": (noop, lambda s: s.noop), "chain": (chain, lambda s: s.chain),
             "fanout": (fanout, lambda s: s.fanout + 2)}


def profile(workload: str, top: int, sort: str, system_name: str = "parsl_nb-threads") -> str:
    """Run ``workload`` once under the profilers; return the report text."""
    _profiles.clear()
    func, count = WORKLOADS[workload]
    sizes = Sizes()
    tasks = Tasks(_noop, _inc, _total, _sleep)
    system = REGISTRY[system_name](2)
    system.start()
    func(system, tasks, Sizes().scaled(0.05), CpuClock())  # warm up outside the profile
    main = cProfile.Profile()
    main.enable()
    metrics = func(system, tasks, sizes, CpuClock())
    main.disable()
    system.stop()  # joins the pool threads, which stops their profilers
    n = count(sizes)
    stats = pstats.Stats(main)
    for prof in _profiles:
        try:
            stats.add(prof)
        except TypeError:  # a thread that never ran profiled code
            pass
    return _render(stats, workload, n, metrics, top, sort)


def _render(stats: pstats.Stats, workload: str, n: int, metrics: dict[str, float], top: int, sort: str) -> str:
    rows = []
    for (file, line, name), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((tottime, cumtime, calls, f"{_short(file)}:{line}({name})"))
    key = 0 if sort == "tottime" else 1
    rows.sort(key=lambda r: r[key], reverse=True)
    rows = [r for r in rows if not any(idle in r[3] for idle in _IDLE)]
    total = sum(r[0] for r in rows)
    out = io.StringIO()
    headline = {k: round(v, 3) for k, v in metrics.items()}
    out.write(f"\n== {workload}: {n} tasks, profiled run {headline}\n")
    out.write(f"   profiled time across threads, idle waits left out: {total / n * 1e6:,.0f} us per task\n")
    out.write(f"   {'self us/task':>12} {'cum us/task':>12} {'calls/task':>10}  function\n")
    for tottime, cumtime, calls, where in rows[:top]:
        out.write(f"   {tottime / n * 1e6:12.1f} {cumtime / n * 1e6:12.1f} {calls / n:10.2f}  {where}\n")
    return out.getvalue()


# Idle worker threads blocked on their queue, and the threads' outer loops: waiting, not cost.
_IDLE = ("SimpleQueue' objects>", "thread.py:69(_worker)", "threading.py:1010(run)", "(_bootstrap_inner)")


def _short(path: str) -> str:
    for marker in ("parsl_nb/", "concurrent/", "logging/", "threading.py", "benchmarks/"):
        i = path.find(marker)
        if i >= 0:
            return path[i:]
    return os.path.basename(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", choices=[*WORKLOADS, "all"], default="all")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--sort", choices=["tottime", "cumulative"], default="tottime")
    p.add_argument("--system", choices=["parsl_nb-threads", "parsl_nb-engines"], default="parsl_nb-threads")
    args = p.parse_args(argv)
    os.chdir(tempfile.mkdtemp(prefix="bench-profile-"))  # the kernel's runinfo/ goes here
    install()
    names = list(WORKLOADS) if args.workload == "all" else [args.workload]
    for name in names:
        print(profile(name, args.top, args.sort, args.system), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
