"""Parsl's ``parsl.version``: the package version as ``VERSION``."""

VERSION = "0.1.0"
"""The version of parsl_nb (also ``parsl_nb.__version__``)."""

__all__ = ["VERSION"]
