"""The Jupyter surface: magics, rich displays, kernel lifecycle and tracebacks.

``%load_ext parsl_nb`` calls :func:`load_ipython_extension`. The functions
behind the magics are in :mod:`parsl_nb.jupyter.control`, for scripts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics, the shutdown hooks, the task traceback renderer and the lab panel's comm target.

    Parameters
    ----------
    ipython : InteractiveShell
        The shell (``get_ipython()``).

    Examples
    --------
    In a notebook cell::

        %load_ext parsl_nb
        %parsl_load threads
    """
    from . import lifecycle, panel_comm, tracebacks
    from .magics import ParslMagics
    from .widget_magics import WidgetMagics

    ipython.register_magics(ParslMagics)
    ipython.register_magics(WidgetMagics)
    lifecycle.install(ipython)
    tracebacks.install(ipython)
    panel_comm.register(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Stop rendering task tracebacks specially (``%unload_ext parsl_nb``); magics stay."""
    from . import tracebacks

    tracebacks.uninstall(ipython)
