"""HTCondor: ``condor_submit`` a submit description, ``condor_q -af:jr JobStatus``, ``condor_rm``."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from parsl_nb.launchers import Launcher, SingleNodeLauncher
from parsl_nb.providers.cluster_provider import ClusterProvider, Parsed, option_lines, submit_hint, write_script
from parsl_nb.providers.commands import CommandResult, CommandRunner
from parsl_nb.providers.scripts import load_template, render, walltime_seconds

__all__ = ["CondorProvider", "parse_condor_q"]

# JobStatus codes, https://htcondor.readthedocs.io/en/latest/classad-attributes/job-classad-attributes.html
STATES = {"1": "PENDING", "2": "RUNNING", "3": "CANCELLED", "4": "COMPLETED", "5": "HELD",
          "6": "RUNNING", "7": "HELD"}
CLUSTER = re.compile(r"submitted to cluster (?P<id>\d+)")
# words in condor_submit's complaint -> the option to check
SUBMIT_HINTS = (
    (("requirements",), "check the provider's requirements option"),
    (("memory", "cpus"), "check cores_per_slot and mem_per_slot"),
)


def parse_condor_q(stdout: str) -> Parsed:
    """``condor_q <ids> -af:jr JobStatus HoldReason`` lines -> {cluster id: (JobState name, message)}."""
    found: Parsed = {}
    for line in stdout.splitlines():
        parts = line.split(maxsplit=2)
        if len(parts) < 2 or not parts[0][:1].isdigit():
            continue
        hold = parts[2] if len(parts) > 2 and parts[2] != "undefined" else ""
        message = f"JobStatus {parts[1]}" + (f"; held: {hold}; fix it, then `condor_release`" if hold else "")
        found[parts[0].split(".")[0]] = (STATES.get(parts[1], "UNKNOWN"), message)
    return found


class CondorProvider(ClusterProvider):
    """Blocks as HTCondor jobs: a submit description plus an executable block script.

    Parameters
    ----------
    cores_per_slot : int, optional
        ``request_cpus``.
    mem_per_slot : float, optional
        Memory per slot in GB (``request_memory``, in MB).
    environment : dict, optional
        Environment of the block.
    project : str
        ``+ProjectName``.
    requirements : str
        ``requirements`` ClassAd expression.
    transfer_input_files : list of str
        Files sent with the job.
    walltime : str
        ``HH:MM:SS``; a running block is removed after it.
    nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism
        As in :class:`~parsl_nb.providers.cluster_provider.ClusterProvider`.
    scheduler_options, worker_init, launcher, cmd_timeout, runner
        As in :class:`~parsl_nb.providers.cluster_provider.ClusterProvider`.

    Examples
    --------
    >>> provider = CondorProvider(cores_per_slot=4, mem_per_slot=8, requirements='OpSysMajorVer == 9')  # doctest: +SKIP
    """

    label = "condor"
    template = "condor.sh"

    def __init__(self, nodes_per_block: int = 1, cores_per_slot: int | None = None,
                 mem_per_slot: float | None = None, init_blocks: int = 1, min_blocks: int = 0, max_blocks: int = 1,
                 parallelism: float = 1, environment: dict[str, str] | None = None, project: str = "",
                 scheduler_options: str = "", transfer_input_files: Sequence[str] = (),
                 walltime: str = "00:10:00", worker_init: str = "", launcher: Launcher | None = None,
                 requirements: str = "", cmd_timeout: float = 60, runner: CommandRunner | None = None) -> None:
        super().__init__(nodes_per_block=nodes_per_block, init_blocks=init_blocks, min_blocks=min_blocks,
                         max_blocks=max_blocks, parallelism=parallelism, walltime=walltime,
                         scheduler_options=scheduler_options, worker_init=worker_init,
                         launcher=launcher or SingleNodeLauncher(), cmd_timeout=cmd_timeout, runner=runner)
        self.cores_per_slot, self.mem_per_slot = cores_per_slot, mem_per_slot
        self.environment = dict(environment or {})
        self.project, self.requirements = project, requirements
        self.transfer_input_files = list(transfer_input_files)

    def _script_values(self, tasks_per_node: int) -> dict[str, object]:
        return {"directives": ""}

    def render_submit(self, script_path: str) -> str:
        """The submit description for the block script at ``script_path``."""
        base = script_path[:-3]
        lines = option_lines([("request_cpus = {}", self.cores_per_slot),
                              ("request_memory = {:.0f}", (self.mem_per_slot or 0) * 1024),  # GB -> whole MB
                              ('+ProjectName = "{}"', self.project),
                              ("requirements = {}", self.requirements),
                              ("transfer_input_files = {}", ", ".join(self.transfer_input_files))])
        env = " ".join(f"{k}='{v}'" for k, v in self.environment.items())
        values = {"job_name": os.path.basename(base), "submit_path": base + ".submit", "script_path": script_path,
                  "script_dir": os.path.dirname(script_path),
                  "stdout_path": base + ".stdout", "stderr_path": base + ".stderr", "log_path": base + ".log",
                  "environment": env, "walltime_seconds": walltime_seconds(self.walltime),
                  "directives": "\n".join(lines), "scheduler_options": self.scheduler_options}
        return render(load_template("condor.submit"), values)

    def _submit_args(self, script_path: str) -> list[str]:
        submit_path = script_path[:-3] + ".submit"
        write_script(submit_path, self.render_submit(script_path))
        return ["condor_submit", submit_path]

    def _parse_job_id(self, stdout: str) -> str | None:
        match = CLUSTER.search(stdout)
        return match.group("id") if match else None

    def _submit_hint(self, stderr: str) -> str:
        return submit_hint(stderr, SUBMIT_HINTS,
                           "check the provider's options and scheduler_options (submit description lines)")

    def _key(self, job_id: str) -> str:
        return job_id.split(".")[0]

    def _status_args(self, job_ids: Sequence[str]) -> list[str]:
        return ["condor_q", *job_ids, "-af:jr", "JobStatus", "HoldReason"]

    def _parse_status(self, result: CommandResult) -> Parsed | None:
        return parse_condor_q(result.stdout) if result.returncode == 0 else None

    def _cancel_args(self, job_ids: Sequence[str]) -> list[str]:
        return ["condor_rm", *job_ids]

    def _cancel_ok(self, result: CommandResult) -> bool:
        text = (result.stdout + result.stderr).lower()
        return result.returncode == 0 or "couldn't find" in text or "already" in text
