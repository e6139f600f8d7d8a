"""Providers: how blocks of engines get resources (local processes, batch schedulers)."""

from .base import ExecutionProvider, JobState, JobStatus
from .local import LocalProvider

__all__ = ["ExecutionProvider", "JobState", "JobStatus", "LocalProvider"]
