"""parsl_nb: Parsl-style apps, futures and a live task graph, in a notebook.

``import parsl_nb as parsl`` runs ordinary Parsl scripts.
"""

from __future__ import annotations

from typing import Any

from .apps import AUTO_LOGNAME, bash_app, join_app, python_app
from .config import Config
from .data.files import File
from .dataflow.kernel import DataFlowKernel
from .dataflow.loader import DataFlowKernelLoader, clear, dfk, load, wait_for_current_tasks
from .dataflow.states import TaskState
from .executors.threads import ThreadPoolExecutor
from .futures import AppFuture, DataFuture
from .log_utils import set_file_logger, set_stream_logger
from .monitoring.reader import runs
from .version import VERSION

__version__ = VERSION

__all__ = [
    "AUTO_LOGNAME",
    "AppFuture",
    "Config",
    "DataFlowKernel",
    "DataFlowKernelLoader",
    "DataFuture",
    "File",
    "HighThroughputExecutor",
    "TaskState",
    "ThreadPoolExecutor",
    "bash_app",
    "clear",
    "dfk",
    "join_app",
    "load",
    "load_ipython_extension",
    "python_app",
    "runs",
    "set_file_logger",
    "set_stream_logger",
    "wait_for_current_tasks",
]


def __getattr__(name: str) -> Any:
    # The engine executor needs ipyparallel: import it only when asked for.
    if name in ("HighThroughputExecutor", "EngineExecutor"):
        from . import executors

        return getattr(executors, name)
    if name == "MonitoringHub":  # Parsl's parsl.MonitoringHub
        from .monitoring import MonitoringHub

        return MonitoringHub
    raise AttributeError(f"module 'parsl_nb' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%%parsl_app`` and ``%parsl_*`` magics (``%load_ext parsl_nb``)."""
    from .jupyter import load_ipython_extension as _load

    _load(ipython)
