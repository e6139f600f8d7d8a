"""The IPython magics: ``%%parsl_app`` and ``%parsl_load/status/tasks/cancel/scale/clear``.

Every magic parses its line with a real argument parser; a bad line raises
IPython's ``UsageError`` (shown as a short message, no traceback), and errors
from the control functions are shown the same way, so no magic prints a
traceback into parsl_nb.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display

from ..errors import ConfigError, NoDataFlowKernelError
from . import cellapp, control

__all__ = ["ParslMagics"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}\n\n{self.format_help()}")


def _parser(prog: str, description: str, usage: str | None = None) -> _Parser:
    p = _Parser(prog=prog, description=description, usage=usage, add_help=False)
    p.add_argument("-h", "--help", action="store_true", help="show this help")
    return p


def _add_running_flags(p: _Parser, tasks: str) -> None:
    """``--cancel`` (the default) or ``--wait``: what becomes of ``tasks`` when a kernel shuts down."""
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--cancel", dest="running", action="store_const", const="cancel",
                      help=f"cancel {tasks} (default)")
    mode.add_argument("--wait", dest="running", action="store_const", const="wait", help=f"wait for {tasks}")


def _load_parser() -> _Parser:
    p = _parser("%parsl_load", "Load a kernel from a preset (threads, local) or an expression giving a Config; "
                "a kernel loaded before is shut down first.",
                usage="%(prog)s [threads | local | EXPRESSION] [--cancel | --wait]")
    _add_running_flags(p, "the previous kernel's unfinished tasks")
    return p


# flags are cut out of the line; the rest is the preset or expression, verbatim
_LOAD_FLAGS = re.compile(r"(?<!\S)(--cancel|--wait|--help|-h)(?!\S)")


def _tasks_parser() -> _Parser:
    p = _parser("%parsl_tasks", "List tasks of the loaded kernel.")
    p.add_argument("--state", help="state(s), comma-separated: pending, running, failed, exec_done, ...")
    p.add_argument("--app", help="only tasks of this app")
    return p


def _cancel_parser() -> _Parser:
    p = _parser("%parsl_cancel", "Cancel a task id, the unfinished tasks of an app, or all.")
    p.add_argument("target", help="a task id, an app name, or 'all'")
    return p


def _scale_parser() -> _Parser:
    p = _parser("%parsl_scale", "Add (+N) or remove (-N) blocks of engines.")
    p.add_argument("blocks", help="+N or -N")
    p.add_argument("--executor", help="executor label, if several have blocks")
    return p


def _clear_parser() -> _Parser:
    p = _parser("%parsl_clear", "Shut down the loaded kernel.")
    _add_running_flags(p, "unfinished tasks")
    return p


def _parse(factory: Callable[[], _Parser], line: str) -> argparse.Namespace | None:
    parser = factory()
    try:
        words = shlex.split(line)
    except ValueError as e:
        raise UsageError(f"{parser.prog}: cannot split the line ({e})\n\n{parser.format_help()}") from None
    args = parser.parse_args(words)
    if args.help:
        print(parser.format_help())
        return None
    return args


@contextmanager
def _as_usage() -> Iterator[None]:
    """Show errors a user can fix as a short message, not a traceback into parsl_nb."""
    try:
        yield
    except (ValueError, ConfigError, NoDataFlowKernelError, cellapp.MagicUsageError) as e:
        raise UsageError(str(e)) from None


def _user_ns(magics: Magics) -> dict[str, Any]:
    shell: Any = magics.shell
    return shell.user_ns if shell is not None else {}


@magics_class
class ParslMagics(Magics):
    """``%%parsl_app`` and the ``%parsl_*`` line magics (``%load_ext parsl_nb``)."""

    @cell_magic
    def parsl_app(self, line: str, cell: str) -> None:
        """Make the cell an app: ``%%parsl_app [--bash|--join] [--cache] NAME(signature)``."""
        with _as_usage():
            spec = cellapp.parse_line(line)
        shell: Any = self.shell
        number = int(getattr(shell, "execution_count", 0) or 0)

        def store(source: str) -> str:
            name: str = shell.compile.cache(source, number)
            return name

        cellapp.build_app(spec, cell, shell.user_ns, store, location=f"Cell In[{number}]")

    @line_magic
    def parsl_load(self, line: str) -> Any:
        """Load a kernel: ``%parsl_load [threads|local|EXPR] [--cancel|--wait]``."""
        flags = _LOAD_FLAGS.findall(line)
        args = _parse(_load_parser, " ".join(flags))
        if args is None:
            return None
        expression = _LOAD_FLAGS.sub(" ", line).strip() or "threads"
        with _as_usage():
            result = control.load(expression, args.running or "cancel", _user_ns(self))
        print(result.message)
        return result.dfk

    @line_magic
    def parsl_status(self, line: str) -> Any:
        """Show executors, blocks, engines and task counts by state and app."""
        if _parse(lambda: _parser("%parsl_status", "Show the loaded kernel."), line) is None:
            return None
        with _as_usage():
            display(control.status())

    @line_magic
    def parsl_tasks(self, line: str) -> Any:
        """List tasks: ``%parsl_tasks [--state S[,S]] [--app NAME]``."""
        args = _parse(_tasks_parser, line)
        if args is None:
            return None
        with _as_usage():
            display(control.tasks(state=args.state, app=args.app))

    @line_magic
    def parsl_cancel(self, line: str) -> None:
        """Cancel tasks: ``%parsl_cancel TID|APP|all``."""
        args = _parse(_cancel_parser, line)
        if args is not None:
            with _as_usage():
                print(control.cancel(args.target))

    @line_magic
    def parsl_scale(self, line: str) -> None:
        """Scale blocks: ``%parsl_scale +N|-N [--executor LABEL]``."""
        args = _parse(_scale_parser, line)
        if args is not None:
            with _as_usage():
                print(control.scale(args.blocks, args.executor))

    @line_magic
    def parsl_clear(self, line: str) -> None:
        """Shut down the loaded kernel: ``%parsl_clear [--cancel|--wait]``."""
        args = _parse(_clear_parser, line)
        if args is not None:
            with _as_usage():
                print(control.clear(args.running or "cancel"))
