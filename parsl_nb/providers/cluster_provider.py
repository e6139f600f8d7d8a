"""What every batch-scheduler provider shares: block scripts, the job table, state rules.

A scheduler module (``slurm``, ``gridengine``, ...) supplies only its vocabulary: the
directives for its options, the submit/status/cancel command lines and parsers of
their output. The rules that keep states honest live here, once:

- a job missing from the queue right after submission is PENDING (the scheduler may
  not list it yet), not COMPLETED; once seen, or after ``missing_grace`` seconds,
  a missing job has left the queue and is COMPLETED;
- a job we cancelled is CANCELLED, and cancelling a job that already ended is not
  an error;
- a failed status query keeps the last known states instead of inventing new ones.
"""

from __future__ import annotations

import abc
import itertools
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from parsl_nb.errors import ConfigError
from parsl_nb.launchers import Launcher
from parsl_nb.providers.base import ExecutionProvider, JobState, JobStatus
from parsl_nb.providers.commands import CommandFailed, CommandResult, CommandRunner, SubmitError, run_command
from parsl_nb.providers.scripts import load_template, render, walltime_seconds

__all__ = ["ClusterProvider", "Parsed"]

logger = logging.getLogger(__name__)

Parsed = dict[str, tuple[str, str]]
"""Scheduler job id -> (JobState member name, message), as a status parser returns it."""

_counter = itertools.count()


@dataclass(slots=True)
class _Job:
    job_id: str
    job_name: str
    script_path: str
    stdout_path: str
    stderr_path: str
    submitted: float
    status: JobStatus
    seen: bool = False
    cancelled: bool = False


class ClusterProvider(ExecutionProvider):
    """Base of the batch-scheduler providers: submit block scripts, poll, cancel.

    Parameters
    ----------
    nodes_per_block : int
        Nodes in each block (one batch job).
    init_blocks, min_blocks, max_blocks : int
        Blocks at start, and the bounds the executor scales between.
    parallelism : float
        Ratio of engine slots to outstanding tasks the executor aims for (0 to 1).
    walltime : str
        Walltime of each block, ``HH:MM:SS``.
    scheduler_options : str
        Lines added verbatim to the script's directives (e.g. ``"#SBATCH --mail-type=NONE"``).
    worker_init : str
        Shell lines run before the engines start (e.g. ``"module load python; conda activate env"``).
    launcher : Launcher
        Wraps the engine command for the block: ``launcher(command, tasks_per_node, nodes_per_block)``.
    cmd_timeout : float
        Seconds to wait for each scheduler command.
    runner : CommandRunner, optional
        Runs scheduler commands; tests pass a fake one.
    script_dir : str, optional
        Where block scripts and their outputs go; the executor sets it to its run directory.
    missing_grace : float
        Seconds after submission during which a job absent from the queue is PENDING.
    """

    label = "cluster"
    launcher: Launcher
    template = ""
    submit_options_hint = "scheduler_options"

    def __init__(self, *, nodes_per_block: int, init_blocks: int, min_blocks: int, max_blocks: int,
                 parallelism: float, walltime: str, scheduler_options: str, worker_init: str,
                 launcher: Launcher, cmd_timeout: float, runner: CommandRunner | None = None,
                 script_dir: str | None = None, missing_grace: float = 30.0) -> None:
        check_blocks(nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism)
        if walltime_seconds(walltime) <= 0:
            raise ConfigError(f"walltime must be longer than zero (got walltime={walltime!r}); "
                              f"for example walltime='00:30:00'")
        if isinstance(cmd_timeout, bool) or not isinstance(cmd_timeout, (int, float)) or cmd_timeout <= 0:
            raise ConfigError(f"cmd_timeout must be a positive number of seconds (got cmd_timeout={cmd_timeout!r}); "
                              f"for example cmd_timeout=30")
        self.nodes_per_block = nodes_per_block
        self.init_blocks = init_blocks
        self.min_blocks = min_blocks
        self.max_blocks = max_blocks
        self.parallelism = parallelism
        self.walltime = walltime
        self.scheduler_options = scheduler_options.strip("\n")
        self.worker_init = worker_init.strip("\n")
        self.launcher = launcher
        self.cmd_timeout = cmd_timeout
        self.runner: CommandRunner = runner or run_command
        self.script_dir = script_dir or os.path.join("runinfo", "submit_scripts")
        self.missing_grace = missing_grace
        self.resources: dict[str, _Job] = {}

    # -- what a scheduler module supplies -------------------------------------------------

    @abc.abstractmethod
    def _script_values(self, tasks_per_node: int) -> dict[str, object]:
        """Template values for this scheduler's options (at least ``directives``)."""

    @abc.abstractmethod
    def _submit_args(self, script_path: str) -> list[str]:
        """The submit command line."""

    @abc.abstractmethod
    def _parse_job_id(self, stdout: str) -> str | None:
        """The job id in the submit command's output, or None."""

    @abc.abstractmethod
    def _status_args(self, job_ids: Sequence[str]) -> list[str]:
        """One command that reports the state of all ``job_ids``."""

    @abc.abstractmethod
    def _parse_status(self, result: CommandResult) -> Parsed | None:
        """States found in the status output; None if the query itself failed."""

    @abc.abstractmethod
    def _cancel_args(self, job_ids: Sequence[str]) -> list[str]:
        """One command that cancels all ``job_ids``."""

    def _key(self, job_id: str) -> str:
        """The id as the status parser reports it (PBS shortens ``123.server.domain``)."""
        return job_id

    def _cancel_ok(self, result: CommandResult) -> bool:
        """True if cancelling succeeded or the jobs had already ended."""
        return result.returncode == 0

    def _submit_input(self, script: str) -> str | None:
        """Text for the submit command's stdin (LSF's ``bsub < script``); None for none."""
        return None

    def _submit_hint(self, stderr: str) -> str:
        """Which option to check, judging by the scheduler's complaint."""
        return f"check the provider's options and {self.submit_options_hint}"

    # -- submit ---------------------------------------------------------------------------

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl_nb.block") -> str:
        """Write a block script running ``command`` and submit it; return the job id."""
        name = f"{job_name}.{os.getpid()}.{next(_counter)}"
        script_dir = self._script_dir()
        script_path = os.path.join(script_dir, f"{name}.{self.label}.sh")
        stdout_path, stderr_path = script_path[:-3] + ".stdout", script_path[:-3] + ".stderr"
        script = self.render_script(command, tasks_per_node, name, script_path, stdout_path, stderr_path)
        write_script(script_path, script)
        result = self._run(self._submit_args(script_path), input=self._submit_input(script), job_name=name,
                           script_path=script_path)
        if result.returncode != 0:
            msg = f"{result.command} exited {result.returncode}; {self._submit_hint(result.stderr)}"
            raise SubmitError(name, msg, result.stdout, result.stderr, result.returncode, script_path)
        job_id = self._parse_job_id(result.stdout)
        if not job_id:
            msg = f"no job id in the output of {result.command}: {result.stdout.strip()!r}"
            raise SubmitError(name, msg, result.stdout, result.stderr, result.returncode, script_path)
        status = JobStatus(JobState.PENDING, stdout_path=stdout_path, stderr_path=stderr_path)
        self.resources[job_id] = _Job(job_id, name, script_path, stdout_path, stderr_path, time.monotonic(), status)
        logger.info("submitted block %s as %s job %s (%s)", name, self.label, job_id, script_path)
        return job_id

    def render_script(self, command: str, tasks_per_node: int, job_name: str, script_path: str,
                      stdout_path: str, stderr_path: str) -> str:
        """The block script text, exactly as :meth:`submit` writes it."""
        wrapped = self.launcher(command, tasks_per_node, self.nodes_per_block)
        values: dict[str, object] = {
            "job_name": job_name, "script_path": script_path, "script_dir": os.path.dirname(script_path),
            "stdout_path": stdout_path,
            "stderr_path": stderr_path, "nodes_per_block": self.nodes_per_block,
            "tasks_per_node": tasks_per_node, "walltime": self.walltime,
            "scheduler_options": self.scheduler_options, "worker_init": self.worker_init,
            "command": wrapped.strip("\n"),
        }
        values.update(self._script_values(tasks_per_node))
        return render(load_template(self.template), values)

    def _script_dir(self) -> str:
        path = os.path.abspath(self.script_dir)
        os.makedirs(path, exist_ok=True)
        return path

    def _run(self, args: list[str], input: str | None = None, job_name: str = "",
             script_path: str | None = None) -> CommandResult:
        try:
            return self.runner(args, timeout=self.cmd_timeout, input=input)
        except CommandFailed as e:
            if job_name:
                raise SubmitError(job_name, str(e), script_path=script_path) from None  # names the command
            raise

    # -- status ---------------------------------------------------------------------------

    def status(self, job_ids: Sequence[str]) -> list[JobStatus]:
        """States of ``job_ids``, from one scheduler query for all of those still active."""
        active = [j for j in job_ids if j in self.resources and not self.resources[j].status.terminal]
        if active:
            parsed = self._query(active)
            if parsed is not None:
                for job_id in active:
                    self._update(self.resources[job_id], parsed.get(self._key(job_id)))
        unknown = JobStatus(JobState.UNKNOWN, message="not a job of this provider")
        return [self.resources[j].status if j in self.resources else unknown for j in job_ids]

    def _query(self, job_ids: list[str]) -> Parsed | None:
        try:
            result = self._run(self._status_args(job_ids))
        except CommandFailed as e:
            logger.warning("%s; keeping the last known job states", e)
            return None
        parsed = self._parse_status(result)
        if parsed is None:
            logger.warning("%s exited %s: %s; keeping the last known job states",
                           result.command, result.returncode, result.stderr.strip())
        return parsed

    def _update(self, job: _Job, found: tuple[str, str] | None) -> None:
        if found is not None:
            job.seen = True
            state, message = JobState[found[0]], found[1]
            if job.cancelled and state.terminal:
                state = JobState.CANCELLED
        elif job.cancelled:
            state, message = JobState.CANCELLED, "cancelled by this provider"
        elif not job.seen and time.monotonic() - job.submitted < self.missing_grace:
            state, message = JobState.PENDING, "submitted; not listed by the scheduler yet"
        else:
            state, message = JobState.COMPLETED, "no longer in the scheduler's queue"
        job.status = JobStatus(state, message=message, stdout_path=job.stdout_path,
                               stderr_path=job.stderr_path)

    # -- cancel ---------------------------------------------------------------------------

    def cancel(self, job_ids: Sequence[str]) -> list[bool]:
        """Cancel ``job_ids`` with one scheduler command; True for each job that will not run on."""
        ids = list(job_ids)
        if not ids:
            return []
        try:
            result = self._run(self._cancel_args(ids))
        except CommandFailed as e:
            logger.warning("%s; jobs %s may still run", e, ids)
            return [False] * len(ids)
        if not self._cancel_ok(result):
            logger.warning("%s exited %s: %s", result.command, result.returncode, result.stderr.strip())
            return [False] * len(ids)
        for job_id in ids:
            job = self.resources.get(job_id)
            if job is not None:
                job.cancelled = True
                if not job.status.terminal:
                    job.status = JobStatus(JobState.CANCELLED, message="cancelled by this provider",
                                           stdout_path=job.stdout_path, stderr_path=job.stderr_path)
        return [True] * len(ids)


def check_blocks(nodes_per_block: int, init_blocks: int, min_blocks: int, max_blocks: int,
                 parallelism: float) -> None:
    """ConfigError for block settings that cannot work, saying which to change."""
    if nodes_per_block < 1:
        raise ConfigError(f"nodes_per_block must be >= 1 (got {nodes_per_block})")
    if min_blocks < 0 or max_blocks < min_blocks:
        raise ConfigError(f"need 0 <= min_blocks <= max_blocks (got min_blocks={min_blocks}, max_blocks={max_blocks})")
    if init_blocks < 0:
        raise ConfigError(f"init_blocks must be >= 0 (got {init_blocks})")
    if not 0 <= parallelism <= 1:
        raise ConfigError(f"parallelism must be between 0 and 1 (got {parallelism})")


def option_lines(table: Iterable[tuple[str, object]]) -> list[str]:
    """``form.format(value)`` for each ``(form, value)`` of ``table`` whose value is set (truthy), in order.

    The directives for the options a user gave: ``option_lines([("#PBS -q {}", queue)])``.
    """
    return [form.format(value) for form, value in table if value]


def submit_hint(stderr: str, hints: Iterable[tuple[tuple[str, ...], str]], default: str) -> str:
    """The hint of the first ``(words, hint)`` with a word in ``stderr`` (case-insensitive), else ``default``."""
    text = stderr.lower()
    return next((hint for words, hint in hints if any(w in text for w in words)), default)


def write_script(path: str, text: str) -> None:
    """Write a block script readable and runnable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700)
    with os.fdopen(fd, "w") as f:
        f.write(text)
