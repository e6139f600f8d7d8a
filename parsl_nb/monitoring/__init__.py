"""Monitoring: each run's tasks, tries, transitions and blocks in ``<run_dir>/monitoring.db``.

On by default (``Config(monitoring=False)`` turns it off);
``Config(monitoring=MonitoringOptions(resource_interval=5))`` (or Parsl's
``MonitoringHub``) adds resource samples from engines. Read past runs
with :func:`runs`; ``parsl-nb runs`` and ``parsl-nb show RUN`` print them.
"""

from .options import MonitoringHub, MonitoringOptions
from .reader import AppSummary, BlockInfo, ResourceSample, Run, StateChange, TaskInfo, TryInfo, runs
from .store import MonitoringStore, open_store

__all__ = ["AppSummary", "BlockInfo", "MonitoringHub", "MonitoringOptions", "MonitoringStore", "ResourceSample",
           "Run", "StateChange", "TaskInfo", "TryInfo", "open_store", "runs"]
