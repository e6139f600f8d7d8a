"""Parsl's ``parsl.data_provider.staging``: see :mod:`parsl_nb.data.staging`."""

from ..data.staging.base import Staging

__all__ = ["Staging"]
