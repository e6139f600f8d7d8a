"""Parsl's ``parsl.data_provider.ftp``: see :mod:`parsl_nb.data.staging`."""

from ..data.staging.ftp import FTPInTaskStaging, FTPSeparateTaskStaging

__all__ = ["FTPInTaskStaging", "FTPSeparateTaskStaging"]
