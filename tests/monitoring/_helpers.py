"""Helpers for the monitoring tests: read a run in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

_READER = """
import dataclasses, json, sys
import parsl_nb
run = parsl_nb.runs(sys.argv[1])[int(sys.argv[2])]
print(json.dumps({
    "info": run.info,
    "finished": run.finished,
    "tasks": [dataclasses.asdict(t) for t in run.tasks()],
    "tries": [dataclasses.asdict(t) for t in run.tries()],
    "states": [dataclasses.asdict(s) for s in run.states()],
    "blocks": [dataclasses.asdict(b) for b in run.blocks()],
}))
"""


def read_run_in_fresh_process(run_dir: str, index: int = -1) -> dict[str, Any]:
    """Everything ``parsl_nb.runs(run_dir)[index]`` gives, read by another Python process."""
    proc = subprocess.run([sys.executable, "-c", _READER, run_dir, str(index)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
