"""Parsl's ``parsl.data_provider.data_manager``: ``DataManager`` and ``default_staging``."""

from ..data.staging.defaults import default_staging as _default_staging
from ..data.staging.manager import DataManager

__all__ = ["DataManager", "default_staging"]

default_staging = _default_staging()
"""Parsl's list of default providers, for configs that write ``default_staging + [...]``."""
