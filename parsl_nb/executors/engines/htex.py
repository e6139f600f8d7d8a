"""``HighThroughputExecutor``: Parsl's name and arguments, run by :class:`EngineExecutor`."""

from __future__ import annotations

import logging
import math
import os
from typing import Any

from ...providers.base import ExecutionProvider
from .executor import EngineExecutor

__all__ = ["HighThroughputExecutor"]

logger = logging.getLogger(__name__)

_IGNORED = ("launch_cmd", "interchange_launch_cmd", "worker_ports", "worker_port_range",
            "interchange_port_range", "storage_access", "working_dir", "worker_debug", "mem_per_worker",
            "cpu_affinity", "available_accelerators", "prefetch_capacity", "heartbeat_threshold",
            "heartbeat_period", "poll_period", "address_probe_timeout", "worker_logdir_root",
            "encrypted", "block_error_handler", "drain_period", "manager_selector", "loopback_address",
            "max_workers", "enable_mpi_mode", "mpi_launcher", "radio_mode")


class HighThroughputExecutor(EngineExecutor):
    """Parsl's ``HighThroughputExecutor`` arguments on ipyparallel engines.

    ``max_workers_per_node`` (or ``max_workers``) becomes ``engines_per_node``;
    without it, as in Parsl, ``cores_per_worker`` divides this machine's cores.
    Options about HTEX's own interchange and worker pools do not apply; they
    are accepted, and each one given is logged once as ignored.

    Parameters
    ----------
    label : str
        Name used in ``executors=[...]`` of apps.
    provider : ExecutionProvider, optional
        Where blocks run; default ``LocalProvider()``.
    address : str, optional
        Interface engines connect to; default loopback.
    max_workers_per_node : int, optional
        Engines per node.
    cores_per_worker : float
        Cores per engine when ``max_workers_per_node`` is not given.
    **kwargs
        Parsl's other options, accepted and ignored (see above).

    Examples
    --------
    >>> from parsl_nb.executors import HighThroughputExecutor
    >>> htex = HighThroughputExecutor(label="htex", max_workers_per_node=2)
    """

    def __init__(self, label: str = "HighThroughputExecutor", provider: ExecutionProvider | None = None,
                 address: str | None = None, max_workers_per_node: int | None = None,
                 cores_per_worker: float = 1.0, **kwargs: Any) -> None:
        max_workers = kwargs.get("max_workers")
        workers = max_workers_per_node or max_workers or _from_cores(cores_per_worker)
        for name in kwargs:
            if name not in _IGNORED:
                raise TypeError(f"HighThroughputExecutor got an unknown argument {name!r}; "
                                f"check its spelling against Parsl's HighThroughputExecutor")
            if name != "max_workers":
                logger.info("HighThroughputExecutor: %s does not apply to engines and is ignored", name)
        super().__init__(label=label, provider=provider, engines_per_node=int(workers), address=address)
        self.max_workers_per_node = int(workers)
        self.cores_per_worker = cores_per_worker


def _from_cores(cores_per_worker: float) -> int:
    cores = os.cpu_count() or 1
    return max(1, math.floor(cores / cores_per_worker))
