"""Monitoring: each run's tasks, tries, transitions and blocks in ``<run_dir>/monitoring.db``.

On by default (``Config(monitoring=False)`` turns it off). Read past runs
with :func:`runs`; ``parsl-nb runs`` and ``parsl-nb show RUN`` print them.
"""

from .reader import AppSummary, BlockInfo, Run, StateChange, TaskInfo, TryInfo, runs
from .store import MonitoringStore, open_store

__all__ = ["AppSummary", "BlockInfo", "MonitoringStore", "Run", "StateChange", "TaskInfo", "TryInfo",
           "open_store", "runs"]
