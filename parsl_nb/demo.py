"""``parsl-nb demo``: a small real workflow that exercises the whole model.

1. a bash app writes the numbers 1..N to a file (file passing out);
2. a fan-out of python apps each reads the file (file passing in, a
   ``DataFuture`` dependency) and counts the primes in its slice;
3. a reduce app adds the counts (futures as arguments);
4. a bash app writes a report from the total, and a python app reads it back.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

from . import Config, File, bash_app, python_app
from .cli import format_table, workdir
from .dataflow.loader import DataFlowKernelLoader

__all__ = ["run_demo"]


@bash_app
def generate(n: int, outputs: list[File] | None = None) -> str:
    """Write the numbers 1..n, one per line, to the first output file."""
    assert outputs
    return f"seq 1 {n} > {outputs[0].filepath}"


@python_app
def count_primes(lo: int, hi: int, inputs: list[Any] | None = None) -> int:
    """Count the primes among the numbers of lines lo..hi-1 of the input file."""
    assert inputs
    with open(inputs[0].filepath) as f:
        numbers = [int(line) for i, line in enumerate(f) if lo <= i < hi]

    def is_prime(k: int) -> bool:
        if k < 2:
            return False
        d = 2
        while d * d <= k:
            if k % d == 0:
                return False
            d += 1
        return True

    return sum(1 for k in numbers if is_prime(k))


@python_app
def total(*counts: Any) -> int:
    """Add the counts of the fan-out."""
    return sum(counts)


@bash_app
def report(n: int, primes: Any, outputs: list[File] | None = None) -> str:
    """Write a one-line report."""
    assert outputs
    return f"echo 'primes up to {n}: {primes}' > {outputs[0].filepath}"


@python_app
def read_back(inputs: list[Any] | None = None) -> str:
    """Read the report file."""
    assert inputs
    with open(inputs[0].filepath) as f:
        return f.read().strip()


def _config(executor: str, workers: int, run_dir: str) -> Config:
    if executor == "engines":
        from .executors import EngineExecutor

        return Config(executors=[EngineExecutor(label="engines", engines_per_node=workers)], run_dir=run_dir)
    from .executors import ThreadPoolExecutor

    return Config(executors=[ThreadPoolExecutor(label="threads", max_threads=workers)], run_dir=run_dir)


def run_demo(executor: str, workers: int, chunks: int, numbers: int, run_dir: str) -> int:
    """Run the demo workflow and print a summary table; return an exit code."""
    folder = workdir()
    t0 = time.perf_counter()
    dfk = DataFlowKernelLoader.load(_config(executor, workers, run_dir))
    t_loaded = time.perf_counter() - t0
    try:
        data = generate(numbers, outputs=[File(os.path.join(folder, "numbers.txt"))])
        step = -(-numbers // chunks)
        counts = [count_primes(i * step, (i + 1) * step, inputs=[data.outputs[0]]) for i in range(chunks)]
        primes = total(*counts)
        rep = report(numbers, primes, outputs=[File(os.path.join(folder, "report.txt"))])
        line = read_back(inputs=[rep.outputs[0]]).result()
        wall = time.perf_counter() - t0
        _print_summary(dfk, executor, workers, t_loaded, wall, line, primes.result())
        _save_pictures(dfk)
    finally:
        DataFlowKernelLoader.clear()
    return 0


def _save_pictures(dfk: Any) -> None:
    """Write the DAG and the timeline as PNG files into the run directory."""
    from . import plot

    paths = []
    try:
        for name, draw in (("dag", plot.dag), ("timeline", plot.timeline)):
            path = os.path.join(dfk.run_dir, f"{name}.png")
            draw(dfk).savefig(path, dpi=100)
            paths.append(path)
    except ImportError:  # a broken or trimmed install; the workflow itself ran
        print("(matplotlib is not importable, so dag.png and timeline.png were not written)")
        return
    print("pictures: " + ", ".join(paths))


def _print_summary(dfk: Any, executor: str, workers: int, t_loaded: float, wall: float,
                   line: str, primes: int) -> None:
    rows: dict[str, list[Any]] = {}
    states: dict[str, Counter[str]] = {}
    for rec in dfk.tasks.values():
        if rec.executor.startswith("_parsl"):
            continue
        row = rows.setdefault(rec.app_name, [rec.app_name, 0, "", 0.0])
        row[1] += 1
        states.setdefault(rec.app_name, Counter())[rec.status.label] += 1
        if rec.time_returned is not None:
            row[3] += rec.time_returned - rec.time_invoked
    table = []
    for app, row in rows.items():
        row[2] = ", ".join(f"{k} {v}" for k, v in sorted(states[app].items()))
        table.append([row[0], row[1], row[2], f"{row[3] / row[1]:.3f}"])
    print(f"parsl_nb demo on {executor} ({workers} workers), run dir {dfk.run_dir}")
    print(format_table(table, ["app", "tasks", "states", "mean s (submit->done)"]))
    print(f"\nresult: {line}  (total primes {primes})")
    print(f"kernel ready in {t_loaded:.2f} s; whole workflow {wall:.2f} s")
