"""Parsl's ``parsl.data_provider.file_noop``: see :mod:`parsl_nb.data.staging`."""

from ..data.staging.noop import NoOpFileStaging

__all__ = ["NoOpFileStaging"]
