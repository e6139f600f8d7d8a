"""Slurm: blocks are ``sbatch`` jobs; ``squeue -t all`` reports them; ``scancel`` ends them."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from parsl_nb.launchers import Launcher, SingleNodeLauncher
from parsl_nb.providers.cluster_provider import ClusterProvider, Parsed, option_lines, submit_hint
from parsl_nb.providers.commands import CommandResult, CommandRunner
from parsl_nb.providers.scripts import hhmmss

__all__ = ["SlurmProvider", "parse_squeue", "slurm_directives"]

# squeue --format=%T names, https://slurm.schedmd.com/squeue.html#SECTION_JOB-STATE-CODES
STATES = {
    "PENDING": "PENDING", "CONFIGURING": "PENDING", "REQUEUED": "PENDING", "REQUEUE_FED": "PENDING",
    "REQUEUE_HOLD": "HELD", "RESV_DEL_HOLD": "HELD", "SUSPENDED": "HELD", "STOPPED": "HELD",
    "RUNNING": "RUNNING", "RESIZING": "RUNNING", "SIGNALING": "RUNNING", "STAGE_OUT": "RUNNING",
    # COMPLETING hides the final state (scancel, walltime, exit) while Slurm ends the job's
    # processes, which can take KillWait seconds or longer: the job will not run on either way.
    "COMPLETING": "COMPLETED",
    "COMPLETED": "COMPLETED", "CANCELLED": "CANCELLED",
    "FAILED": "FAILED", "NODE_FAIL": "FAILED", "BOOT_FAIL": "FAILED", "OUT_OF_MEMORY": "FAILED",
    "REVOKED": "FAILED", "SPECIAL_EXIT": "FAILED",
    "TIMEOUT": "TIMEOUT", "DEADLINE": "TIMEOUT", "PREEMPTED": "TIMEOUT",
}

# Pending reasons that will never clear by waiting, and the option behind each.
HOPELESS = {
    "PartitionConfig": "partition, nodes_per_block or cores_per_node (the partition cannot hold the block)",
    "PartitionNodeLimit": "nodes_per_block (more nodes than the partition allows)",
    "PartitionTimeLimit": "walltime (longer than the partition allows)",
    "BadConstraints": "constraint, mem_per_node or cores_per_node (no node matches)",
    "ReqNodeNotAvail": "partition or constraint (the nodes asked for are unavailable)",
    "InvalidAccount": "account",
    "InvalidQOS": "qos",
    "QOSMaxWallDurationPerJobLimit": "walltime or qos",
}

# sbatch's complaint -> the option to check.
HINTS = (
    ("partition", "partition"), ("account", "account"), ("qos", "qos"), ("feature", "constraint"),
    ("constraint", "constraint"), ("memory", "mem_per_node"), ("--time", "walltime"),
    ("time limit", "walltime"), ("node configuration", "nodes_per_block, cores_per_node or mem_per_node"),
    ("gres", "gpus_per_node"), ("gpu", "gpus_per_node"),
)


def slurm_directives(*, partition: str | None = None, account: str | None = None, qos: str | None = None,
                     constraint: str | None = None, clusters: str | None = None, exclusive: bool = False,
                     cores_per_node: int | None = None, mem_per_node: int | None = None,
                     gpus_per_node: int | None = None, gres: str | None = None,
                     tasks_per_node: int = 1) -> list[str]:
    """The ``#SBATCH`` lines for these options, in a fixed order."""
    lines = option_lines([("--partition={}", partition), ("--account={}", account), ("--qos={}", qos),
                          ("--constraint={}", constraint), ("--clusters={}", clusters), ("--exclusive", exclusive)])
    if cores_per_node is not None:
        lines.append(f"--cpus-per-task={max(1, math.floor(cores_per_node / tasks_per_node))}")
    if mem_per_node is not None:
        lines.append(f"--mem={mem_per_node}g")
    if gpus_per_node is not None:
        lines.append(f"--gpus-per-node={gpus_per_node}")
    if gres:
        lines.append(f"--gres={gres}")
    return [f"#SBATCH {line}" for line in lines]


def parse_squeue(stdout: str) -> Parsed:
    """``squeue --noheader --format='%i|%T|%r'`` lines -> {job id: (JobState name, message)}."""
    found: Parsed = {}
    for line in stdout.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 2:
            continue
        job_id, state, reason = parts[0], parts[1].rstrip("+"), (parts[2] if len(parts) > 2 else "")
        name = STATES.get(state, "UNKNOWN")
        message = f"{state}: {reason}" if reason and reason != "None" else ""
        if state == "COMPLETING":
            message = "COMPLETING: the job ended (finished, cancelled or out of time); Slurm is ending its processes"
        if name == "PENDING" and reason in HOPELESS:
            message = f"{message}; it will not start as requested: check {HOPELESS[reason]}"
        found[job_id] = (name, message)
    return found


class SlurmProvider(ClusterProvider):
    """Blocks as Slurm batch jobs, submitted with ``sbatch`` from the notebook's machine.

    Parameters
    ----------
    partition, account, qos, constraint, clusters : str, optional
        Passed as ``--partition`` etc.; left out when None.
    nodes_per_block : int
        ``--nodes`` of each block.
    cores_per_node : int, optional
        Cores per node; gives ``--cpus-per-task=cores_per_node // tasks_per_node``.
    mem_per_node : int, optional
        Memory per node in GB (``--mem=<n>g``).
    gpus_per_node : int, optional
        ``--gpus-per-node``.
    gres : str, optional
        ``--gres``.
    exclusive : bool
        Whole nodes for each block (``--exclusive``), as in Parsl.
    init_blocks, min_blocks, max_blocks, parallelism
        Scaling bounds, as in Parsl.
    walltime : str
        ``HH:MM:SS`` per block.
    scheduler_options : str
        Extra ``#SBATCH`` lines, verbatim.
    worker_init : str
        Shell lines run before the engines start.
    launcher : Launcher
        How the block starts its engines: :class:`~parsl_nb.launchers.SingleNodeLauncher`
        (default) or :class:`~parsl_nb.launchers.SrunLauncher` for several nodes.
    cmd_timeout : float
        Seconds to wait for ``sbatch``, ``squeue`` and ``scancel``.
    runner : CommandRunner, optional
        Runs those commands (tests pass a fake).

    Examples
    --------
    >>> from parsl_nb.executors import EngineExecutor                      # doctest: +SKIP
    >>> from parsl_nb.launchers import SrunLauncher
    >>> provider = SlurmProvider(partition="debug", nodes_per_block=2, walltime="00:30:00",
    ...                          launcher=SrunLauncher(), worker_init="conda activate work")
    >>> parsl.load(Config(executors=[EngineExecutor(provider=provider)]))
    """

    label = "slurm"
    template = "slurm.sh"
    submit_options_hint = "scheduler_options"

    def __init__(self, partition: str | None = None, account: str | None = None, qos: str | None = None,
                 constraint: str | None = None, clusters: str | None = None, nodes_per_block: int = 1,
                 cores_per_node: int | None = None, mem_per_node: int | None = None,
                 gpus_per_node: int | None = None, gres: str | None = None, init_blocks: int = 1,
                 min_blocks: int = 0, max_blocks: int = 1, parallelism: float = 1, walltime: str = "00:10:00",
                 scheduler_options: str = "", regex_job_id: str = r"Submitted batch job (?P<id>\S+)",
                 worker_init: str = "", cmd_timeout: float = 10, exclusive: bool = True,
                 launcher: Launcher | None = None, runner: CommandRunner | None = None) -> None:
        super().__init__(nodes_per_block=nodes_per_block, init_blocks=init_blocks, min_blocks=min_blocks,
                         max_blocks=max_blocks, parallelism=parallelism, walltime=walltime,
                         scheduler_options=scheduler_options, worker_init=worker_init,
                         launcher=launcher or SingleNodeLauncher(), cmd_timeout=cmd_timeout, runner=runner)
        self.partition, self.account, self.qos = partition, account, qos
        self.constraint, self.clusters, self.exclusive = constraint, clusters, exclusive
        self.cores_per_node, self.mem_per_node = cores_per_node, mem_per_node
        self.gpus_per_node, self.gres = gpus_per_node, gres
        self.regex_job_id = regex_job_id

    def _script_values(self, tasks_per_node: int) -> dict[str, object]:
        lines = slurm_directives(partition=self.partition, account=self.account, qos=self.qos,
                                 constraint=self.constraint, clusters=self.clusters, exclusive=self.exclusive,
                                 cores_per_node=self.cores_per_node, mem_per_node=self.mem_per_node,
                                 gpus_per_node=self.gpus_per_node, gres=self.gres, tasks_per_node=tasks_per_node)
        return {"directives": "\n".join(lines), "walltime": hhmmss(self.walltime),
                "worker_init": self._worker_init(tasks_per_node)}

    def _worker_init(self, tasks_per_node: int) -> str:
        exports = []
        if self.mem_per_node is not None:
            exports.append(f"export PARSL_MEMORY_GB={self.mem_per_node}")
        if self.cores_per_node is not None:
            exports.append(f"export PARSL_CORES={max(1, self.cores_per_node // tasks_per_node)}")
        return "\n".join([*exports, self.worker_init]).strip("\n")

    def _cluster_args(self) -> list[str]:
        return [f"--clusters={self.clusters}"] if self.clusters else []

    def _submit_args(self, script_path: str) -> list[str]:
        return ["sbatch", script_path]

    def _parse_job_id(self, stdout: str) -> str | None:
        for line in stdout.splitlines():
            match = re.match(self.regex_job_id, line.strip())
            if match:
                return match.group("id")
        return None

    def _submit_hint(self, stderr: str) -> str:
        return submit_hint(stderr, (((needle,), f"check the provider's {option} option") for needle, option in HINTS),
                           "check the provider's options and scheduler_options against `sinfo` and `sbatch --help`")

    def _status_args(self, job_ids: Sequence[str]) -> list[str]:
        # -t all keeps finished jobs (for MinJobAge) instead of dropping them.
        return ["squeue", *self._cluster_args(), "--noheader", "--states=all", "--format=%i|%T|%r",
                f"--jobs={','.join(job_ids)}"]

    def _parse_status(self, result: CommandResult) -> Parsed | None:
        if result.returncode != 0 and "invalid job id" not in result.stderr.lower():
            return None
        return parse_squeue(result.stdout)

    def _cancel_args(self, job_ids: Sequence[str]) -> list[str]:
        return ["scancel", *self._cluster_args(), *job_ids]

    def _cancel_ok(self, result: CommandResult) -> bool:
        # Older Slurm exits 1 for a job that already ended; that job will not run on either.
        text = result.stderr.lower()
        return result.returncode == 0 or "already completing or completed" in text or "invalid job id" in text
