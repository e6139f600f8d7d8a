"""Run the same workloads on several workflow systems, side by side, in one invocation.

Each (system, round) runs in a fresh subprocess with the interpreter that system
needs: the current one for parsl_nb and the concurrent.futures floors, the
peers' venv (``--peer-python``, made by ``setup_peers.sh``) for Parsl, Dask and
ipyparallel. Rounds are interleaved (round 1 of every system, then round 2, ...)
with the system order rotated, so drift on a shared machine spreads evenly.

Examples
--------
    python benchmarks/run.py                                  # core systems, JSON to stdout
    python benchmarks/run.py --repeats 5 --json out.json --markdown out.md
    python benchmarks/run.py --systems all --workloads all --peer-python /path/to/venv/bin/python
    python benchmarks/run.py --scale 0.02 --repeats 1         # smoke test
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from report import markdown
from systems import REGISTRY
from workloads import WORKLOADS

HERE = Path(__file__).resolve().parent
CORE_SYSTEMS = ["parsl_nb-threads", "parsl-threads", "cf-threads"]
CORE_WORKLOADS = ["noop", "latency", "chain", "fanout"]


@dataclass(frozen=True)
class Goal:
    """``system`` must reach ``target`` on ``metric``.

    With a ``baseline`` the target is a speed-up over it (oriented so that
    bigger is better); without, it is a bound on the system's own value.
    """

    source: str
    system: str
    workload: str
    metric: str
    target: float
    baseline: str | None = None

    def evaluate(self, summary: dict[str, Any]) -> dict[str, Any] | None:
        own = _median(summary, self.system, self.workload, self.metric)
        if own is None:
            return None
        row: dict[str, Any] = {**self.__dict__, "value": own}
        lower_is_better = METRIC_LOWER_IS_BETTER.get(self.metric, False)
        if self.baseline is None:
            row["met"] = own <= self.target if lower_is_better else own >= self.target
            return row
        base = _median(summary, self.baseline, self.workload, self.metric)
        if base is None:
            return None
        ratio = base / own if lower_is_better else own / base
        row.update(baseline_value=base, ratio=ratio, met=ratio >= self.target)
        return row


METRIC_LOWER_IS_BETTER = {"p50_ms": True, "p99_ms": True, "ms_per_hop": True, "s": True,
                          "mb_per_10k_tasks": True}

GOALS = [
    # issue 2: parsl_nb threads (logging on as shipped) against Parsl's default thread pool
    Goal("issue 2", "parsl_nb-threads", "noop", "tasks_per_s", 7.0, "parsl-threads"),
    Goal("issue 2", "parsl_nb-threads", "fanout", "tasks_per_s", 7.0, "parsl-threads"),
    Goal("issue 2", "parsl_nb-threads", "chain", "ms_per_hop", 3.0, "parsl-threads"),
    # issue 3: parsl_nb engines against Parsl HTEX and the process pool
    Goal("issue 3", "parsl_nb-engines", "noop", "tasks_per_s", 5.0, "parsl-htex"),
    Goal("issue 3", "parsl_nb-engines", "noop", "tasks_per_s", 0.5, "processpool"),
    Goal("issue 3", "parsl_nb-engines", "chain", "ms_per_hop", 2.5, "parsl-htex"),
    Goal("issue 3", "parsl_nb-engines", "fanout", "tasks_per_s", 3.0, "parsl-htex"),
    Goal("issue 3", "parsl_nb-engines", "latency", "p50_ms", 1.0, "parsl-htex"),
    Goal("issue 3", "parsl_nb-engines", "startup", "s", 2.0, "parsl-htex"),
    Goal("issue 3", "parsl_nb-engines", "sleep", "efficiency", 0.95),
    Goal("issue 3", "parsl_nb-engines", "memory", "mb_per_10k_tasks", 20.0),
]


def _median(summary: dict[str, Any], system: str, workload: str, metric: str) -> float | None:
    try:
        return float(summary[system][workload][metric]["median"])
    except (KeyError, TypeError):
        return None


# ------------------------------------------------------------------ running
def interpreter_for(system: str, peer_python: str | None) -> str | None:
    env = REGISTRY[system].env
    return sys.executable if env == "self" else peer_python


def check_available(system: str, python: str | None) -> str | None:
    """None if ``system`` can run with ``python``, else why not."""
    if python is None:
        return "needs --peer-python (make one with benchmarks/setup_peers.sh)"
    mods = ", ".join(REGISTRY[system].requires) or "sys"
    probe = subprocess.run([python, "-c", f"import {mods}"], capture_output=True, text=True)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return f"{python} cannot import {mods}: {last}"
    return None


def run_one(system: str, python: str, workloads: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """One fresh process: start ``system``, run ``workloads``, return its JSON."""
    workdir = tempfile.mkdtemp(prefix=f"bench-{system}-")
    out = os.path.join(workdir, "result.json")
    cmd = [python, str(HERE / "worker.py"), "--system", system, "--workloads", ",".join(workloads),
           "--workers", str(args.workers), "--scale", str(args.scale), "--out", out]
    load_before = os.getloadavg()[0]
    # As an activated venv would: Parsl's HTEX finds interchange.py and process_worker_pool.py on PATH.
    env = {**os.environ, "PATH": os.path.dirname(python) + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        stderr = f"timed out after {args.timeout} s"
    finally:
        _kill_group(proc)
    try:
        with open(out) as f:
            result: dict[str, Any] = json.load(f)
    except (OSError, ValueError):
        result = {"system": system, "error": (stderr or "")[-3000:] or f"exit code {proc.returncode}"}
    result["load_avg_before"] = load_before
    if not args.keep_workdirs:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        result["workdir"] = workdir
    return result


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """End whatever the worker left behind in its own session (its process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def run_all(systems: list[str], workloads: list[str], args: argparse.Namespace) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
    skipped: dict[str, str] = {}
    pythons: dict[str, str] = {}
    for s in systems:
        python = interpreter_for(s, args.peer_python)
        why = check_available(s, python)
        if why is not None:
            skipped[s] = why
            _say(f"skip {s}: {why}")
        else:
            assert python is not None
            pythons[s] = python
    active = [s for s in systems if s not in skipped]
    for r in range(args.repeats):
        order = active[r % len(active):] + active[:r % len(active)] if active else []
        for s in order:
            t0 = time.perf_counter()
            result = run_one(s, pythons[s], workloads, args)
            result["round"] = r
            runs[s].append(result)
            status = "ERROR" if "error" in result else "ok"
            _say(f"round {r + 1}/{args.repeats} {s}: {status} in {time.perf_counter() - t0:.1f} s")
            if "error" in result:
                _say(result["error"])
    summary = summarize(runs)
    return {
        "date": args.date,
        "machine": machine_info(pythons),
        "settings": {"workers": args.workers, "repeats": args.repeats, "scale": args.scale,
                     "workloads": workloads, "systems": systems,
                     "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]])},
        "descriptions": {s: REGISTRY[s].description for s in systems},
        "skipped": skipped,
        "summary": summary,
        "per_round_ratios": per_round_ratios(runs),
        "goals": [g for g in (goal.evaluate(summary) for goal in GOALS) if g is not None],
        "runs": runs,
    }


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Median, min and max over rounds of every metric, per system."""
    out: dict[str, Any] = {}
    for system, results in runs.items():
        good = [r for r in results if "error" not in r]
        if not good:
            continue
        per: dict[str, Any] = {"versions": good[0].get("versions", {}),
                               "log_mb": statistics.median(r.get("log_bytes", 0) for r in good) / 2**20}
        for workload in good[0]["metrics"]:
            per[workload] = {}
            for metric in good[0]["metrics"][workload]:
                samples = [r["metrics"][workload][metric] for r in good if workload in r["metrics"]]
                per[workload][metric] = {"median": statistics.median(samples), "min": min(samples),
                                         "max": max(samples), "n": len(samples)}
        out[system] = per
    return out


def per_round_ratios(runs: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """For each baseline-relative goal, the ratio within each round (a spread that cancels drift)."""
    rows = []
    for goal in GOALS:
        if goal.baseline is None or goal.system not in runs or goal.baseline not in runs:
            continue
        ratios = []
        for a, b in zip(runs[goal.system], runs[goal.baseline], strict=False):
            try:
                own = a["metrics"][goal.workload][goal.metric]
                base = b["metrics"][goal.workload][goal.metric]
            except KeyError:
                continue
            ratios.append(base / own if METRIC_LOWER_IS_BETTER.get(goal.metric) else own / base)
        if ratios:
            rows.append({"system": goal.system, "baseline": goal.baseline, "workload": goal.workload,
                         "metric": goal.metric, "ratios": ratios})
    return rows


def machine_info(pythons: dict[str, str]) -> dict[str, Any]:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        pass
    versions = {}
    for python in sorted(set(pythons.values())):
        v = subprocess.run([python, "--version"], capture_output=True, text=True)
        versions[python] = (v.stdout or v.stderr).strip()
    return {"cpus": os.cpu_count(), "cpu_model": cpu, "platform": platform.platform(),
            "pythons": versions, "load_avg_at_end": os.getloadavg()}


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- cli
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--systems", default=",".join(CORE_SYSTEMS),
                   help=f"comma-separated, or 'all'; known: {', '.join(REGISTRY)}")
    p.add_argument("--workloads", default=",".join(CORE_WORKLOADS),
                   help=f"comma-separated, or 'all'; known: {', '.join(WORKLOADS)} (startup is always measured)")
    p.add_argument("--repeats", type=int, default=3, help="fresh-process rounds per system (median reported)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--scale", type=float, default=1.0, help="multiply task counts (0.02 for a smoke test)")
    p.add_argument("--peer-python", default=_default_peer_python(),
                   help="interpreter with parsl/dask/ipyparallel (default: $BENCH_PEER_PYTHON or "
                        "benchmarks/.venv-peers/bin/python)")
    p.add_argument("--json", help="write JSON here instead of stdout")
    p.add_argument("--markdown", help="write the markdown tables here")
    p.add_argument("--timeout", type=float, default=900, help="seconds per benchmark process")
    p.add_argument("--date", default=datetime.date.today().isoformat())
    p.add_argument("--keep-workdirs", action="store_true", help="keep each process's run directory (logs)")
    args = p.parse_args(argv)
    args.systems = list(REGISTRY) if args.systems == "all" else args.systems.split(",")
    args.workloads = list(WORKLOADS) if args.workloads == "all" else args.workloads.split(",")
    unknown = [s for s in args.systems if s not in REGISTRY] + \
              [w for w in args.workloads if w not in WORKLOADS and w != "startup"]
    if unknown:
        p.error(f"unknown systems or workloads: {unknown}; known systems: {list(REGISTRY)}, "
                f"workloads: {list(WORKLOADS)}")
    return args


def _default_peer_python() -> str | None:
    env = os.environ.get("BENCH_PEER_PYTHON")
    if env:
        return env
    local = HERE / ".venv-peers" / "bin" / "python"
    return str(local) if local.exists() else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workloads = [w for w in args.workloads if w != "startup"]
    result = run_all(args.systems, workloads, args)
    text = json.dumps(result, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    else:
        print(text)
    table = markdown(result)
    if args.markdown:
        Path(args.markdown).write_text(table)
    _say(table)
    return 0 if not any("error" in r for rs in result["runs"].values() for r in rs) else 1


if __name__ == "__main__":
    sys.exit(main())
