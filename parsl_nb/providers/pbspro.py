"""PBS Pro / OpenPBS: ``qsub`` with a ``select`` statement, ``qstat -x -f -F json``, ``qdel``."""

from __future__ import annotations

import json
from collections.abc import Sequence

from parsl_nb.launchers import Launcher
from parsl_nb.providers.cluster_provider import Parsed
from parsl_nb.providers.commands import CommandResult, CommandRunner
from parsl_nb.providers.scripts import hhmmss
from parsl_nb.providers.torque import PBS_STATES, TorqueProvider, short_id

__all__ = ["PBSProProvider", "parse_qstat_json"]

KILLED_BY_WALLTIME = -29  # PBS Pro's JOB_EXEC_KILL_WALLTIME
KILLED_BY_SIGNAL = 256  # Exit_status 256 + n: the job was killed by signal n (qdel sends SIGTERM)


def finished_state(exit_status: int | None) -> str:
    """JobState name of a finished (F) job from its Exit_status."""
    if exit_status is None or exit_status == 0:
        return "COMPLETED"
    if exit_status == KILLED_BY_WALLTIME:
        return "TIMEOUT"
    if exit_status > KILLED_BY_SIGNAL:
        return "CANCELLED"
    return "FAILED"


def parse_qstat_json(stdout: str) -> Parsed | None:
    """``qstat -x -f -F json <ids>`` -> {numeric id: (JobState name, message)}; None if not JSON."""
    try:
        jobs = json.loads(stdout or "{}").get("Jobs", {})
    except json.JSONDecodeError:
        return None
    found: Parsed = {}
    for job_id, attrs in jobs.items():
        code = attrs.get("job_state", "")
        exit_status = attrs.get("Exit_status")
        name = finished_state(exit_status) if code == "F" else PBS_STATES.get(code, "UNKNOWN")
        details = [f"qstat state {code}"]
        if exit_status not in (None, 0):
            details.append(f"Exit_status {exit_status}")
        if attrs.get("comment"):
            details.append(str(attrs["comment"]))
        found[short_id(job_id)] = (name, "; ".join(details))
    return found


class PBSProProvider(TorqueProvider):
    """Blocks as PBS Pro jobs (``-l select=N:ncpus=cpus_per_node``).

    Parameters
    ----------
    account : str, optional
        ``-A`` account (project to charge).
    queue : str, optional
        ``-q`` queue.
    select_options : str
        Added to the select statement, e.g. ``"mem=64gb:ngpus=1"``.
    cpus_per_node : int
        ``ncpus`` per chunk (node).
    nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism
        As in :class:`~parsl_nb.providers.torque.TorqueProvider`.
    scheduler_options, worker_init, launcher, walltime, cmd_timeout, runner
        As in :class:`~parsl_nb.providers.torque.TorqueProvider`.

    Examples
    --------
    >>> provider = PBSProProvider(queue="debug", cpus_per_node=32, select_options="mem=64gb")  # doctest: +SKIP
    """

    label = "pbspro"
    template = "pbspro.sh"

    def __init__(self, account: str | None = None, queue: str | None = None, scheduler_options: str = "",
                 select_options: str = "", worker_init: str = "", nodes_per_block: int = 1,
                 cpus_per_node: int = 1, init_blocks: int = 1, min_blocks: int = 0, max_blocks: int = 1,
                 parallelism: float = 1, launcher: Launcher | None = None, walltime: str = "00:20:00",
                 cmd_timeout: float = 120, runner: CommandRunner | None = None) -> None:
        super().__init__(account=account, queue=queue, scheduler_options=scheduler_options,
                         worker_init=worker_init, nodes_per_block=nodes_per_block, init_blocks=init_blocks,
                         min_blocks=min_blocks, max_blocks=max_blocks, parallelism=parallelism,
                         launcher=launcher, walltime=walltime, cmd_timeout=cmd_timeout, runner=runner)
        self.select_options = select_options
        self.cpus_per_node = cpus_per_node

    def _script_values(self, tasks_per_node: int) -> dict[str, object]:
        extra = self.select_options.strip()
        return {"directives": "\n".join(self._directives()), "walltime": hhmmss(self.walltime),
                "cpus_per_node": self.cpus_per_node, "select_options": f":{extra.lstrip(':')}" if extra else ""}

    def _status_args(self, job_ids: Sequence[str]) -> list[str]:
        # -x includes finished jobs (state F, with Exit_status) for the server's job history.
        return ["qstat", "-x", "-f", "-F", "json", *job_ids]

    def _parse_status(self, result: CommandResult) -> Parsed | None:
        if result.returncode != 0 and "unknown job id" not in result.stderr.lower():
            return None
        return parse_qstat_json(result.stdout)
