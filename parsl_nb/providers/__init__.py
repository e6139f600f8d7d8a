"""Providers: how blocks of engines get resources (local processes, batch schedulers).

The names follow Parsl's ``parsl.providers``.
"""

from . import _parsl_paths  # noqa: F401  (Parsl paths such as parsl_nb.providers.slurm.slurm)
from .base import ExecutionProvider, JobState, JobStatus
from .cluster_provider import ClusterProvider
from .commands import CommandFailed, SubmitError
from .condor import CondorProvider
from .gridengine import GridEngineProvider
from .local import LocalProvider
from .lsf import LSFProvider
from .pbspro import PBSProProvider
from .slurm import SlurmProvider
from .torque import TorqueProvider

__all__ = [
    "ClusterProvider",
    "CommandFailed",
    "CondorProvider",
    "ExecutionProvider",
    "GridEngineProvider",
    "JobState",
    "JobStatus",
    "LSFProvider",
    "LocalProvider",
    "PBSProProvider",
    "SlurmProvider",
    "SubmitError",
    "TorqueProvider",
]
