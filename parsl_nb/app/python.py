"""Parsl's ``parsl.app.python``: :class:`PythonApp` (see :mod:`parsl_nb.apps.python`)."""

from ..apps.python import PythonApp

__all__ = ["PythonApp"]
