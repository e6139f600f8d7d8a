"""``LocalProvider``: each block is a process group on this machine.

Like the batch providers it runs commands through the command-runner seam
(:mod:`parsl_nb.providers.commands`): ``bash`` starts the block detached (its own
session, under a watchdog), ``ps`` reports states, ``kill`` cancels. Tests can
replay those commands, and a hung ``ps`` is a timeout, not a hung kernel.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..launchers import Launcher, SingleNodeLauncher
from .base import ExecutionProvider, JobState, JobStatus
from .commands import CommandFailed, CommandRunner, SubmitError, run_command
from .watchdog import wrap

__all__ = ["LocalProvider"]

TAIL_BYTES = 2000
# Start "$@" in a new session with its output in files, detached; print its pid (= its group id).
LAUNCH = 'out=$1 err=$2; shift 2; setsid "$@" >"$out" 2>"$err" </dev/null & echo $!'


@dataclass(slots=True)
class _Job:
    pid: int
    stdout: str
    stderr: str
    exit_file: str
    cancelled: bool = False
    ended: JobStatus | None = None


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
        Seconds to wait for each ``bash``/``ps``/``kill`` command.
    move_files : bool, optional
        Accepted for Parsl compatibility (files are local).
    runner : CommandRunner, optional
        Runs those commands; tests pass a fake one.

    Examples
    --------
    >>> from parsl_nb.providers import LocalProvider
    >>> provider = LocalProvider(init_blocks=1, max_blocks=2)
    """

    def __init__(self, nodes_per_block: int = 1, launcher: Launcher | None = None, init_blocks: int = 1,
                 min_blocks: int = 0, max_blocks: int = 1, worker_init: str = "", cmd_timeout: float = 30,
                 parallelism: float = 1.0, move_files: bool | None = None,
                 runner: CommandRunner | None = None) -> None:
        if nodes_per_block != 1:
            raise ConfigError(f"LocalProvider runs on one machine: nodes_per_block must be 1 "
                              f"(got {nodes_per_block}); use a batch provider for more nodes")
        _check_blocks(init_blocks, min_blocks, max_blocks, parallelism)
        if cmd_timeout <= 0:
            raise ConfigError(f"cmd_timeout must be > 0 seconds (got cmd_timeout={cmd_timeout!r})")
        self.label = "local"
        self.nodes_per_block = 1
        self.launcher = launcher if launcher is not None else SingleNodeLauncher()
        self.init_blocks, self.min_blocks, self.max_blocks = init_blocks, min_blocks, max_blocks
        self.worker_init = worker_init
        self.cmd_timeout = cmd_timeout
        self.parallelism = parallelism
        self.move_files = move_files
        self.runner: CommandRunner = runner or run_command
        self.script_dir = "."
        self._jobs: dict[str, _Job] = {}

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl_nb.block") -> str:
        """Write the block script and start it detached; return the job id (its process group)."""
        assert isinstance(self.launcher, Launcher)
        os.makedirs(self.script_dir, mode=0o700, exist_ok=True)
        base = os.path.abspath(os.path.join(self.script_dir, job_name))
        script = f"#!/bin/bash\n{self.worker_init}\n{self.launcher(command, tasks_per_node, 1)}\n"
        with open(os.open(base + ".sh", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700), "w") as f:
            f.write(script)
        out, err, code = base + ".stdout", base + ".stderr", base + ".exitcode"
        if os.path.exists(code):
            os.remove(code)
        argv = ["bash", "-c", LAUNCH, "parsl_nb-local", out, err,
                *wrap(["bash", base + ".sh"], detached=True, exit_file=code)]
        try:
            result = self.runner(argv, timeout=self.cmd_timeout)
        except CommandFailed as e:
            raise SubmitError(job_name, e.reason, script_path=base + ".sh") from None
        pid = result.stdout.strip()
        if result.returncode != 0 or not pid.isdigit():
            msg = f"bash could not start the block (exit {result.returncode}, printed {pid!r}); check worker_init"
            raise SubmitError(job_name, msg, result.stdout, result.stderr, result.returncode, base + ".sh")
        self._jobs[pid] = _Job(int(pid), out, err, code)
        return pid

    def status(self, job_ids: Sequence[str]) -> list[JobStatus]:
        """Running, completed (exit 0), cancelled, or failed with the tail of stderr (one ``ps``)."""
        live = [self._jobs[j] for j in job_ids if j in self._jobs and self._jobs[j].ended is None]
        running = self._running(live) if live else set()
        return [self._status(j, running) for j in job_ids]

    def _running(self, jobs: list[_Job]) -> set[int] | None:
        """Pids among ``jobs`` still running (zombies are not); None if ``ps`` failed."""
        try:
            result = self.runner(["ps", "-o", "pid=,stat=", "-p", ",".join(str(j.pid) for j in jobs)],
                                 timeout=self.cmd_timeout)
        except CommandFailed:
            return None
        found = {int(p) for p, stat in (line.split()[:2] for line in result.stdout.splitlines() if line.strip())
                 if not stat.startswith("Z")}
        return found

    def _status(self, job_id: str, running: set[int] | None) -> JobStatus:
        job = self._jobs.get(job_id)
        if job is None:
            return JobStatus(JobState.MISSING, f"job {job_id} was not started by this provider")
        if job.ended is not None:
            return job.ended
        if running is None or job.pid in running:
            return JobStatus(JobState.RUNNING, stdout_path=job.stdout, stderr_path=job.stderr)
        job.ended = _ended(job)
        return job.ended

    def cancel(self, job_ids: Sequence[str], grace: float = 2.0) -> list[bool]:
        """Terminate each job's process group (SIGTERM, then SIGKILL after ``grace`` s)."""
        jobs = [self._jobs[j] for j in job_ids if j in self._jobs and self._jobs[j].ended is None]
        for job in jobs:
            job.cancelled = True
        if jobs:
            self._signal(jobs, "TERM")
            deadline = time.monotonic() + grace
            while self._running(jobs) and time.monotonic() < deadline:
                time.sleep(0.05)
            self._signal(jobs, "KILL")
            self.status([j for j in job_ids if j in self._jobs])
        return [True for _ in job_ids]

    def _signal(self, jobs: list[_Job], sig: str) -> None:
        try:  # exits 1 when some group is gone already: fine
            self.runner(["kill", f"-{sig}", "--", *(f"-{j.pid}" for j in jobs)], timeout=self.cmd_timeout)
        except CommandFailed:
            pass

    @property
    def status_polling_interval(self) -> float:
        """Local status is cheap: poll often."""
        return 0.5

    def __repr__(self) -> str:
        return f"LocalProvider(init_blocks={self.init_blocks}, max_blocks={self.max_blocks})"


def _ended(job: _Job) -> JobStatus:
    """The final status of a job whose processes are gone."""
    code = _exit_code(job.exit_file)
    if job.cancelled:
        return JobStatus(JobState.CANCELLED, exit_code=code, stdout_path=job.stdout, stderr_path=job.stderr)
    if code == 0:
        return JobStatus(JobState.COMPLETED, "", 0, job.stdout, job.stderr)
    why = f"exit code {code}" if code is not None else "it was killed (no exit code was written)"
    return JobStatus(JobState.FAILED, f"{why}; stderr ends with:\n{_tail(job.stderr)}", code, job.stdout,
                     job.stderr)


def _exit_code(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


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
