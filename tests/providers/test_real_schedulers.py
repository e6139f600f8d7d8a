"""Providers against the real single-host Slurm and Grid Engine of tests/clusters/."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from parsl_nb.launchers import SimpleLauncher, SrunLauncher
from parsl_nb.providers.base import JobState
from parsl_nb.providers.commands import SubmitError
from parsl_nb.providers.gridengine import GridEngineProvider
from parsl_nb.providers.slurm import SlurmProvider
from tests.cluster_fixtures import Cluster


def states_until(provider, job_id: str, final: JobState, timeout: float = 30.0) -> list[JobState]:
    seen: list[JobState] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = provider.status([job_id])[0].state
        if not seen or seen[-1] is not state:
            seen.append(state)
        if state is final:
            return seen
        time.sleep(0.2)
    pytest.fail(f"job {job_id} did not reach {final} within {timeout} s; saw {seen}")


def slurm(tmp_path: Path, **kw) -> SlurmProvider:
    kw.setdefault("launcher", SimpleLauncher())
    provider = SlurmProvider(partition="debug", exclusive=False, walltime="00:02:00", **kw)
    provider.script_dir = str(tmp_path)
    return provider


@pytest.mark.slurm
def test_slurm_job_runs_then_completes(slurm_cluster: Cluster, tmp_path: Path) -> None:
    provider = slurm(tmp_path)
    job_id = provider.submit("echo on $SLURMD_NODENAME; sleep 1", 1)
    seen = states_until(provider, job_id, JobState.COMPLETED)
    assert JobState.RUNNING in seen and seen[-1] is JobState.COMPLETED
    status = provider.status([job_id])[0]
    assert Path(status.stdout_path).read_text().startswith("on c")


@pytest.mark.slurm
def test_slurm_cancel_running_job_and_cancel_again(slurm_cluster: Cluster, tmp_path: Path) -> None:
    provider = slurm(tmp_path)
    job_id = provider.submit("sleep 60", 1)
    states_until(provider, job_id, JobState.RUNNING)
    assert provider.cancel([job_id]) == [True]
    assert provider.status([job_id])[0].state is JobState.CANCELLED
    assert provider.cancel([job_id]) == [True]  # already ended: not an error


@pytest.mark.slurm
def test_slurm_status_of_many_jobs_in_one_call(slurm_cluster: Cluster, tmp_path: Path) -> None:
    provider = slurm(tmp_path)
    ids = [provider.submit("sleep 30", 1) for _ in range(3)]
    calls: list[list[str]] = []
    runner = provider.runner

    def counting(args, **kw):
        calls.append(list(args))
        return runner(args, **kw)

    provider.runner = counting
    try:
        deadline = time.monotonic() + 20
        while {s.state for s in provider.status(ids)} != {JobState.RUNNING} and time.monotonic() < deadline:
            time.sleep(0.2)
        assert {s.state for s in provider.status(ids)} == {JobState.RUNNING}
        assert all(c[0] == "squeue" and c[-1] == f"--jobs={','.join(ids)}" for c in calls)
    finally:
        provider.runner = runner
        assert provider.cancel(ids) == [True] * 3


@pytest.mark.slurm
def test_slurm_srun_launcher_spans_nodes(slurm_cluster: Cluster, tmp_path: Path) -> None:
    provider = slurm(tmp_path, nodes_per_block=2, launcher=SrunLauncher())
    job_id = provider.submit("echo rank on $SLURMD_NODENAME", 1)
    states_until(provider, job_id, JobState.COMPLETED)
    out = Path(provider.status([job_id])[0].stdout_path).read_text().split()
    assert len({word for word in out if word.startswith("c")}) == 2


@pytest.mark.slurm
def test_slurm_bad_partition_is_a_submit_error_naming_the_option(slurm_cluster: Cluster, tmp_path: Path) -> None:
    provider = SlurmProvider(partition="nope", launcher=SimpleLauncher())
    provider.script_dir = str(tmp_path)
    with pytest.raises(SubmitError) as info:
        provider.submit("true", 1)
    assert "partition" in info.value.message and "invalid partition" in info.value.stderr.lower()


@pytest.mark.slurm
def test_slurm_unsatisfiable_constraint_is_reported(slurm_cluster: Cluster, tmp_path: Path) -> None:
    provider = slurm(tmp_path, constraint="gpu")
    with pytest.raises(SubmitError, match="constraint"):
        provider.submit("true", 1)


@pytest.mark.gridengine
def test_gridengine_job_runs_then_completes(gridengine_cluster: Cluster, tmp_path: Path) -> None:
    provider = GridEngineProvider(queue="all.q", walltime="00:02:00", launcher=SimpleLauncher())
    provider.script_dir = str(tmp_path)
    job_id = provider.submit("echo job $JOB_ID; sleep 2", 1)
    provider.missing_grace = 2.0
    seen = states_until(provider, job_id, JobState.COMPLETED)
    assert JobState.RUNNING in seen
    assert Path(provider.status([job_id])[0].stdout_path).read_text().strip() == f"job {job_id}"


@pytest.mark.gridengine
def test_gridengine_cancel(gridengine_cluster: Cluster, tmp_path: Path) -> None:
    provider = GridEngineProvider(queue="all.q", launcher=SimpleLauncher())
    provider.script_dir = str(tmp_path)
    job_id = provider.submit("sleep 60", 1)
    states_until(provider, job_id, JobState.RUNNING)
    assert provider.cancel([job_id]) == [True]
    assert provider.status([job_id])[0].state is JobState.CANCELLED
    time.sleep(1)
    assert provider.cancel([job_id]) == [True]  # qdel of a job that is gone: not an error
