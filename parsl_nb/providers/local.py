"""``LocalProvider``: each block is a process group on this machine."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..launchers import Launcher, SingleNodeLauncher
from .base import ExecutionProvider, JobState, JobStatus
from .watchdog import wrap

__all__ = ["LocalProvider"]

TAIL_BYTES = 2000


@dataclass(slots=True)
class _Job:
    proc: subprocess.Popen[bytes]
    stdout: str
    stderr: str
    cancelled: bool = False


class LocalProvider(ExecutionProvider):
    """Run blocks as local processes (Parsl's ``LocalProvider``, same options).

    Each job runs its launcher script with ``bash`` in a new process group under
    a watchdog, so cancelling ends every process of the block and a killed
    kernel leaves nothing behind. The script and its stdout/stderr files are
    written to ``script_dir`` (the executor sets it inside the run directory).

    Parameters
    ----------
    nodes_per_block : int
        Must be 1 here (one machine).
    launcher : Launcher
        Wraps the engine command; default :class:`~parsl_nb.launchers.SingleNodeLauncher`.
    init_blocks, min_blocks, max_blocks : int
        Blocks started at first, kept at least, allowed at most.
    parallelism : float
        Share of waiting tasks that should get a worker of their own (0-1).
    worker_init : str
        Shell lines run before the command (for example ``source env/bin/activate``).
    cmd_timeout : float
        Accepted for Parsl compatibility.
    move_files : bool, optional
        Accepted for Parsl compatibility (files are local).

    Examples
    --------
    >>> from parsl_nb.providers import LocalProvider
    >>> provider = LocalProvider(init_blocks=1, max_blocks=2)
    """

    def __init__(self, nodes_per_block: int = 1, launcher: Launcher | None = None, init_blocks: int = 1,
                 min_blocks: int = 0, max_blocks: int = 1, worker_init: str = "", cmd_timeout: float = 30,
                 parallelism: float = 1.0, move_files: bool | None = None) -> None:
        if nodes_per_block != 1:
            raise ConfigError(f"LocalProvider runs on one machine: nodes_per_block must be 1 "
                              f"(got {nodes_per_block}); use a batch provider for more nodes")
        _check_blocks(init_blocks, min_blocks, max_blocks, parallelism)
        self.label = "local"
        self.nodes_per_block = 1
        self.launcher = launcher if launcher is not None else SingleNodeLauncher()
        self.init_blocks, self.min_blocks, self.max_blocks = init_blocks, min_blocks, max_blocks
        self.worker_init = worker_init
        self.cmd_timeout = cmd_timeout
        self.parallelism = parallelism
        self.move_files = move_files
        self.script_dir = "."
        self._jobs: dict[str, _Job] = {}

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl_nb.block") -> str:
        """Write the block script and start it; return the job id (the group's pid)."""
        assert isinstance(self.launcher, Launcher)
        os.makedirs(self.script_dir, mode=0o700, exist_ok=True)
        base = os.path.join(self.script_dir, job_name)
        script = f"#!/bin/bash\n{self.worker_init}\n{self.launcher(command, tasks_per_node, 1)}\n"
        with open(os.open(base + ".sh", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700), "w") as f:
            f.write(script)
        out, err = base + ".stdout", base + ".stderr"
        with open(out, "wb") as fo, open(err, "wb") as fe:
            proc = subprocess.Popen(wrap(["bash", base + ".sh"]), stdout=fo, stderr=fe,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        job_id = str(proc.pid)
        self._jobs[job_id] = _Job(proc, out, err)
        return job_id

    def status(self, job_ids: Sequence[str]) -> list[JobStatus]:
        """Running, completed (exit 0), cancelled, or failed with the tail of stderr."""
        return [self._status(j) for j in job_ids]

    def _status(self, job_id: str) -> JobStatus:
        job = self._jobs.get(job_id)
        if job is None:
            return JobStatus(JobState.MISSING, f"job {job_id} was not started by this provider")
        code = job.proc.poll()
        if code is None:
            return JobStatus(JobState.RUNNING, stdout_path=job.stdout, stderr_path=job.stderr)
        if job.cancelled:
            return JobStatus(JobState.CANCELLED, exit_code=code, stdout_path=job.stdout, stderr_path=job.stderr)
        state = JobState.COMPLETED if code == 0 else JobState.FAILED
        msg = "" if code == 0 else f"exit code {code}; stderr ends with:\n{_tail(job.stderr)}"
        return JobStatus(state, msg, code, job.stdout, job.stderr)

    def cancel(self, job_ids: Sequence[str], grace: float = 2.0) -> list[bool]:
        """Terminate each job's process group (SIGTERM, then SIGKILL after ``grace`` s)."""
        jobs = [self._jobs.get(j) for j in job_ids]
        for job in jobs:
            if job is not None and job.proc.poll() is None:
                job.cancelled = True
                _signal_group(job.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for job in jobs:
            if job is None:
                continue
            while job.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            _signal_group(job.proc.pid, signal.SIGKILL)
            job.proc.poll()
        return [True for _ in jobs]

    @property
    def status_polling_interval(self) -> float:
        """Local status is cheap: poll often."""
        return 0.5

    def __repr__(self) -> str:
        return f"LocalProvider(init_blocks={self.init_blocks}, max_blocks={self.max_blocks})"


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - TAIL_BYTES))
            return f.read().decode(errors="replace").strip()
    except OSError as e:
        return f"(could not read {path}: {e})"


def _check_blocks(init: int, mn: int, mx: int, parallelism: float) -> None:
    if not (0 <= mn <= mx):
        raise ConfigError(f"need 0 <= min_blocks <= max_blocks (got min_blocks={mn}, max_blocks={mx})")
    if not (0 <= init <= mx):
        raise ConfigError(f"init_blocks must be between 0 and max_blocks (got init_blocks={init}, max_blocks={mx})")
    if not (0 <= parallelism <= 1):
        raise ConfigError(f"parallelism must be between 0 and 1 (got parallelism={parallelism})")
