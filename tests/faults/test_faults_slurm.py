"""Faults and scale on the real single-host Slurm (tests/clusters), and scheduler commands that hang.

Engines in these blocks are real ipyparallel engines, except in the 50-block
test, whose blocks start "cheap engines": the engine-side task loop
(:func:`parsl_nb.executors.engines.worker.serve`) without the ipyparallel
engine around it (0.6 s and 33 MB each instead of 1.6 s and 61 MB), because
this machine has 2 cores. They speak the same signed channel to the kernel,
so blocks, engines, draining and cancelling are the executor's real ones.
The emulated cluster runs at most 8 one-CPU jobs at once; the other blocks
wait in the queue, which is what scaling in must also handle.

The scancel of a block mid-run with real engines (tasks retried on a
replacement block) is tests/providers/test_engines_on_clusters.py.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time

import pytest

import parsl_nb as parsl
from parsl_nb.errors import WorkerLost
from parsl_nb.executors import EngineExecutor
from parsl_nb.launchers import SimpleLauncher
from parsl_nb.providers.base import JobState
from parsl_nb.providers.commands import CommandFailed, SubmitError
from parsl_nb.providers.slurm import SlurmProvider

from .conftest import alive, ours, read_line, wait_until


def _provider(**kw) -> SlurmProvider:
    kw.setdefault("launcher", SimpleLauncher())
    kw.setdefault("init_blocks", 1)
    kw.setdefault("partition", "debug")
    return SlurmProvider(exclusive=False, walltime="00:05:00", **kw)


def _squeue(*job_ids: str) -> set[str]:
    out = subprocess.run(["squeue", "-h", "-o", "%i", "-j", ",".join(job_ids)], capture_output=True, text=True,
                         timeout=30, check=False).stdout
    return set(out.split()) & set(job_ids)


@parsl.python_app
def where(x):
    import os
    return x, os.environ.get("SLURM_JOB_ID")


@parsl.python_app
def nap(seconds):
    import time
    time.sleep(seconds)
    return seconds


# ------------------------------------------------------------------------------ real engines


@pytest.mark.slurm
@pytest.mark.engines
def test_slurm_block_job_killed_mid_task(slurm_cluster, engines_kernel):
    """``scancel --signal=KILL --full``: running task -> WorkerLost, a new block replaces it, work goes on."""
    dfk, ex = engines_kernel(engines_per_node=1, provider=_provider(min_blocks=1, max_blocks=1), strategy="none")
    x, job = where(1).result(timeout=90)
    assert x == 1 and job == ex.blocks[0].job_id
    running = nap(120)
    wait_until(lambda: running.task_status() == "running", 20, "the task to run")
    subprocess.run(["scancel", "--signal=KILL", "--full", job], check=True, timeout=30)
    with pytest.raises(WorkerLost):
        running.result(timeout=30)
    x, job2 = where(2).result(timeout=90)  # on the replacement block
    assert x == 2 and job2 != job
    assert ex.blocks[0].state.terminal
    wait_until(lambda: ex.blocks[-1].state is JobState.RUNNING, 10, "the replacement block to show RUNNING")


KILLED_ON_SLURM = """
import sys, time
import parsl_nb as parsl
from parsl_nb.executors import EngineExecutor
from parsl_nb.launchers import SimpleLauncher
from parsl_nb.providers.slurm import SlurmProvider
p = SlurmProvider(partition="debug", exclusive=False, walltime="00:05:00", launcher=SimpleLauncher(),
                  init_blocks=2, max_blocks=2)
ex = EngineExecutor(provider=p, engines_per_node=1, kernel_timeout=10, strategy="none")
parsl.load(parsl.Config(executors=[ex], run_dir=sys.argv[1]))
@parsl.python_app
def nap(s):
    import time
    time.sleep(s)
    return s
assert nap(0).result(timeout=90) == 0
futs = [nap(60) for _ in range(2)]
print("JOBS", " ".join(b.job_id for b in ex.blocks), flush=True)
time.sleep(600)
"""


@pytest.mark.slurm
@pytest.mark.engines
def test_kernel_sigkilled_leaves_no_slurm_job(slurm_cluster, driver, tmp_path):
    """SIGKILL a kernel with two Slurm blocks busy: its jobs end by themselves within 30 s."""
    marker = str(tmp_path / "slurm-killed-kernel")
    proc = driver(KILLED_ON_SLURM, marker)
    jobs = read_line(proc, "JOBS", timeout=120).split()
    assert len(jobs) == 2 and _squeue(*jobs) == set(jobs)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    wait_until(lambda: not _squeue(*jobs), 30, f"Slurm jobs {jobs} of the killed kernel to end", interval=0.5)
    wait_until(lambda: not ours(marker), 10, "every process of the killed kernel to exit")


@pytest.mark.slurm
def test_option_the_scheduler_rejects(slurm_cluster, tmp_path):
    """A partition Slurm does not have: load() fails naming the option and sbatch's words."""
    ex = EngineExecutor(provider=_provider(partition="no-such-partition"), engines_per_node=1)
    with pytest.raises(SubmitError) as info:
        parsl.load(parsl.Config(executors=[ex], run_dir=str(tmp_path / "ri")))
    msg = str(info.value)
    assert "sbatch" in msg and "no-such-partition" in msg and "check the provider's partition option" in msg, msg
    assert not ours(str(tmp_path / "ri")), "the failed load left processes behind"


# ------------------------------------------------------------------------------ 50 blocks


class CheapEngineExecutor(EngineExecutor):
    """Blocks start the engine task loop alone (see the module docstring)."""

    def _engine_command(self, block: str) -> str:
        assert self.controller is not None and self._dispatch is not None
        code = ("import json, os, sys, time\n"
                "from parsl_nb.executors.engines.worker import serve\n"
                "deadline = time.monotonic() + 60\n"  # the controller writes the file once it is up
                "while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:\n"
                "    time.sleep(0.1)\n"
                "key = json.load(open(sys.argv[1]))['key'].encode()\n"  # never on the command line
                "serve(os.environ['PARSL_NB_CHANNEL'], key, 'cheap-' + os.environ['PARSL_NB_BLOCK'])\n")
        env = (f"PARSL_NB_CHANNEL={shlex.quote(self._dispatch.address)} PARSL_NB_BLOCK={block} "
               f"PARSL_NB_KERNEL_TIMEOUT={self.kernel_timeout:g}")
        return f"{env} exec {shlex.join([sys.executable, '-c', code, self.controller.engine_file])}"


@pytest.mark.slurm
@pytest.mark.slow
def test_fifty_blocks_scale_out_and_in(slurm_cluster, tmp_path):
    provider = _provider(init_blocks=0, min_blocks=0, max_blocks=50, cmd_timeout=30)
    ex = CheapEngineExecutor(provider=provider, engines_per_node=1, strategy="none", kernel_timeout=10)
    dfk = parsl.load(parsl.Config(executors=[ex], run_dir=str(tmp_path / "ri")))
    try:
        assert len(ex.scale_out(50)) == 50
        assert len(ex.scale_out(1)) == 0  # max_blocks holds
        jobs = [b.job_id for b in ex.blocks]
        assert len(set(jobs)) == 50 and len(_squeue(*jobs)) == 50
        wait_until(lambda: len(ex.engines) >= 4, 60, "engines of the first running blocks", interval=0.2)
        assert [f.result(timeout=60) for f in [nap(0) for _ in range(40)]] == [0] * 40
        retired = ex.scale_in(46)  # queued blocks go first, then idle running ones
        assert len(retired) == 46
        wait_until(lambda: len(_squeue(*jobs)) <= 4, 30, "46 Slurm jobs to leave the queue", interval=0.5)
        assert nap(0).result(timeout=60) == 0  # the remaining blocks still run tasks
        assert len(ex.scale_in(50)) == 4
        wait_until(lambda: not _squeue(*jobs), 30, "every block's job to end", interval=0.5)
        assert all(b.state is JobState.CANCELLED for b in ex.blocks)
    finally:
        dfk.cleanup()
        parsl.clear()


# ------------------------------------------------------------------------------ commands that hang


@pytest.fixture
def hanging(tmp_path, monkeypatch):
    """``sbatch``, ``squeue`` and ``scancel`` that hang (a shell waiting on a child) first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pids = tmp_path / "pids"
    for name in ("sbatch", "squeue", "scancel"):
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\nsleep 300 &\necho $! >> {pids}\nwait\n")
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    yield pids
    if pids.exists():  # nothing the hung commands started may survive their timeout
        import psutil

        procs = []
        for pid in pids.read_text().split():
            try:
                procs.append(psutil.Process(int(pid)))
            except psutil.NoSuchProcess:
                pass
        # SIGKILL is delivered asynchronously: give a loaded machine a moment to end them
        deadline = time.monotonic() + 5
        while alive(procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = alive(procs)
        for p in left:
            p.kill()
        assert not left, f"children of a timed-out command survived: {left}"


def test_submit_command_that_hangs(hanging, tmp_path):
    """load() fails within about cmd_timeout with an error naming sbatch and the fix."""
    ex = EngineExecutor(provider=_provider(cmd_timeout=1), engines_per_node=1)
    t0 = time.monotonic()
    with pytest.raises(SubmitError) as info:
        parsl.load(parsl.Config(executors=[ex], run_dir=str(tmp_path / "ri")))
    assert time.monotonic() - t0 < 15
    msg = str(info.value)
    assert "`sbatch " in msg and "no answer within 1 s" in msg and "cmd_timeout" in msg, msg
    assert not ours(str(tmp_path / "ri")), "the executor left processes behind after a failed start"


def test_status_and_cancel_commands_that_hang(hanging, tmp_path):
    """squeue and scancel that hang: a warning naming the command, the last known state, no hang."""
    provider = _provider(cmd_timeout=1)
    provider.script_dir = str(tmp_path)
    with pytest.raises(CommandFailed, match="`squeue .*no answer within 1 s"):
        provider._run(provider._status_args(["1"]))
    from parsl_nb.providers.base import JobStatus
    from parsl_nb.providers.cluster_provider import _Job

    provider.resources["77"] = _Job("77", "b", "s", "o", "e", time.monotonic(), JobStatus(JobState.RUNNING))
    t0 = time.monotonic()
    assert provider.status(["77"])[0].state is JobState.RUNNING  # kept, not guessed
    assert provider.cancel(["77"]) == [False]  # may still run: said so, not pretended
    assert time.monotonic() - t0 < 10
