"""Project-wide pytest hook: in CI a skipped test is a failure.

A test that needs Slurm, Chromium, rsync or a package may skip on a laptop, but
under ``CI=true`` a missing piece must fail the run, never hide as a skip. A
skip whose reason starts with ``not applicable:`` (the test does not apply to
this parametrisation or platform) stays a skip.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

ALLOWED_PREFIX = "not applicable:"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    """Turn a skip into a failure when running in CI (see the module docstring)."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() not in ("true", "1") or not report.skipped:
        return
    if hasattr(report, "wasxfail"):
        return
    reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if reason.removeprefix("Skipped: ").startswith(ALLOWED_PREFIX):
        return
    report.outcome = "failed"
    report.longrepr = f"skipped in CI, which counts as a failure: {reason}"
