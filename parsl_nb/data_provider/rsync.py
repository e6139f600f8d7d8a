"""Parsl's ``parsl.data_provider.rsync``: see :mod:`parsl_nb.data.staging`."""

from ..data.staging.rsync import RSyncStaging

__all__ = ["RSyncStaging"]
