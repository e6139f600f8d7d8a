"""What the detail panel shows for one task, as JSON-ready values."""

from __future__ import annotations

import reprlib
import traceback
from typing import Any

__all__ = ["args_preview", "task_detail"]

_R = reprlib.Repr()
_R.maxstring = 80
_R.maxother = 80
_R.maxlist = 8
_R.maxdict = 8
_R.maxlevel = 3
_TRACEBACK_CHARS = 6000


def args_preview(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """A short, bounded preview of a call's arguments: ``(1, 'x', y=2)``."""
    try:
        parts = [_R.repr(a) for a in args] + [f"{k}={_R.repr(v)}" for k, v in kwargs.items()]
    except Exception as e:  # a broken __repr__ in user data must not break the panel
        return f"<unprintable arguments: {type(e).__name__}>"
    text = "(" + ", ".join(parts) + ")"
    return text if len(text) <= 400 else text[:399] + "…"


def _outcome(fut: Any) -> dict[str, Any]:
    if fut is None or not fut.done():
        return {}
    if fut.cancelled():
        return {"exception": "cancelled"}
    exc = fut.exception()
    if exc is None:
        try:
            return {"result": _R.repr(fut.result())}
        except Exception as e:
            return {"result": f"<unprintable result: {type(e).__name__}>"}
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if len(tb) > _TRACEBACK_CHARS:
        tb = "…" + tb[-_TRACEBACK_CHARS:]
    return {"exception": f"{type(exc).__name__}: {exc}", "traceback": tb}


def task_detail(record: Any, args_text: str | None = None) -> dict[str, Any]:
    """Everything the panel shows: app, tid, state history with times, arguments, outcome, placement."""
    start = record.time_invoked
    history = [{"state": s.label, "time": t, "offset": round(t - start, 4)} for s, t in record.history]
    if args_text is None:
        released = record.func is None and record.final
        args_text = "(not kept after the task finished)" if released else args_preview(record.args, record.kwargs)
    info = {"tid": record.tid, "app": record.app_name, "state": record.status.label, "history": history,
            "args": args_text, "executor": record.executor or "", "engine": record.engine or "",
            "block": record.block or "", "tries": record.try_id + 1, "depends": list(record.depends),
            "fail_history": list(record.fail_history)}
    info.update(_outcome(record.app_fu))
    return info
