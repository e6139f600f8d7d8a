"""``%%parsl_app``: parse the magic line and build an app from the cell body.

A python or join cell is the body of a function whose signature is on the
magic line; it is compiled so that tracebacks and syntax errors point at the
cell's own lines. A bash cell is a command template, formatted with the call's
arguments by ``str.format(**bound_arguments)``.
"""

from __future__ import annotations

import argparse
import ast
import io
import linecache
import re
import shlex
import textwrap
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ..errors import AppBadFormatting

__all__ = ["CellAppSpec", "CellSyntaxError", "MagicUsageError", "build_app", "format_command", "parse_line"]

_INDENT = "    "
_NAME_PAREN = re.compile(r"(?:^|(?<=\s))([A-Za-z_]\w*)\s*\(")


class MagicUsageError(ValueError):
    """A magic line that does not parse; the message holds the usage text."""


class CellSyntaxError(Exception):
    """A syntax error in a ``%%parsl_app`` cell, located at the cell's own line.

    IPython shows it through ``_render_traceback_``, like a SyntaxError in
    an ordinary cell and without frames from parsl_nb.
    """

    def __init__(self, msg: str, location: str, lineno: int, text: str, offset: int | None) -> None:
        super().__init__(msg, location, lineno, text, offset)
        self.msg, self.location, self.lineno, self.text, self.offset = msg, location, lineno, text, offset

    def __str__(self) -> str:
        return f"{self.msg} ({self.location}, line {self.lineno})"

    def _render_traceback_(self) -> list[str]:
        lines = [f"  {self.location}, line {self.lineno}", f"    {self.text.strip()}"]
        if self.offset:
            indent = len(self.text) - len(self.text.lstrip())
            lines.append("    " + " " * max(0, self.offset - 1 - indent) + "^")
        lines.append(f"SyntaxError: {self.msg}")
        return lines


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise MagicUsageError(f"{self.prog}: {message}\n\n{self.format_help()}")


def _parser() -> _Parser:
    p = _Parser(prog="%%parsl_app", add_help=False, description=(
        "Make the cell an app bound to NAME in the notebook. A python cell is the function body "
        "(it may `return`); with --bash the cell is a command template, formatted with the arguments "
        "by str.format; with --join the body returns futures."),
        epilog='examples:  %%parsl_app square(x, y=2)   |   %%parsl_app --bash count(path, stdout="n.txt")')
    p.add_argument("name", nargs="?", help="NAME or NAME(signature), for example square(x, y=2)")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--bash", dest="kind", action="store_const", const="bash", help="the cell is a command")
    kind.add_argument("--join", dest="kind", action="store_const", const="join", help="a join app")
    p.add_argument("--executors", metavar="LABEL[,LABEL]", help="executor labels the app may run on")
    p.add_argument("--cache", action="store_true", help="memoize calls (edited code is never served)")
    p.add_argument("--ignore-for-cache", metavar="ARG[,ARG]", default="", help="arguments left out of the key")
    p.add_argument("-h", "--help", action="store_true", help="show this help")
    return p


@dataclass(frozen=True, slots=True)
class CellAppSpec:
    """What the ``%%parsl_app`` line asks for."""

    name: str
    params: str = ""
    kind: str = "python"
    executors: str | list[str] = "all"
    cache: bool = False
    ignore_for_cache: list[str] = field(default_factory=list)


def usage() -> str:
    """The ``%%parsl_app`` help text."""
    return _parser().format_help()


def parse_line(line: str) -> CellAppSpec:
    """Parse the ``%%parsl_app`` line into a :class:`CellAppSpec`.

    Parameters
    ----------
    line : str
        Everything after ``%%parsl_app``, e.g. ``'--cache square(x, y=2)'``.

    Returns
    -------
    CellAppSpec

    Raises
    ------
    MagicUsageError
        With the usage text, when the line does not parse.
    """
    rest, name, params = _split_signature(line)
    try:
        words = shlex.split(rest)
    except ValueError as e:
        raise MagicUsageError(f"%%parsl_app: cannot split the line ({e})\n\n{usage()}") from None
    args = _parser().parse_args(words)
    if args.help:
        raise MagicUsageError(usage())
    name = _one_name(name, args.name)
    _check_signature(name, params)
    kind = args.kind or "python"
    if kind == "join" and args.executors:
        raise MagicUsageError("%%parsl_app: a join app runs in the kernel; drop --executors\n\n" + usage())
    executors: str | list[str] = _csv(args.executors) if args.executors else "all"
    return CellAppSpec(name, params, kind, executors, args.cache, _csv(args.ignore_for_cache))


def _csv(text: str) -> list[str]:
    return [w.strip() for w in text.split(",") if w.strip()]


def _one_name(from_signature: str | None, positional: str | None) -> str:
    if from_signature and positional:
        raise MagicUsageError(f"%%parsl_app: unexpected {positional!r} besides {from_signature}(...)\n\n{usage()}")
    name = from_signature or positional
    if not name:
        raise MagicUsageError("%%parsl_app: give the app a name, for example  %%parsl_app square(x)\n\n"
                              + usage())
    if not name.isidentifier():
        raise MagicUsageError(f"%%parsl_app: {name!r} is not a valid Python name\n\n{usage()}")
    return name


def _split_signature(line: str) -> tuple[str, str | None, str]:
    """Cut ``name(params)`` out of the line; return (rest, name, params)."""
    match = _NAME_PAREN.search(line)
    if match is None:
        return line, None, ""
    start_params = match.end()
    end = _closing_paren(line, start_params)
    return line[:match.start()] + " " + line[end + 1:], match.group(1), line[start_params:end]


def _closing_paren(line: str, start: int) -> int:
    depth = 1
    try:
        for tok in tokenize.generate_tokens(io.StringIO(line[start:]).readline):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
                if depth == 0:
                    return start + tok.start[1]
    except (tokenize.TokenError, SyntaxError):
        pass
    raise MagicUsageError(f"%%parsl_app: the signature is missing its closing parenthesis: {line.strip()}\n\n"
                          + usage())


def _check_signature(name: str, params: str) -> None:
    try:
        ast.parse(f"def {name}({params}): pass")
    except SyntaxError as e:
        raise MagicUsageError(
            f"%%parsl_app: {name}({params}) is not a valid signature ({e.msg}); write it as in a def, "
            f"for example square(x, y=2)\n\n{usage()}"
        ) from None


# ----------------------------------------------------------------- building
CacheSource = Callable[[str], str]
"""Stores source text for tracebacks and ``inspect``; returns its file name."""


def cache_in_linecache(source: str, name: str) -> str:
    """Default :data:`CacheSource` outside IPython: a ``<parsl_app ...>`` linecache entry."""
    filename = f"<parsl_app {name} {abs(hash(source)):x}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return filename


def build_app(spec: CellAppSpec, body: str, namespace: dict[str, Any],
              cache_source: CacheSource | None = None, location: str = "") -> Any:
    """Make the app described by ``spec`` from the cell ``body`` and bind it in ``namespace``.

    Parameters
    ----------
    spec : CellAppSpec
        From :func:`parse_line`.
    body : str
        The cell without its magic line.
    namespace : dict
        The notebook's namespace: the function's globals, where the app is bound.
    cache_source : callable, optional
        Stores the generated source (IPython's cell cache in a notebook).
    location : str
        How errors name the cell, for example ``'Cell In[4]'``.

    Returns
    -------
    AppBase
        The app, also stored as ``namespace[spec.name]``.
    """
    from ..apps import BashApp, JoinApp, PythonApp

    store = cache_source or (lambda text: cache_in_linecache(text, spec.name))
    if spec.kind == "bash":
        func = _bash_function(spec, body, namespace, store)
    else:
        func = _python_function(spec, body, namespace, store, location or f"%%parsl_app {spec.name}")
    app: Any
    if spec.kind == "join":
        app = JoinApp(func, cache=spec.cache, ignore_for_cache=spec.ignore_for_cache)
    else:
        cls = BashApp if spec.kind == "bash" else PythonApp
        app = cls(func, executors=spec.executors, cache=spec.cache, ignore_for_cache=spec.ignore_for_cache)
    namespace[spec.name] = app
    return app


def _python_function(spec: CellAppSpec, body: str, namespace: dict[str, Any],
                     store: CacheSource, location: str) -> Callable[..., Any]:
    body = body if body.strip() else "pass\n"
    header = f"def {spec.name}({spec.params}):"
    try:
        module = ast.parse(body, mode="exec")
    except SyntaxError as e:
        raise _cell_error(e, location, body, line_shift=1) from None
    fdef = ast.parse(header + "\n" + _INDENT + "pass").body[0]
    assert isinstance(fdef, ast.FunctionDef)
    _shift(module, lines=1, cols=len(_INDENT))
    fdef.body = module.body
    source = header + "\n" + textwrap.indent(body, _INDENT, lambda _line: True)
    filename = store(source)
    try:
        code = compile(ast.Module(body=[fdef], type_ignores=[]), filename, "exec")
    except SyntaxError as e:  # found by the compiler: 'await' outside async, nonlocal, ...
        raise _cell_error(e, location, body, line_shift=0) from None
    scratch: dict[str, Any] = {}
    exec(code, namespace, scratch)  # globals are the notebook's; the def lands in scratch
    func: Callable[..., Any] = scratch[spec.name]
    return func


def _shift(tree: ast.AST, lines: int, cols: int) -> None:
    for node in ast.walk(tree):
        if "lineno" in node._attributes:
            node.lineno = getattr(node, "lineno", 1) + lines  # type: ignore[attr-defined]
            end = getattr(node, "end_lineno", None)
            node.end_lineno = end + lines if end is not None else None  # type: ignore[attr-defined]
        if "col_offset" in node._attributes:
            node.col_offset = getattr(node, "col_offset", 0) + cols  # type: ignore[attr-defined]
            end_col = getattr(node, "end_col_offset", None)
            node.end_col_offset = end_col + cols if end_col is not None else None  # type: ignore[attr-defined]


def _cell_error(e: SyntaxError, location: str, body: str, line_shift: int) -> CellSyntaxError:
    body_line = (e.lineno or 1) - (1 - line_shift)  # 1-based line within the body
    lines = body.splitlines()
    text = lines[body_line - 1] if 0 < body_line <= len(lines) else (e.text or "")
    offset = e.offset if line_shift else (e.offset - len(_INDENT) if e.offset else None)
    return CellSyntaxError(e.msg, location, body_line + 1, text, offset)


def _bash_function(spec: CellAppSpec, template: str, namespace: dict[str, Any],
                   store: CacheSource) -> Callable[..., Any]:
    header = f"def {spec.name}({spec.params}):"
    varkw = _varkw_name(spec.name, spec.params)
    call = (f"__import__('parsl_nb.jupyter.cellapp').jupyter.cellapp.format_command("
            f"{spec.name!r}, {template.strip()!r}, locals(), {varkw!r})")
    source = f"{header}\n{_INDENT}return {call}\n"
    code = compile(source, store(source), "exec")
    scratch: dict[str, Any] = {}
    exec(code, namespace, scratch)
    func: Callable[..., Any] = scratch[spec.name]
    return func


def _varkw_name(name: str, params: str) -> str | None:
    fdef = ast.parse(f"def {name}({params}): pass").body[0]
    assert isinstance(fdef, ast.FunctionDef)
    return fdef.args.kwarg.arg if fdef.args.kwarg is not None else None


def format_command(app: str, template: str, arguments: dict[str, Any], varkw: str | None = None) -> str:
    """Fill a bash cell's template with the call's arguments (``str.format``).

    Raises
    ------
    AppBadFormatting
        Naming the placeholder that has no argument.
    """
    values = dict(arguments)
    if varkw is not None:
        values.update(values.pop(varkw, {}))
    try:
        return template.format(**values)
    except (KeyError, IndexError) as e:
        names = ", ".join(sorted(values)) or "none"
        raise AppBadFormatting(
            f"bash cell {app}: the command uses {{{e.args[0]}}} but the arguments are {names}; add it to "
            "the signature on the %%parsl_app line, or write {{ }} for a literal brace"
        ) from None
    except ValueError as e:
        raise AppBadFormatting(f"bash cell {app}: the command is not a valid format string ({e}); "
                               "write {{ }} for a literal brace") from None
