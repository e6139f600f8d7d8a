"""Engines in real batch jobs: EngineExecutor on the single-host Slurm and Grid Engine.

Blocks are real ``sbatch`` / ``qsub`` jobs on the emulated nodes; their engines connect
back to the kernel's controller over loopback. Each test reads like a notebook session:
load a kernel, run a small workflow, look at the queue, clean up, look at the queue again.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

import parsl_nb as parsl
from parsl_nb.executors import EngineExecutor
from parsl_nb.jupyter import control, reprs
from parsl_nb.launchers import SrunLauncher
from parsl_nb.providers.base import ExecutionProvider, JobState
from parsl_nb.providers.gridengine import GridEngineProvider
from parsl_nb.providers.slurm import SlurmProvider
from tests.cluster_fixtures import Cluster
from tests.conftest import wait_until

Loader = Callable[..., tuple[Any, EngineExecutor]]


# most conditions here ask the scheduler (squeue, qstat): poll every 0.1 s
wait_for = functools.partial(wait_until, interval=0.1)


@pytest.fixture
def load(tmp_path: Path) -> Iterator[Loader]:
    """Load a kernel on an EngineExecutor over ``provider``; clean it up after the test."""
    loaded: list[Any] = []

    def _load(provider: ExecutionProvider, retries: int = 0, **kw: Any) -> tuple[Any, EngineExecutor]:
        ex = EngineExecutor(provider=provider, strategy_period=0.5, **kw)
        dfk = parsl.load(parsl.Config(executors=[ex], run_dir=str(tmp_path / "runinfo"), retries=retries))
        loaded.append(dfk)
        return dfk, ex

    yield _load
    for dfk in loaded:
        dfk.cleanup()


def our_jobs(cluster: Cluster, ex: EngineExecutor) -> set[str]:
    """Jobs of this executor's blocks that the scheduler still lists as queued or running."""
    return {b.job_id for b in ex.blocks if b.job_id} & cluster.active_jobs()


def slurm_states(job_ids: set[str]) -> dict[str, str]:
    out = subprocess.run(["squeue", "-h", "-o", "%i %T", "-j", ",".join(sorted(job_ids))],
                         capture_output=True, text=True, check=False).stdout
    return dict(line.split() for line in out.splitlines() if line.strip())


def running_task_block(dfk: Any) -> str | None:
    """The block of some task that has started on an engine, if any."""
    return next((r.block for r in list(dfk.tasks.values()) if r.status.label == "running" and r.block), None)


@parsl.python_app
def where(seconds: float) -> dict[str, str]:
    import os
    import sys
    import time

    import parsl_nb

    time.sleep(seconds)
    env = os.environ
    return {"job": env.get("SLURM_JOB_ID") or env.get("JOB_ID", ""), "node": env.get("SLURMD_NODENAME", ""),
            "python": sys.executable, "parsl_nb": parsl_nb.__file__}


def engine_nodes(ex: EngineExecutor) -> set[tuple[str, str]]:
    """(block, Slurm node) of each connected engine, read from the engine's environment.

    All emulated nodes are this host, so the engine's process is visible here.
    """
    found = set()
    for eng in list(ex._dispatch.engines.values()) if ex._dispatch is not None else []:
        try:
            found.add((eng.block, psutil.Process(eng.pid).environ().get("SLURMD_NODENAME", "")))
        except psutil.Error:
            pass
    return found


# -- Slurm ------------------------------------------------------------------------------------

@pytest.mark.slurm
def test_slurm_blocks_scale_out_across_two_nodes_with_srun_then_in(slurm_cluster: Cluster, load: Loader) -> None:
    provider = SlurmProvider(partition="debug", nodes_per_block=2, launcher=SrunLauncher(), exclusive=False,
                             init_blocks=0, max_blocks=2, walltime="00:05:00")
    dfk, ex = load(provider, engines_per_node=1, max_idletime=3.0)
    assert ex.blocks == []  # nothing submitted until there is work

    futures = [where(1.0) for _ in range(12)]
    jobs = wait_for(lambda: len(our_jobs(slurm_cluster, ex)) == 2 and our_jobs(slurm_cluster, ex), 30,
                    "two blocks in squeue")
    seen: set[tuple[str, str]] = set()
    wait_for(lambda: seen.update(engine_nodes(ex)) or len(seen) == 4, 45, "four engines: two nodes per block")
    results = [f.result(timeout=60) for f in futures]

    assert {b for b, _ in seen} == {b.block_id for b in ex.blocks}
    assert all(len({n for b, n in seen if b == block.block_id}) == 2 for block in ex.blocks)  # srun: one per node
    assert {r["job"] for r in results} <= jobs and {r["node"] for r in results} <= {"c1", "c2", "c3", "c4"}
    assert {(r["python"], r["parsl_nb"]) for r in results} == {(sys.executable, parsl.__file__)}

    # idle for max_idletime: the strategy cancels both blocks while the kernel stays loaded
    wait_for(lambda: not our_jobs(slurm_cluster, ex), 30, "idle blocks to leave squeue")
    assert [b.state for b in ex.blocks] == [JobState.CANCELLED] * 2
    assert where(0.0).result(timeout=60)["job"] not in jobs  # and scales out again on demand
    dfk.cleanup()
    wait_for(lambda: not our_jobs(slurm_cluster, ex), 15, "no job of ours in squeue after cleanup")


@pytest.mark.slurm
def test_slurm_scancel_of_a_block_mid_run_retries_its_tasks_on_a_replacement(slurm_cluster: Cluster,
                                                                              load: Loader) -> None:
    provider = SlurmProvider(partition="debug", exclusive=False, init_blocks=1, max_blocks=1, walltime="00:05:00")
    dfk, ex = load(provider, retries=2, engines_per_node=2, max_idletime=60.0)
    futures = [where(2.0) for _ in range(6)]
    wait_for(lambda: running_task_block(dfk), 45, "a task running on the first block")
    first = ex.blocks[0].job_id
    assert first is not None and slurm_states({first}) == {first: "RUNNING"}

    subprocess.run(["scancel", first], check=True)  # as an admin or a preemption would
    results = [f.result(timeout=60) for f in futures]

    retried = [r for r in dfk.tasks.values() if r.try_id > 0]
    assert retried and all("lost" in r.fail_history[0] for r in retried)
    assert {r["job"] for r in results} - {first}  # the replacement block ran work
    old, new = ex.blocks[0], ex.blocks[-1]
    assert old.job_id == first and old.state.terminal and new.state is JobState.RUNNING
    assert slurm_states({new.job_id or ""}) == {new.job_id: "RUNNING"}

    # %parsl_status and the kernel's repr name both jobs and their states
    for text in (str(control.status(dfk)), reprs.kernel_text(dfk)):
        assert f"job {first}" in text and f"job {new.job_id}" in text and "running" in text, text
    dfk.cleanup()
    wait_for(lambda: not our_jobs(slurm_cluster, ex), 15, "no job of ours in squeue after cleanup")


# -- Grid Engine ------------------------------------------------------------------------------

@pytest.mark.gridengine
def test_gridengine_blocks_scale_out_then_in(gridengine_cluster: Cluster, load: Loader) -> None:
    provider = GridEngineProvider(queue="all.q", init_blocks=0, max_blocks=2, walltime="00:05:00")
    dfk, ex = load(provider, engines_per_node=1, max_idletime=3.0)

    futures = [where(1.0) for _ in range(8)]
    jobs = wait_for(lambda: len(our_jobs(gridengine_cluster, ex)) == 2 and our_jobs(gridengine_cluster, ex), 30,
                    "two blocks in qstat")
    wait_for(lambda: all(b.engines == 1 for b in ex.blocks), 45, "an engine connected in each block")
    results = [f.result(timeout=60) for f in futures]
    assert {r["job"] for r in results} <= jobs
    assert {(r["python"], r["parsl_nb"]) for r in results} == {(sys.executable, parsl.__file__)}

    wait_for(lambda: not our_jobs(gridengine_cluster, ex), 30, "idle blocks to leave qstat")
    assert [b.state for b in ex.blocks] == [JobState.CANCELLED] * 2
    dfk.cleanup()


@pytest.mark.gridengine
def test_gridengine_qdel_of_a_block_mid_run_retries_its_tasks_on_a_replacement(gridengine_cluster: Cluster,
                                                                                load: Loader) -> None:
    provider = GridEngineProvider(queue="all.q", init_blocks=1, max_blocks=1, walltime="00:05:00")
    dfk, ex = load(provider, retries=2, engines_per_node=2, max_idletime=60.0)
    futures = [where(2.0) for _ in range(6)]
    wait_for(lambda: running_task_block(dfk), 45, "a task running on the first block")
    first = ex.blocks[0].job_id
    assert first in our_jobs(gridengine_cluster, ex)

    subprocess.run(["qdel", first], check=True, capture_output=True)
    results = [f.result(timeout=60) for f in futures]

    retried = [r for r in dfk.tasks.values() if r.try_id > 0]
    assert retried and {r["job"] for r in results} - {first}
    # plain qstat forgets a deleted job at once: it ended, cancelled or completed is all qstat can say
    assert ex.blocks[0].state.terminal and ex.blocks[-1].state is JobState.RUNNING
    text = str(control.status(dfk))
    assert f"job {first}" in text and f"job {ex.blocks[-1].job_id}" in text, text
    dfk.cleanup()
    wait_for(lambda: not our_jobs(gridengine_cluster, ex), 15, "no job of ours in qstat after cleanup")

