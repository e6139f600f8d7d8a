"""Parsl's ``parsl.data_provider.zip``: see :mod:`parsl_nb.data.staging`."""

from ..data.staging.zip import ZipFileStaging

__all__ = ["ZipFileStaging"]
