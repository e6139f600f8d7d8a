"""Parsl's ``parsl.data_provider.http``: see :mod:`parsl_nb.data.staging`."""

from ..data.staging.http import HTTPInTaskStaging, HTTPSeparateTaskStaging

__all__ = ["HTTPInTaskStaging", "HTTPSeparateTaskStaging"]
