"""``%parsl_dag`` and ``%parsl_progress``: show the live widgets of :mod:`parsl_nb.widgets`."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from .magics import _as_usage, _parse, _Parser, _parser, _user_ns

__all__ = ["WidgetMagics"]


def _dag_parser() -> _Parser:
    p = _parser("%parsl_dag", "Show the live task graph of the loaded kernel, or of the tasks behind futures.",
                usage="%(prog)s [--nodes | --groups] [--threshold N] [--height PX] [EXPRESSION]")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--nodes", dest="view", action="store_const", const="nodes", help="always one node per task")
    mode.add_argument("--groups", dest="view", action="store_const", const="groups", help="always grouped by app")
    p.add_argument("--threshold", type=int, default=2000, help="group by app above this many tasks (default 2000)")
    p.add_argument("--height", type=int, default=420, help="height in pixels (default 420)")
    p.add_argument("source", nargs="*", help="a future, a list of futures or a kernel (Python expression)")
    return p


def _progress_parser() -> _Parser:
    p = _parser("%parsl_progress", "Show live progress bars per app.", usage="%(prog)s [EXPRESSION]")
    p.add_argument("source", nargs="*", help="a future, a list of futures or a kernel (Python expression)")
    return p


def _source(words: list[str], ns: dict[str, Any]) -> Any:
    if not words:
        return None
    expression = " ".join(words)
    try:
        return eval(expression, ns)  # noqa: S307 - the user's own expression, as %timeit does
    except Exception as e:
        raise UsageError(f"cannot evaluate {expression!r}: {type(e).__name__}: {e}") from None


@magics_class
class WidgetMagics(Magics):
    """``%parsl_dag`` and ``%parsl_progress`` (registered by ``%load_ext parsl_nb``)."""

    @line_magic
    def parsl_dag(self, line: str) -> Any:
        """Live task graph: ``%parsl_dag [--nodes|--groups] [--threshold N] [EXPR]``.

        The widget is displayed with a display id (its saved picture is refreshed
        when the tasks finish); use ``DagWidget(...)`` to keep a handle on it.
        """
        args = _parse(_dag_parser, line)
        if args is None:
            return None
        from ..widgets import DagWidget

        source = _source(args.source, _user_ns(self))
        with _as_usage():
            widget = DagWidget(source, view=args.view or "auto", threshold=args.threshold, height=args.height)
        widget.show()
        return None

    @line_magic
    def parsl_progress(self, line: str) -> Any:
        """Live progress bars: ``%parsl_progress [EXPR]``."""
        args = _parse(_progress_parser, line)
        if args is None:
            return None
        from ..widgets import ProgressWidget

        source = _source(args.source, _user_ns(self))
        with _as_usage():
            return ProgressWidget(source)
