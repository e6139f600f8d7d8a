"""Parsl's ``parsl.dataflow.errors``: dependency and join errors, from :mod:`parsl_nb.errors`."""

from ..errors import ConfigurationError, DependencyError, JoinError

__all__ = ["ConfigurationError", "DependencyError", "JoinError"]
