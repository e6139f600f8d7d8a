"""Torque / OpenPBS-style ``qsub``, plain ``qstat`` and ``qdel``."""

from __future__ import annotations

from collections.abc import Sequence

from parsl_nb.launchers import Launcher, SingleNodeLauncher
from parsl_nb.providers.cluster_provider import ClusterProvider, Parsed, option_lines, submit_hint
from parsl_nb.providers.commands import CommandResult, CommandRunner
from parsl_nb.providers.scripts import hhmmss

__all__ = ["PBS_STATES", "TorqueProvider", "parse_qstat_table", "pbs_hint"]

# qstat's one-letter states (Torque and PBS Pro man pages).
PBS_STATES = {
    "Q": "PENDING", "W": "PENDING", "T": "PENDING", "M": "PENDING",
    "H": "HELD", "S": "HELD", "U": "HELD",
    "R": "RUNNING", "B": "RUNNING", "E": "RUNNING",
    "C": "COMPLETED", "F": "COMPLETED", "X": "COMPLETED",
}

# Ending of a command's stderr meaning the job has already ended (not an error to cancel it).
ENDED = ("unknown job id", "job has finished", "invalid state for job - complete", "request invalid for state of job")

# words in qsub's complaint -> the option to check
SUBMIT_HINTS = (
    (("queue",), "check the provider's queue option against `qstat -Q`"),
    (("account", "project"), "check the provider's account option"),
    (("walltime", "resource", "limit"),
     "check walltime, nodes_per_block and the resource options against the queue's limits (`qstat -Qf`)"),
)


def short_id(job_id: str) -> str:
    """``123.server.domain`` -> ``123``: qstat shortens host names in its table."""
    return job_id.split(".")[0]


def parse_qstat_table(stdout: str) -> Parsed:
    """Plain ``qstat <ids>`` table -> {numeric job id: (JobState name, message)}."""
    found: Parsed = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) < 6 or not parts[0][:1].isdigit():
            continue
        code = parts[4]
        found[short_id(parts[0])] = (PBS_STATES.get(code, "UNKNOWN"), f"qstat state {code}")
    return found


def pbs_hint(stderr: str) -> str:
    """The option to check, from a PBS ``qsub`` complaint."""
    return submit_hint(stderr, SUBMIT_HINTS, "check the provider's options and scheduler_options (`#PBS` lines)")


def pbs_cancel_ok(result: CommandResult) -> bool:
    text = result.stderr.lower()
    return result.returncode == 0 or any(e in text for e in ENDED)


class TorqueProvider(ClusterProvider):
    """Blocks as Torque jobs (``qsub``; ``-l nodes=N:ppn=tasks_per_node``).

    Parameters
    ----------
    account : str, optional
        ``-A`` account.
    queue : str, optional
        ``-q`` queue.
    nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism
        As in :class:`~parsl_nb.providers.cluster_provider.ClusterProvider`.
    scheduler_options, worker_init, walltime, cmd_timeout
        As in :class:`~parsl_nb.providers.cluster_provider.ClusterProvider`.
    launcher : Launcher
        Default :class:`~parsl_nb.launchers.SingleNodeLauncher` (Parsl defaults to aprun).
    runner : CommandRunner, optional
        Runs the scheduler commands (tests pass a fake).

    Examples
    --------
    >>> provider = TorqueProvider(queue="batch", walltime="00:30:00")     # doctest: +SKIP
    """

    label = "torque"
    template = "torque.sh"

    def __init__(self, account: str | None = None, queue: str | None = None, scheduler_options: str = "",
                 worker_init: str = "", nodes_per_block: int = 1, init_blocks: int = 1, min_blocks: int = 0,
                 max_blocks: int = 1, parallelism: float = 1, launcher: Launcher | None = None,
                 walltime: str = "00:20:00", cmd_timeout: float = 120, runner: CommandRunner | None = None) -> None:
        super().__init__(nodes_per_block=nodes_per_block, init_blocks=init_blocks, min_blocks=min_blocks,
                         max_blocks=max_blocks, parallelism=parallelism, walltime=walltime,
                         scheduler_options=scheduler_options, worker_init=worker_init,
                         launcher=launcher or SingleNodeLauncher(), cmd_timeout=cmd_timeout, runner=runner)
        self.account, self.queue = account, queue

    def _directives(self) -> list[str]:
        return option_lines([("#PBS -q {}", self.queue), ("#PBS -A {}", self.account)])

    def _script_values(self, tasks_per_node: int) -> dict[str, object]:
        return {"directives": "\n".join(self._directives()), "walltime": hhmmss(self.walltime)}

    def _submit_args(self, script_path: str) -> list[str]:
        return ["qsub", script_path]

    def _parse_job_id(self, stdout: str) -> str | None:
        job_id = stdout.strip().split("\n")[-1].strip() if stdout.strip() else ""
        return job_id if job_id[:1].isdigit() else None

    def _submit_hint(self, stderr: str) -> str:
        return pbs_hint(stderr)

    def _key(self, job_id: str) -> str:
        return short_id(job_id)

    def _status_args(self, job_ids: Sequence[str]) -> list[str]:
        return ["qstat", *job_ids]

    def _parse_status(self, result: CommandResult) -> Parsed | None:
        # qstat exits 153 when one id is unknown (ended and purged) but lists the others.
        if result.returncode != 0 and "unknown job id" not in result.stderr.lower():
            return None
        return parse_qstat_table(result.stdout)

    def _cancel_args(self, job_ids: Sequence[str]) -> list[str]:
        return ["qdel", *job_ids]

    def _cancel_ok(self, result: CommandResult) -> bool:
        return pbs_cancel_ok(result)
