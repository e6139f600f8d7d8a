"""The providers an executor uses when its ``storage_access`` is None."""

from __future__ import annotations

from .base import Staging
from .ftp import FTPSeparateTaskStaging
from .http import HTTPSeparateTaskStaging
from .noop import NoOpFileStaging
from .rsync import RSyncStaging
from .zip import ZipFileStaging

__all__ = ["default_staging"]


def default_staging() -> list[Staging]:
    """One of each provider: ``file``, ``http(s)``, ``ftp``, ``rsync`` and ``zip`` URLs.

    Examples
    --------
    >>> from parsl_nb.executors import ThreadPoolExecutor
    >>> ex = ThreadPoolExecutor(storage_access=[*default_staging()])
    """
    return [NoOpFileStaging(), HTTPSeparateTaskStaging(), FTPSeparateTaskStaging(), RSyncStaging(),
            ZipFileStaging()]
