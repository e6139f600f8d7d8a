"""Parsl's ``parsl.executors.errors``: the executor errors, under Parsl's module path."""

from ..errors import ExecutorError, InvalidResourceSpecification, UnsupportedFeatureError

__all__ = ["ExecutorError", "InvalidResourceSpecification", "UnsupportedFeatureError"]
