"""Parsl's ``parsl.dataflow.errors``: dependency and join errors, from :mod:`parsl_nb.errors`."""

from ..errors import (
    BadCheckpoint,
    ConfigurationError,
    DataFlowException,
    DependencyError,
    JoinError,
    ParslError,
    PropagatedException,
)

__all__ = ["BadCheckpoint", "ConfigurationError", "DataFlowException", "DependencyError", "JoinError",
           "ParslError", "PropagatedException"]
