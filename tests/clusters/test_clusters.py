"""The test clusters themselves: scripts are idempotent, jobs really run, CI never skips."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.cluster_fixtures import CLUSTERS_DIR, Cluster, unavailable


def wait_for_file(path: Path, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text()
        time.sleep(0.1)
    pytest.fail(f"{path} not written within {timeout} s")


@pytest.mark.slurm
def test_sbatch_job_runs_on_an_emulated_node(slurm_cluster: Cluster, tmp_path: Path) -> None:
    assert slurm_cluster.nodes == ("c1", "c2", "c3", "c4")
    out = tmp_path / "job.out"
    subprocess.run(["sbatch", "-o", str(out), "--wrap", "echo node=$SLURMD_NODENAME"], check=True, capture_output=True)
    assert wait_for_file(out).startswith("node=c")


@pytest.mark.slurm
def test_srun_spans_two_emulated_nodes(slurm_cluster: Cluster, tmp_path: Path) -> None:
    out = tmp_path / "job.out"
    subprocess.run(["sbatch", "-N2", "-o", str(out), "--wrap", "srun -N2 printenv SLURMD_NODENAME"],
                   check=True, capture_output=True)
    deadline = time.monotonic() + 30
    while len(out.read_text().split() if out.exists() else []) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(set(out.read_text().split())) == 2


@pytest.mark.gridengine
def test_qsub_job_runs(gridengine_cluster: Cluster, tmp_path: Path) -> None:
    out, job = tmp_path / "job.out", tmp_path / "job.sh"
    job.write_text("#!/bin/bash\necho job=$JOB_ID\n")
    subprocess.run(["qsub", "-terse", "-j", "y", "-o", str(out), str(job)], check=True, capture_output=True)
    assert wait_for_file(out).startswith("job=")


@pytest.mark.slurm
@pytest.mark.parametrize("name", ["slurm", "gridengine"])
def test_start_on_a_running_cluster_leaves_it_running(name: str, slurm_session: Cluster,
                                                     gridengine_session: Cluster) -> None:
    # idempotent: the daemons already up are kept, not restarted (jobs queued on them survive)
    daemons = {"slurm": ("slurmctld", "slurmd"), "gridengine": ("sge_qmaster", "sge_execd")}[name]

    def pids() -> dict[str, list[str]]:
        return {d: sorted(subprocess.run(["pgrep", "-x", d], capture_output=True, text=True).stdout.split())
                for d in daemons}

    before = pids()
    assert all(before.values()), f"the {name} daemons are not running: {before}"
    subprocess.run([str(CLUSTERS_DIR / f"{name}.sh"), "start"], check=True, capture_output=True, timeout=60)
    assert pids() == before


def test_missing_cluster_skips_on_a_laptop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        unavailable("no slurm here")


def test_missing_cluster_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        unavailable("no slurm here")
