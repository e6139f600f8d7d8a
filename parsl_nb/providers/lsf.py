"""IBM Spectrum LSF: ``bsub < script``, ``bjobs -o 'jobid stat'``, ``bkill``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from parsl_nb.launchers import Launcher, SingleNodeLauncher
from parsl_nb.providers.cluster_provider import ClusterProvider, Parsed, option_lines, submit_hint
from parsl_nb.providers.commands import CommandResult, CommandRunner
from parsl_nb.providers.scripts import walltime_minutes

__all__ = ["LSFProvider", "parse_bjobs"]

STATES = {
    "PEND": "PENDING", "WAIT": "PENDING", "PROV": "PENDING",
    "RUN": "RUNNING",
    "PSUSP": "HELD", "USUSP": "HELD", "SSUSP": "HELD",
    "DONE": "COMPLETED", "EXIT": "FAILED", "ZOMBI": "FAILED", "UNKWN": "UNKNOWN",
}
JOB_ID = re.compile(r"Job <(?P<id>\d+)> is submitted")
ENDED = ("job has already finished", "no matching job found", "is not found")
# words in bsub's complaint -> the option to check
SUBMIT_HINTS = (
    (("queue",), "check the provider's queue option against `bqueues`"),
    (("project",), "check the provider's project option"),
    (("run limit", "runlimit"), "check walltime against the queue's RUNLIMIT (`bqueues -l`)"),
    (("slot", "processor", "node"), "check nodes_per_block, cores_per_block and cores_per_node"),
)


def parse_bjobs(stdout: str) -> Parsed:
    """``bjobs -noheader -o 'jobid stat' <ids>`` lines -> {job id: (JobState name, message)}."""
    found: Parsed = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit():
            found[parts[0]] = (STATES.get(parts[1], "UNKNOWN"), f"bjobs state {parts[1]}")
    return found


class LSFProvider(ClusterProvider):
    """Blocks as LSF jobs; the script goes to ``bsub`` on stdin so its ``#BSUB`` lines count.

    Parameters
    ----------
    project : str, optional
        ``-P`` project.
    queue : str, optional
        ``-q`` queue.
    request_by_nodes : bool
        ``-nnodes nodes_per_block`` (as on Summit); otherwise ``-n cores_per_block`` with
        ``-R "span[ptile=cores_per_node]"``.
    cores_per_block, cores_per_node : int, optional
        Used when ``request_by_nodes`` is False; both are then required.
    walltime : str
        ``HH:MM:SS``, rounded up to minutes for ``-W``.
    nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism
        As in :class:`~parsl_nb.providers.cluster_provider.ClusterProvider`.
    scheduler_options, worker_init, launcher, cmd_timeout, runner
        As in :class:`~parsl_nb.providers.cluster_provider.ClusterProvider`.

    Examples
    --------
    >>> provider = LSFProvider(project="ABC123", queue="batch", nodes_per_block=2)    # doctest: +SKIP
    """

    label = "lsf"
    template = "lsf.sh"

    def __init__(self, nodes_per_block: int = 1, cores_per_block: int | None = None,
                 cores_per_node: int | None = None, init_blocks: int = 1, min_blocks: int = 0, max_blocks: int = 1,
                 parallelism: float = 1, walltime: str = "00:10:00", scheduler_options: str = "",
                 worker_init: str = "", project: str | None = None, queue: str | None = None,
                 cmd_timeout: float = 120, request_by_nodes: bool = True, launcher: Launcher | None = None,
                 runner: CommandRunner | None = None) -> None:
        if not request_by_nodes and (cores_per_block is None or cores_per_node is None):
            msg = ("request_by_nodes=False needs cores_per_block and cores_per_node "
                   f"(got cores_per_block={cores_per_block}, cores_per_node={cores_per_node})")
            raise ValueError(msg)
        super().__init__(nodes_per_block=nodes_per_block, init_blocks=init_blocks, min_blocks=min_blocks,
                         max_blocks=max_blocks, parallelism=parallelism, walltime=walltime,
                         scheduler_options=scheduler_options, worker_init=worker_init,
                         launcher=launcher or SingleNodeLauncher(), cmd_timeout=cmd_timeout, runner=runner)
        self.project, self.queue = project, queue
        self.cores_per_block, self.cores_per_node = cores_per_block, cores_per_node
        self.request_by_nodes = request_by_nodes

    def _script_values(self, tasks_per_node: int) -> dict[str, object]:
        lines = option_lines([("#BSUB -q {}", self.queue), ("#BSUB -P {}", self.project)])
        if self.request_by_nodes:
            lines.append(f"#BSUB -nnodes {self.nodes_per_block}")
        else:
            lines += [f"#BSUB -n {self.cores_per_block}", f'#BSUB -R "span[ptile={self.cores_per_node}]"']
        return {"directives": "\n".join(lines), "walltime": walltime_minutes(self.walltime)}

    def _submit_args(self, script_path: str) -> list[str]:
        return ["bsub"]

    def _submit_input(self, script: str) -> str | None:
        return script

    def _parse_job_id(self, stdout: str) -> str | None:
        match = JOB_ID.search(stdout)
        return match.group("id") if match else None

    def _submit_hint(self, stderr: str) -> str:
        return submit_hint(stderr, SUBMIT_HINTS, "check the provider's options and scheduler_options (`#BSUB` lines)")

    def _status_args(self, job_ids: Sequence[str]) -> list[str]:
        return ["bjobs", "-noheader", "-o", "jobid stat", *job_ids]

    def _parse_status(self, result: CommandResult) -> Parsed | None:
        # bjobs exits 255 when any id is unknown, yet lists the others.
        if result.returncode != 0 and "is not found" not in result.stderr:
            return None
        return parse_bjobs(result.stdout)

    def _cancel_args(self, job_ids: Sequence[str]) -> list[str]:
        return ["bkill", *job_ids]

    def _cancel_ok(self, result: CommandResult) -> bool:
        text = (result.stdout + result.stderr).lower()
        return result.returncode == 0 or any(e in text for e in ENDED)
