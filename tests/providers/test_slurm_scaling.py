"""The 'simple' strategy on the real Slurm: blocks nobody needs leave the queue.

A notebook session asks for more blocks than can start; the work finishes on the
block that did start, and the one still queued is cancelled (gone from ``squeue``)
instead of starting later and burning allocation for nothing.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import parsl_nb as parsl
from parsl_nb.executors import EngineExecutor
from parsl_nb.jupyter import control
from parsl_nb.providers.base import JobState
from parsl_nb.providers.slurm import SlurmProvider
from tests.cluster_fixtures import Cluster

MAX_IDLETIME = 2.0
STRATEGY_PERIOD = 0.5


def wait_for(cond: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def squeue(*job_ids: str, all_states: bool = False) -> dict[str, str]:
    """``squeue -j`` as a user reads it: job id -> state (``--states=all`` keeps ended jobs)."""
    args = ["squeue", "-h", "-o", "%i %T", "-j", ",".join(job_ids), *(["--states=all"] if all_states else [])]
    out = subprocess.run(args, capture_output=True, text=True, check=False).stdout
    return dict(line.split() for line in out.splitlines() if line.strip())


@parsl.python_app
def job_of_task(seconds: float) -> str:
    import os
    import time

    time.sleep(seconds)
    return os.environ.get("SLURM_JOB_ID", "")


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Callable[..., tuple[Any, EngineExecutor]]]:
    loaded: list[Any] = []

    def _load(provider: SlurmProvider, **kw: Any) -> tuple[Any, EngineExecutor]:
        ex = EngineExecutor(provider=provider, strategy_period=STRATEGY_PERIOD, max_idletime=MAX_IDLETIME, **kw)
        dfk = parsl.load(parsl.Config(executors=[ex], run_dir=str(tmp_path / "runinfo")))
        loaded.append(dfk)
        return dfk, ex

    yield _load
    for dfk in loaded:
        dfk.cleanup()


@pytest.mark.slurm
def test_slurm_block_still_queued_once_the_work_is_taken_is_cancelled(slurm_cluster: Cluster, kernel: Any) -> None:
    # partition short is one node (c1) and blocks are exclusive: the second block cannot start
    # while the first runs, so Slurm keeps it PENDING (Resources) for as long as it is wanted
    provider = SlurmProvider(partition="short", exclusive=True, init_blocks=1, min_blocks=1, max_blocks=2,
                             walltime="00:05:00")
    dfk, ex = kernel(provider, engines_per_node=1)
    futures = [job_of_task(1.0) for _ in range(6)]  # more than one engine takes at once: ask for a second block
    wait_for(lambda: len(ex.blocks) == 2, 30, "the strategy to submit a second block")
    first, second = (b.job_id or "" for b in ex.blocks)
    wait_for(lambda: squeue(first, second) == {first: "RUNNING", second: "PENDING"}, 30,
             "the first block running and the second queued behind it")

    assert {f.result(timeout=60) for f in futures} == {first}  # all the work ran on the block that started

    # nothing waits for an engine any more: the queued block goes after max_idletime,
    # and min_blocks=1 keeps the running one
    wait_for(lambda: second not in slurm_cluster.active_jobs(), MAX_IDLETIME + 10 * STRATEGY_PERIOD + 5,
             "the queued block to leave squeue")
    assert squeue(first, second) == {first: "RUNNING"}
    assert squeue(second, all_states=True) == {second: "CANCELLED"}
    assert [b.state for b in ex.blocks] == [JobState.RUNNING, JobState.CANCELLED]
    text = str(control.status(dfk))
    assert f"job {first}): running" in text and f"job {second}): cancelled" in text, text

    dfk.cleanup()
    wait_for(lambda: not ({first, second} & slurm_cluster.active_jobs()), 15, "no job of ours in squeue after cleanup")
