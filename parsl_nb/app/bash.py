"""Parsl's ``parsl.app.bash``: :class:`BashApp` (see :mod:`parsl_nb.apps.bash`)."""

from ..apps.bash import BashApp

__all__ = ["BashApp"]
