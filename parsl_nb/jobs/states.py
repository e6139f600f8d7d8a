"""Parsl's ``parsl.jobs.states``: the states of a provider's job, for custom providers."""

from ..providers.base import JobState, JobStatus

__all__ = ["JobState", "JobStatus"]
