"""Python-side cost of the live widgets (numbers to read, not timed assertions).

    python benchmarks/widgets.py [--nodes 20000] [--layout 5000] [--workflow 10000] [--repeats 5]
                                 [--executor threads|engines]

Measures: the layered layout of N nodes at once and in small batches; one sync
tick at 20,000 nodes (applying a poll's state changes, encoding the patch) and a
keyframe snapshot; and a thread workflow with and without a DagWidget following
it (the comm is a no-op outside a kernel, so this is the Python-side overhead).
Issue 5's targets: tick < 5 ms at 20,000 nodes, layout of 5,000 nodes < 100 ms,
workflow at most 10 % slower with the widget.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from parsl_nb.dataflow.states import TaskState as S
from parsl_nb.widgets._layout import IncrementalLayout
from parsl_nb.widgets._model import GraphModel


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median and max wall time of ``fn()`` in ms."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), max(times)


def random_dag(n: int, seed: int = 0) -> list[tuple[int, list[int]]]:
    rng = random.Random(seed)
    return [(i, rng.sample(range(max(0, i - 500), i), min(i, rng.randint(0, 3)))) for i in range(n)]


def bench_layout(n: int, repeats: int) -> None:
    rows = random_dag(n)
    med, mx = timed(lambda: IncrementalLayout().add(rows), repeats)
    print(f"layout, {n} nodes at once (random DAG, up to 3 deps):  median {med:7.1f} ms  max {mx:7.1f} ms")

    def batches() -> None:
        lay = IncrementalLayout()
        for k in range(0, n, 50):
            lay.add(rows[k:k + 50])
    med, mx = timed(batches, repeats)
    print(f"layout, {n} nodes in batches of 50:                   median {med:7.1f} ms  max {mx:7.1f} ms")
    wide = [(i, ()) for i in range(n // 2)] + [(n + i, (i, n // 2 - 1 - i)) for i in range(n // 2)]
    med, mx = timed(lambda: IncrementalLayout().add(wide), repeats)
    print(f"layout, {n} nodes, two wide layers:                  median {med:7.1f} ms  max {mx:7.1f} ms")


def bench_tick(n: int, repeats: int) -> None:
    rows = [(tid, f"app{tid % 5}", tuple(deps), int(S.UNSCHED)) for tid, deps in random_dag(n)]
    med, _ = timed(lambda: GraphModel().add_rows(rows), 1)
    print(f"model, {n} new tasks in one poll:                    {med:7.1f} ms")
    model = GraphModel()
    model.add_rows(rows)
    model.take_patch()
    states = [S.PENDING, S.LAUNCHED, S.RUNNING, S.EXEC_DONE]
    for per_tick in (100, 1000, 5000):
        ticks = []
        for r in range(repeats):
            changes = [(random.randrange(n), None, int(states[r % 4])) for _ in range(per_tick)]
            t = time.perf_counter()
            model.set_states(changes)
            patch = model.take_patch()
            ticks.append((time.perf_counter() - t) * 1000)
        print(f"tick at {n} nodes, {per_tick:5d} changes (apply + patch): median {statistics.median(ticks):7.2f} ms"
              f"  max {max(ticks):7.2f} ms  patch {len(patch or b'')} bytes")
    med, mx = timed(model.snapshot, repeats)
    print(f"snapshot (keyframe) at {n} nodes:                   median {med:7.2f} ms  "
          f"max {mx:7.2f} ms  {len(model.snapshot())} bytes")
    med, mx = timed(model.groups, repeats)
    print(f"grouped counts at {n} nodes (static fallback):      median {med:7.2f} ms  max {mx:7.2f} ms")


def _executor(kind: str) -> Any:
    import parsl_nb as parsl
    from parsl_nb.executors import EngineExecutor

    if kind == "engines":
        return EngineExecutor(engines_per_node=2)
    return parsl.ThreadPoolExecutor(max_threads=4)


def bench_workflow(n: int, repeats: int, kind: str = "threads") -> dict[str, Any]:
    import parsl_nb as parsl
    from parsl_nb.widgets import DagWidget

    @parsl.python_app
    def noop(x: int) -> int:
        return x

    def run(widget: bool) -> tuple[float, float]:
        with tempfile.TemporaryDirectory() as d:
            parsl.load(parsl.Config(executors=[_executor(kind)], run_dir=d))
            for f in [noop(i) for i in range(200)]:  # workers up and warm (engines take a few seconds)
                f.result()
            w = DagWidget(hz=15) if widget else None
            t, c = time.perf_counter(), time.process_time()
            futures = [noop(i) for i in range(n)]
            for f in futures:
                f.result()
            wall, cpu = time.perf_counter() - t, time.process_time() - c
            if w is not None:
                deadline = time.monotonic() + 10
                while len(w.graph) < n + 200 and time.monotonic() < deadline:
                    time.sleep(0.05)  # the next tick reads the last records
                assert len(w.graph) == n + 200, f"the widget shows {len(w.graph)} of {n + 200} tasks"
                w.close()
            parsl.clear()
            return wall, cpu / n * 1e6

    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for k in range(repeats):
        for widget in (False, True) if k % 2 == 0 else (True, False):  # interleaved, so drift spreads over both
            results[widget].append(run(widget))
    walls = {w: [r[0] for r in results[w]] for w in results}
    cpus = {w: [r[1] for r in results[w]] for w in results}
    off, on = statistics.median(walls[False]), statistics.median(walls[True])
    paired = statistics.median(b / a - 1 for a, b in zip(walls[False], walls[True], strict=True)) * 100
    where = "4 threads" if kind == "threads" else "2 local engines"
    print(f"workflow, {n} no-op tasks on {where}: without widget {off:.2f} s, with DagWidget {on:.2f} s "
          f"({(on / off - 1) * 100:+.1f} %, paired {paired:+.1f} %); kernel CPU per task "
          f"{statistics.median(cpus[False]):.0f} / {statistics.median(cpus[True]):.0f} us; "
          f"rounds without {[round(x, 2) for x in walls[False]]}, with {[round(x, 2) for x in walls[True]]}")
    return {"benchmark": "widgets-workflow", "executor": kind, "tasks": n, "rounds": repeats,
            "median_s_without": off, "median_s_with": on, "slowdown_pct": (on / off - 1) * 100,
            "paired_slowdown_pct": paired, "kernel_cpu_us_per_task_without": statistics.median(cpus[False]),
            "kernel_cpu_us_per_task_with": statistics.median(cpus[True]), "rounds_without_s": walls[False],
            "rounds_with_s": walls[True]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, default=20000)
    p.add_argument("--layout", type=int, default=5000)
    p.add_argument("--workflow", type=int, default=10000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--executor", choices=("threads", "engines"), default="threads",
                   help="where the workflow runs (engines: 2 local ipyparallel engines)")
    p.add_argument("--workflow-only", action="store_true", help="skip the layout and tick measurements")
    p.add_argument("--json", help="also write the workflow measurement as JSON to this file")
    a = p.parse_args()
    if not a.workflow_only:
        bench_layout(a.layout, a.repeats)
        bench_tick(a.nodes, a.repeats)
    if a.workflow:
        out = bench_workflow(a.workflow, a.repeats if a.workflow_only else min(a.repeats, 3), a.executor)
        if a.json:
            with open(a.json, "w") as fh:
                json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
