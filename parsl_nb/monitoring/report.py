"""Terminal summaries of past runs, for ``parsl-nb runs`` and ``parsl-nb show``."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .reader import Run, runs

__all__ = ["find_run", "format_run", "format_runs"]


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "-"


def _secs(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"


def _duration(run: Run) -> str:
    if run.time_began is None:
        return "-"
    if run.time_completed is None:
        return "not finished"
    return _secs(run.time_completed - run.time_began)


def format_runs(run_dir: str | os.PathLike[str] = "runinfo") -> str:
    """One line per run under ``run_dir``: name, start, duration and task counts."""
    from ..cli import format_table

    found = runs(run_dir)
    if not found:
        return f"no runs with a monitoring database under {os.path.abspath(run_dir)}"
    rows = []
    for run in found:
        i = run.info
        rows.append([run.path.name, run.name, _when(run.time_began), _duration(run), i.get("tasks_total", 0),
                     i.get("tasks_completed", 0), i.get("tasks_memo", 0), i.get("tasks_failed", 0),
                     i.get("tasks_dep_fail", 0), run.run_id[:8]])
    header = ["run", "name", "started", "duration", "tasks", "done", "memo", "failed", "dep_fail", "run id"]
    return format_table(rows, header)


def find_run(spec: str, run_dir: str | os.PathLike[str] = "runinfo") -> Run:
    """The run named by ``spec``: a run directory, a run number (``3``, ``003``) or a run id prefix.

    Raises
    ------
    LookupError
        If no run matches, or a run id prefix matches several.
    """
    p = Path(spec)
    if (p / "monitoring.db").is_file() or (p.suffix == ".db" and p.is_file()):
        return Run(p)
    base = Path(run_dir)
    if spec.isdigit():
        for name in (spec, f"{int(spec):03d}"):
            if (base / name / "monitoring.db").is_file():
                return Run(base / name)
    matches = [r for r in runs(run_dir) if r.run_id.startswith(spec)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise LookupError(f"run id prefix {spec!r} matches {len(matches)} runs; give more characters")
    raise LookupError(f"no run {spec!r}: not a run directory, nor a run number or run id under {base.resolve()}; "
                      f"`parsl-nb runs {run_dir}` lists them")


def format_run(run: Run, failures: int = 10) -> str:
    """A run's header, its per-app table and its first ``failures`` failed tries."""
    from ..cli import format_table

    i = run.info
    lines = [
        f"run {run.path}  ({run.name}, id {run.run_id})",
        f"user {run.user} on {run.host}; started {_when(run.time_began)}; duration {_duration(run)}",
        f"tasks {i.get('tasks_total', 0)}: done {i.get('tasks_completed', 0)}, memo {i.get('tasks_memo', 0)}, "
        f"failed {i.get('tasks_failed', 0)}, dep_fail {i.get('tasks_dep_fail', 0)}, "
        f"cancelled {i.get('tasks_cancelled', 0)}",
        "",
    ]
    summary = run.summary()
    if summary:
        rows = [[s.app, s.tasks, " ".join(f"{k.lower()} {v}" for k, v in sorted(s.states.items())), s.tries,
                 _secs(s.mean_duration), _secs(s.max_duration)] for s in summary]
        lines.append(format_table(rows, ["app", "tasks", "states", "tries", "mean try", "max try"]))
    failed = _failed_tries(run, failures)
    if failed:
        lines += ["", "failed tries:"]
        lines += [f"  task {tid} try {try_id}: {exc}" for tid, try_id, exc in failed]
    return "\n".join(lines)


def _failed_tries(run: Run, limit: int) -> list[tuple[int, int, str]]:
    rows = run._query("SELECT task_id, try_id, exception FROM try WHERE exception IS NOT NULL "
                      "ORDER BY task_id, try_id LIMIT ?", (limit,))
    return [(int(t), int(y), str(e)) for t, y, e in rows]
