"""Fixtures for tests that need a real batch scheduler: ``slurm_cluster``, ``gridengine_cluster``.

Use them from a conftest (``from tests.cluster_fixtures import *``) or load the module as
a plugin (``pytest_plugins = ["tests.cluster_fixtures"]`` in the root conftest).

The session fixtures start the single-host clusters of ``tests/clusters/`` when they
are installed but stopped. They install packages only when ``CI=true`` or
``PARSL_NB_INSTALL_CLUSTERS=1``: a developer's laptop is never changed behind their
back. Where a cluster cannot run the tests skip, except under ``CI=true``, where a
missing cluster is a failure: CI must never pass by skipping the real schedulers.

The function fixtures also check that a test leaves no job of its own queued or
running: such jobs are cancelled and the test fails, naming them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["Cluster", "gridengine_cluster", "gridengine_session", "slurm_cluster", "slurm_session"]

CLUSTERS_DIR = Path(__file__).resolve().parent / "clusters"
START_TIMEOUT = 180.0
LEFTOVER_GRACE = 15.0


@dataclass(frozen=True, slots=True)
class Cluster:
    """A running test cluster and how to look at its queue."""

    name: str
    queue: str
    nodes: tuple[str, ...]
    active_jobs: Callable[[], set[str]]
    cancel: Callable[[set[str]], None]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def unavailable(reason: str) -> None:
    """Skip on a laptop; fail under CI=true, where the cluster must exist."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the cluster tests must run here; see tests/clusters/README.md)",
                    pytrace=False)
    pytest.skip(reason)


def run(args: list[str], timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def ensure_running(name: str, client: str) -> None:
    """Start tests/clusters/<name>.sh if needed; skip or fail when that is not possible."""
    script = str(CLUSTERS_DIR / f"{name}.sh")
    if run([script, "status"]).returncode == 0:
        return
    may_install = in_ci() or os.environ.get("PARSL_NB_INSTALL_CLUSTERS") == "1"
    if shutil.which(client) is None and not may_install:
        unavailable(f"{name} is not installed; run `sudo {script} start` or set PARSL_NB_INSTALL_CLUSTERS=1")
    if os.geteuid() != 0:
        unavailable(f"{name} is not running and starting it needs root; run `sudo {script} start`")
    try:
        done = run([script, "start"], timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        unavailable(f"`{script} start` took more than {START_TIMEOUT:.0f} s")
        return
    if done.returncode != 0:
        unavailable(f"`{script} start` failed (exit {done.returncode}):\n{done.stderr[-2000:]}")


def slurm_active_jobs() -> set[str]:
    """Ids of jobs that are pending, running or completing."""
    out = run(["squeue", "-h", "-o", "%i"]).stdout
    return set(out.split())


def gridengine_active_jobs() -> set[str]:
    out = run(["qstat", "-u", "*"]).stdout.splitlines()[2:]
    return {line.split()[0] for line in out if line.strip()}


def slurm_cancel(ids: set[str]) -> None:
    if ids:
        run(["scancel", *sorted(ids)])


def gridengine_cancel(ids: set[str]) -> None:
    if ids:
        run(["qdel", "-f", *sorted(ids)])


def slurm_nodes() -> tuple[str, ...]:
    return tuple(run(["sinfo", "-h", "-N", "-p", "debug", "-o", "%N"]).stdout.split())


@pytest.fixture(scope="session")
def slurm_session() -> Cluster:
    """The test Slurm, started once per session (partition ``debug``, nodes c1..c4)."""
    ensure_running("slurm", "sbatch")
    return Cluster("slurm", "debug", slurm_nodes(), slurm_active_jobs, slurm_cancel)


@pytest.fixture(scope="session")
def gridengine_session() -> Cluster:
    """The test Grid Engine, started once per session (queue ``all.q``)."""
    ensure_running("gridengine", "qsub")
    host = run(["hostname", "-s"]).stdout.strip()
    return Cluster("gridengine", "all.q", (host,), gridengine_active_jobs, gridengine_cancel)


def no_leftover_jobs(cluster: Cluster) -> Iterator[Cluster]:
    """Yield the cluster; afterwards fail if the test left its own jobs behind."""
    before = cluster.active_jobs()
    yield cluster
    deadline = time.monotonic() + LEFTOVER_GRACE
    left = cluster.active_jobs() - before
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = cluster.active_jobs() - before
    if left:
        cluster.cancel(left)
        pytest.fail(f"the test left {cluster.name} jobs {sorted(left)} queued or running "
                    f"{LEFTOVER_GRACE:.0f} s after it ended; they are now cancelled", pytrace=False)


@pytest.fixture
def slurm_cluster(slurm_session: Cluster) -> Iterator[Cluster]:
    """A running Slurm; the test must leave none of its jobs behind."""
    yield from no_leftover_jobs(slurm_session)


@pytest.fixture
def gridengine_cluster(gridengine_session: Cluster) -> Iterator[Cluster]:
    """A running Grid Engine; the test must leave none of its jobs behind."""
    yield from no_leftover_jobs(gridengine_session)
