"""The ``parsl-nb`` command: ``demo`` runs a small real workflow; ``runs`` and ``show`` read past runs."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``parsl-nb`` command."""
    parser = argparse.ArgumentParser(prog="parsl-nb", description="parsl_nb command-line tools")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="run a small workflow (bash + python apps, files, fan-out, reduce)")
    demo.add_argument("--executor", choices=("engines", "threads"), default=_default_executor(),
                      help="where tasks run (default: local ipyparallel engines when available)")
    demo.add_argument("--workers", type=int, default=2, help="threads or engines to use (default 2)")
    demo.add_argument("--chunks", type=int, default=8, help="width of the fan-out (default 8)")
    demo.add_argument("--numbers", type=int, default=200_000, help="size of the generated data (default 200000)")
    demo.add_argument("--run-dir", default="runinfo", help="where run directories are made (default runinfo)")
    _add_run_commands(sub)
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return 0
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(args.executor, args.workers, args.chunks, args.numbers, args.run_dir)
    if args.command in ("runs", "show"):
        return _run_command(args)
    parser.print_help()
    return 2


def _add_run_commands(sub: Any) -> None:
    runs = sub.add_parser("runs", help="list the runs under a run directory (from their monitoring stores)")
    runs.add_argument("dir", nargs="?", default="runinfo", help="the run directory (default runinfo)")
    show = sub.add_parser("show", help="summarise one run: apps, states, try times, failures")
    show.add_argument("run", help="a run directory, a run number (3 or 003) or a run id prefix")
    show.add_argument("--run-dir", default="runinfo", help="where numbered runs are found (default runinfo)")
    show.add_argument("--failures", type=int, default=10, help="failed tries to list (default 10)")


def _run_command(args: argparse.Namespace) -> int:
    from .monitoring.report import find_run, format_run, format_runs

    if args.command == "runs":
        print(format_runs(args.dir))
        return 0
    try:
        run = find_run(args.run, args.run_dir)
    except LookupError as e:
        print(f"parsl-nb show: {e}", file=sys.stderr)
        return 1
    print(format_run(run, args.failures))
    return 0


def _default_executor() -> str:
    try:
        from .executors import engines  # noqa: F401
    except ImportError:
        return "threads"
    return "engines"


def format_table(rows: list[list[Any]], header: list[str]) -> str:
    """A plain-text table with aligned columns."""
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def workdir() -> str:
    """A fresh folder for the demo's data files."""
    return tempfile.mkdtemp(prefix="parsl-nb-demo-")


def elapsed(t0: float) -> str:
    """Seconds since ``t0``, for printing."""
    return f"{time.perf_counter() - t0:.2f} s"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

