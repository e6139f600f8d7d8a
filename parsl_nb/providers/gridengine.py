"""Grid Engine (SGE, Son of Grid Engine, Open Grid Scheduler): ``qsub``, ``qstat``, ``qdel``."""

from __future__ import annotations

from collections.abc import Sequence

from parsl_nb.launchers import Launcher, SingleNodeLauncher
from parsl_nb.providers.cluster_provider import ClusterProvider, Parsed, submit_hint
from parsl_nb.providers.commands import CommandResult, CommandRunner
from parsl_nb.providers.scripts import hhmmss

__all__ = ["GridEngineProvider", "parse_qstat", "state_of"]


# words in qsub's complaint -> the option to check
SUBMIT_HINTS = (
    (("queue",), "check the provider's queue option against `qconf -sql`"),
    (("h_rt", "resource"), "check walltime and the resources in scheduler_options against `qconf -sq <queue>`"),
)


def state_of(code: str) -> str:
    """A qstat state code (``qw``, ``r``, ``Eqw``, ``dr``, ``hqw``, ...) -> JobState name."""
    if "E" in code:
        return "FAILED"  # error state: the job will not run until someone clears it
    if "d" in code:
        return "CANCELLED"  # being deleted
    if "h" in code or "s" in code or "S" in code or "T" in code:
        return "HELD"  # held or suspended
    if "r" in code or "t" in code or "R" in code:
        return "RUNNING"  # running, transferring to the host, restarted
    if "q" in code or "w" in code:
        return "PENDING"
    return "UNKNOWN"


def parse_qstat(stdout: str) -> Parsed:
    """Plain ``qstat`` lines (after its two header lines) -> {job id: (JobState name, message)}."""
    found: Parsed = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) < 5 or not parts[0].isdigit():
            continue
        code = parts[4]
        name = state_of(code)
        message = f"qstat state {code}" + ("; see `qstat -j <id>` for the error and `qmod -cj` to clear it"
                                           if name == "FAILED" else "")
        found[parts[0]] = (name, message)
    return found


class GridEngineProvider(ClusterProvider):
    """Blocks as Grid Engine jobs, submitted with ``qsub``.

    Parameters
    ----------
    queue : str, optional
        ``-q`` queue; the cluster's default when None.
    nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism
        As in Parsl; Grid Engine blocks span one host unless ``scheduler_options`` asks
        for a parallel environment (``#$ -pe <name> <slots>``).
    walltime : str
        ``HH:MM:SS``, as ``-l h_rt``.
    scheduler_options : str
        Extra ``#$`` lines, verbatim.
    worker_init : str
        Shell lines run before the engines start.
    launcher : Launcher
        Default :class:`~parsl_nb.launchers.SingleNodeLauncher`.
    cmd_timeout : float
        Seconds to wait for each ``qsub``/``qstat``/``qdel``.
    runner : CommandRunner, optional
        Runs those commands (tests pass a fake).

    Examples
    --------
    >>> provider = GridEngineProvider(queue="all.q", walltime="01:00:00")   # doctest: +SKIP
    """

    label = "gridengine"
    template = "gridengine.sh"

    def __init__(self, nodes_per_block: int = 1, init_blocks: int = 1, min_blocks: int = 0, max_blocks: int = 1,
                 parallelism: float = 1, walltime: str = "00:10:00", scheduler_options: str = "",
                 worker_init: str = "", launcher: Launcher | None = None, cmd_timeout: float = 60,
                 queue: str | None = None, runner: CommandRunner | None = None) -> None:
        super().__init__(nodes_per_block=nodes_per_block, init_blocks=init_blocks, min_blocks=min_blocks,
                         max_blocks=max_blocks, parallelism=parallelism, walltime=walltime,
                         scheduler_options=scheduler_options, worker_init=worker_init,
                         launcher=launcher or SingleNodeLauncher(), cmd_timeout=cmd_timeout, runner=runner)
        self.queue = queue

    def _script_values(self, tasks_per_node: int) -> dict[str, object]:
        return {"directives": f"#$ -q {self.queue}" if self.queue else "", "walltime": hhmmss(self.walltime)}

    def _submit_args(self, script_path: str) -> list[str]:
        return ["qsub", "-terse", script_path]

    def _parse_job_id(self, stdout: str) -> str | None:
        first = stdout.strip().split("\n")[0].strip() if stdout.strip() else ""
        job_id = first.split(".")[0]  # array jobs print 12.1-4:1
        return job_id if job_id.isdigit() else None

    def _submit_hint(self, stderr: str) -> str:
        return submit_hint(stderr, SUBMIT_HINTS, "check the provider's options and scheduler_options (`#$` lines)")

    def _status_args(self, job_ids: Sequence[str]) -> list[str]:
        # qstat lists all of the user's jobs in one call; it takes no list of ids.
        return ["qstat"]

    def _parse_status(self, result: CommandResult) -> Parsed | None:
        return parse_qstat(result.stdout) if result.returncode == 0 else None

    def _cancel_args(self, job_ids: Sequence[str]) -> list[str]:
        return ["qdel", *job_ids]

    def _cancel_ok(self, result: CommandResult) -> bool:
        text = (result.stdout + result.stderr).lower()
        return result.returncode == 0 or "does not exist" in text or "already in deletion" in text
