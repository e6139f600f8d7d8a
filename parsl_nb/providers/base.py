"""The provider interface: how blocks of engines become jobs (Parsl's three calls)."""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ExecutionProvider", "JobState", "JobStatus"]


class JobState(enum.Enum):
    """The state of one provider job, mapped from each scheduler's vocabulary."""

    UNKNOWN = "unknown"
    PENDING = "pending"
    RUNNING = "running"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    HELD = "held"
    MISSING = "missing"

    @property
    def terminal(self) -> bool:
        """True once the job can never run again."""
        return self in _TERMINAL


_TERMINAL = {JobState.CANCELLED, JobState.COMPLETED, JobState.FAILED, JobState.TIMEOUT, JobState.MISSING}


@dataclass(frozen=True, slots=True)
class JobStatus:
    """What a provider knows of one job.

    ``message`` carries the scheduler's own words (or the tail of the job's
    stderr when it failed); ``stderr_path`` names the file to read for more.
    """

    state: JobState
    message: str = ""
    exit_code: int | None = None
    stdout_path: str | None = None
    stderr_path: str | None = None

    @property
    def terminal(self) -> bool:
        """True once the job can never run again."""
        return self.state.terminal


class ExecutionProvider(abc.ABC):
    """Base class of providers: submit a block's command, ask status, cancel.

    Block-count options live here, as in Parsl: ``init_blocks``,
    ``min_blocks``, ``max_blocks``, ``nodes_per_block``, ``parallelism`` and
    ``worker_init`` (shell lines run before the block's command).
    """

    label: str = "provider"
    script_dir: str = "."
    init_blocks: int = 1
    min_blocks: int = 0
    max_blocks: int = 1
    nodes_per_block: int = 1
    parallelism: float = 1.0
    worker_init: str = ""
    launcher: object | None = None

    @abc.abstractmethod
    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl_nb.block") -> str:
        """Start a job running ``command`` (wrapped by the launcher); return its id."""

    @abc.abstractmethod
    def status(self, job_ids: Sequence[str]) -> list[JobStatus]:
        """Status of each job, in the order of ``job_ids`` (one scheduler call)."""

    @abc.abstractmethod
    def cancel(self, job_ids: Sequence[str]) -> list[bool]:
        """Cancel jobs; cancelling a finished job is not an error (returns True)."""

    @property
    def status_polling_interval(self) -> float:
        """Seconds between status calls the executor should make."""
        return 1.0
