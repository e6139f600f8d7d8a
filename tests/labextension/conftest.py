"""Helpers for the lab extension tests: is the built extension installed where Jupyter looks?"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

NAME = "parsl-nb"
BUILD_HINT = ("build it (cd labextension && npm ci && npm run build) and install it (pip install ., or link "
              "labextension/dist to <sys.prefix>/share/jupyter/labextensions/parsl-nb for an editable install)")


def labextension_list(python: str = sys.executable, env: dict[str, str] | None = None) -> str:
    """The output of ``jupyter labextension list`` for ``python``'s environment, without colours."""
    out = subprocess.run([python, "-m", "jupyterlab.labextensions", "list"], capture_output=True, text=True,
                         timeout=120, env=env)
    return re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)


def listed_ok(listing: str, under: str | None = None) -> bool:
    """Whether parsl-nb is listed enabled and OK (in the directory ``under``, if given)."""
    section = ""
    for line in listing.splitlines():
        if line and not line[0].isspace():
            section = line.strip()
        elif re.match(rf"\s+{NAME} v\S+ enabled\s+OK", line) and (under is None or section.startswith(under)):
            return True
    return False


def need_extension() -> None:
    """Skip if the extension is not installed; fail in CI (CI=true), where it must be."""
    listing = labextension_list()
    if listed_ok(listing):
        return
    msg = f"the {NAME} lab extension is not installed and enabled here; {BUILD_HINT}\n{listing}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)
