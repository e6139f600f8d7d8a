"""Tracebacks of task exceptions that show the user's lines, not our internals.

A task's exception reaches the cell through ``future.result()``; its
traceback then runs through ``concurrent.futures``, the executor's worker
thread and parsl_nb. :func:`trim` drops those frames (in the whole
``__cause__``/``__context__`` chain); the IPython handler installed by
:func:`install` renders the trimmed traceback with IPython's own formatter.
"""

from __future__ import annotations

import os
import types
from typing import Any

__all__ = ["install", "is_internal", "trim", "uninstall"]

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_STDLIB_PARTS = (os.sep + os.path.join("concurrent", "futures") + os.sep, os.sep + "asyncio" + os.sep,
                 os.sep + "threading.py", os.sep + "ipyparallel" + os.sep)


def is_internal(filename: str) -> bool:
    """Whether a frame from ``filename`` is plumbing the user should not see."""
    if filename.startswith(_PKG_DIR):
        return True
    return any(part in filename for part in _STDLIB_PARTS)


def _trim_one(tb: types.TracebackType | None) -> tuple[types.TracebackType | None, bool]:
    kept: list[types.TracebackType] = []
    dropped = False
    while tb is not None:
        if is_internal(tb.tb_frame.f_code.co_filename):
            dropped = True
        else:
            kept.append(tb)
        tb = tb.tb_next
    if not dropped:
        return None, False
    new: types.TracebackType | None = None
    for t in reversed(kept):
        new = types.TracebackType(new, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return new, True


def trim(exc: BaseException) -> bool:
    """Drop internal frames from ``exc`` and its causes, in place.

    Returns
    -------
    bool
        True if any frame was dropped.
    """
    changed = False
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        new, dropped = _trim_one(e.__traceback__)
        if dropped:
            e.__traceback__ = new
            changed = True
        stack.extend([e.__cause__, e.__context__])
    return changed


def _handler(shell: Any, etype: type[BaseException], value: BaseException, tb: Any,
             tb_offset: int | None = None) -> None:
    if not hasattr(value, "_render_traceback_"):
        new, _dropped = _trim_one(tb)
        if _dropped:
            trim(value)
            tb = new
            value.__traceback__ = tb
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)


def install(shell: Any) -> bool:
    """Render task exceptions with user frames only, in this IPython shell.

    Uses IPython's custom exception hook; leaves a hook someone else set alone.

    Returns
    -------
    bool
        Whether the hook is ours now.
    """
    if shell.custom_exceptions and getattr(shell, "_parsl_nb_tb", False) is False:
        return False
    shell.set_custom_exc((Exception,), _handler)
    shell._parsl_nb_tb = True
    return True


def uninstall(shell: Any) -> None:
    """Remove the hook set by :func:`install`."""
    if getattr(shell, "_parsl_nb_tb", False):
        shell.set_custom_exc((), None)
        shell._parsl_nb_tb = False
