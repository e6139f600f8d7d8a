"""Live widgets for a running workflow: the task graph, progress bars and single futures.

Importing this package is cheap: anywidget is imported when a widget class is
first used.

Examples
--------
>>> from parsl_nb.widgets import DagWidget, ProgressWidget   # doctest: +SKIP
>>> DagWidget()        # the loaded kernel's task graph, live
>>> ProgressWidget()   # one bar per app
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._dag import DagWidget
    from ._progress import FutureWidget, ProgressWidget

__all__ = ["DagWidget", "FutureWidget", "ProgressWidget"]


def __getattr__(name: str) -> Any:
    if name == "DagWidget":
        from ._dag import DagWidget

        return DagWidget
    if name in ("ProgressWidget", "FutureWidget"):
        from . import _progress

        return getattr(_progress, name)
    raise AttributeError(f"module 'parsl_nb.widgets' has no attribute {name!r}")
