"""Staging: moving files of remote URLs in and out, as tasks in the graph.

Each executor takes a list of providers as ``storage_access=[...]`` (Parsl's
name); None means :func:`default_staging` (every provider below). A File in
an app's arguments or ``inputs=`` whose URL is remote gets a ``stage_in`` task
that the app waits for; the app receives the local copy as ``file.filepath``.
A remote File in ``outputs=`` is written locally by the app and sent by a
``stage_out`` task; the app's DataFuture for it resolves after that task.
"""

from __future__ import annotations

from .base import StageTask, Staging, task_kind
from .defaults import default_staging
from .ftp import FTPInTaskStaging, FTPSeparateTaskStaging
from .http import HTTPInTaskStaging, HTTPSeparateTaskStaging
from .manager import DataManager
from .noop import NoOpFileStaging
from .rsync import RSyncStaging
from .zip import ZipFileStaging

__all__ = [
    "DataManager",
    "FTPInTaskStaging",
    "FTPSeparateTaskStaging",
    "HTTPInTaskStaging",
    "HTTPSeparateTaskStaging",
    "NoOpFileStaging",
    "RSyncStaging",
    "StageTask",
    "Staging",
    "ZipFileStaging",
    "default_staging",
    "task_kind",
]
