"""Block scripts: readable template files with ``{{name}}`` placeholders, and walltimes.

Templates live in ``parsl_nb/providers/templates/``. A line that holds only a
placeholder which renders empty is dropped, so optional directives leave no gaps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources

__all__ = ["hhmmss", "load_template", "render", "walltime_minutes", "walltime_seconds"]

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
WALLTIME = re.compile(r"^(?:(?P<d>\d+)-)?(?P<h>\d+):(?P<m>\d{1,2}):(?P<s>\d{1,2})$")


def load_template(name: str) -> str:
    """The text of ``templates/<name>``."""
    return resources.files("parsl_nb.providers").joinpath("templates").joinpath(name).read_text()


def render(template: str, values: Mapping[str, object]) -> str:
    """Fill every ``{{name}}`` of ``template``; a missing name is a KeyError naming it."""
    missing = sorted({m.group(1) for m in PLACEHOLDER.finditer(template)} - set(values))
    if missing:
        raise KeyError(f"template needs values for {missing}")
    lines = []
    for line in template.splitlines():
        filled = PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), line)
        if not filled.strip() and PLACEHOLDER.fullmatch(line.strip()):
            continue
        lines.append(filled)
    return "\n".join(lines) + "\n"


def walltime_seconds(walltime: str) -> int:
    """Seconds in ``[D-]HH:MM:SS``; a ValueError says the expected form."""
    match = WALLTIME.match(walltime.strip())
    if not match:
        raise ValueError(f"walltime must look like HH:MM:SS (got {walltime!r}); for example walltime='00:30:00'")
    d, h, m, s = (int(match.group(k) or 0) for k in "dhms")
    if m >= 60 or s >= 60:
        raise ValueError(f"walltime minutes and seconds must be below 60 (got {walltime!r})")
    return ((d * 24 + h) * 60 + m) * 60 + s


def walltime_minutes(walltime: str) -> int:
    """Whole minutes in ``walltime``, rounded up (LSF's ``-W`` and Slurm's minimum unit)."""
    return -(-walltime_seconds(walltime) // 60)


def hhmmss(walltime: str) -> str:
    """``walltime`` normalised to ``HH:MM:SS`` (hours may exceed 24)."""
    total = walltime_seconds(walltime)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
