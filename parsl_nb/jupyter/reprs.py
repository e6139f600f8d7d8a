"""Rich (HTML) and plain-text displays of futures, the kernel and executors.

The classes elsewhere in the package delegate their ``_repr_html_`` /
``_repr_mimebundle_`` here, so all display code lives in one module.
"""

from __future__ import annotations

import html
import logging
import reprlib
import sys
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..dataflow.states import TaskState

if TYPE_CHECKING:
    from ..dataflow.kernel import DataFlowKernel
    from ..dataflow.taskrecord import TaskRecord
    from ..executors.base import Executor
    from ..futures import AppFuture, DataFuture

__all__ = [
    "STATE_COLORS",
    "datafuture_html",
    "datafuture_text",
    "executor_html",
    "executor_text",
    "future_html",
    "future_mimebundle",
    "future_text",
    "kernel_html",
    "kernel_text",
    "mimebundle",
    "outcome",
    "run_time",
    "state_badge",
]

S = TaskState
STATE_COLORS: dict[TaskState, str] = {
    S.UNSCHED: "#9e9e9e", S.PENDING: "#f0ad4e", S.LAUNCHED: "#5bc0de", S.RUNNING: "#0275d8",
    S.JOINING: "#5bc0de", S.FAIL_RETRYABLE: "#f0ad4e", S.EXEC_DONE: "#2e7d32", S.MEMO_DONE: "#66bb6a",
    S.FAILED: "#c62828", S.DEP_FAIL: "#e57373", S.CANCELLED: "#757575",
}
_INTERNAL = "_parsl_internal"
MAX_ROWS_SHOWN = 8  # blocks or engines listed one per line before "... and N more"
_PREVIEW = reprlib.Repr()
_PREVIEW.maxstring = 60
_PREVIEW.maxother = 60
_PREVIEW.maxlist = 6
_PREVIEW.maxdict = 6
_TABLE = 'style="text-align:left;border-collapse:collapse"'
_CELL = 'style="text-align:left;padding:1px 8px 1px 0"'


def _e(value: Any) -> str:
    return html.escape(str(value))


def state_badge(state: TaskState) -> str:
    """HTML badge showing a task state in Parsl's spelling, coloured by kind."""
    color = STATE_COLORS.get(state, "#9e9e9e")
    return (f'<span class="parsl-nb-state" data-state="{state.label}" style="background:{color};'
            f'color:white;border-radius:3px;padding:0 5px;font-family:monospace">{state.label}</span>')


def run_time(record: TaskRecord, now: float | None = None) -> float:
    """Seconds from submission to the end (or to now, if the task is not final)."""
    end = record.time_returned if record.time_returned is not None else (now or time.time())
    return max(0.0, end - record.time_invoked)


def outcome(fut: Any) -> str:
    """One line: the result preview, the exception summary, or '' if not done."""
    if not fut.done():
        return ""
    if fut.cancelled():
        return "cancelled"
    exc = fut.exception()
    if exc is not None:
        message = str(exc).splitlines()[0] if str(exc) else ""
        return _PREVIEW.repr(f"{type(exc).__name__}: {message}")[1:-1] if message else type(exc).__name__
    return _PREVIEW.repr(fut.result())


def _future_fields(fut: AppFuture[Any]) -> dict[str, str]:
    rec = fut.task_record
    fields = {"app": rec.app_name, "tid": str(rec.tid), "state": rec.status.label,
              "executor": rec.executor or "-", "time": f"{run_time(rec):.2f} s"}
    if rec.try_id:
        fields["tries"] = str(rec.try_id + 1)
    if rec.engine:
        fields["engine"] = rec.engine
    done = outcome(fut)
    if done:
        failed = fut.done() and not fut.cancelled() and fut.exception() is not None
        fields["exception" if failed else "result"] = done
    return fields


def future_text(fut: AppFuture[Any]) -> str:
    """Plain-text display of an AppFuture.

    Examples
    --------
    >>> future_text(square(3))  # doctest: +SKIP
    'AppFuture task 0 square: exec_done in 0.01 s -> 9'
    """
    f = _future_fields(fut)
    text = f"AppFuture task {f['tid']} {f['app']}: {f['state']} in {f['time']}"
    if "result" in f:
        text += f" -> {f['result']}"
    elif "exception" in f:
        text += f" raised {f['exception']}"
    return text


def future_html(fut: AppFuture[Any]) -> str:
    """HTML display of an AppFuture: state badge, app, tid, run time, result or error."""
    rec = fut.task_record
    f = _future_fields(fut)
    head = (f'<div class="parsl-nb-future" data-tid="{rec.tid}" data-state="{rec.status.label}">'
            f'<b>AppFuture</b> task <b>{rec.tid}</b> <code>{_e(rec.app_name)}</code> '
            f'{state_badge(rec.status)}')
    rows = [(k, v) for k, v in f.items() if k not in ("app", "tid", "state")]
    return head + _table(rows) + "</div>"


def future_mimebundle(fut: AppFuture[Any]) -> dict[str, Any]:
    """What displaying an AppFuture shows (its ``_repr_mimebundle_``).

    In a Jupyter kernel with ipywidgets, a future that is not done yet shows
    a live :class:`~parsl_nb.widgets.FutureWidget` (the widget view, plus
    ``text/html`` and ``text/plain`` for saved notebooks and other
    front ends); otherwise, and once done, the static ``text/html`` and
    ``text/plain``.
    """
    if not fut.done() and widgets_available():
        bundle = _live_future_bundle(fut)
        if bundle is not None:
            return bundle
    return mimebundle(future_text(fut), future_html(fut))


_WIDGETS: list[bool] = []  # cached answer of widgets_available()


def widgets_available() -> bool:
    """Whether this process is a Jupyter kernel that can show widgets (ipywidgets and anywidget installed)."""
    ipython = sys.modules.get("IPython")  # never imported here: no IPython loaded means no kernel
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    if not _WIDGETS:
        from importlib.util import find_spec

        _WIDGETS.append(all(find_spec(m) is not None for m in ("ipywidgets", "anywidget")))
    return _WIDGETS[0]


def _live_future_bundle(fut: AppFuture[Any]) -> dict[str, Any] | None:
    try:
        from ..widgets import FutureWidget

        bundle = FutureWidget(fut)._repr_mimebundle_()
    except Exception:  # no comm, an old ipywidgets...: the static display still works
        logging.getLogger(__name__).debug("live future display failed; showing the static one", exc_info=True)
        return None
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    if not data:
        return None
    data = dict(data)
    data["text/plain"] = future_text(fut)
    return data


def mimebundle(text: str, html_text: str) -> dict[str, str]:
    """A MIME bundle holding both forms."""
    return {"text/plain": text, "text/html": html_text}


def _datafuture_state(fut: DataFuture) -> str:
    if not fut.done():
        return "pending"
    if fut.cancelled():
        return "cancelled"
    return "failed" if fut.exception() is not None else "done"


def datafuture_text(fut: DataFuture) -> str:
    """Plain-text display of a DataFuture: file, producing task, state."""
    state = _datafuture_state(fut)
    extra = f" ({outcome(fut)})" if state == "failed" else ""
    return f"DataFuture {fut.filepath} of task {fut.tid}: {state}{extra}"


def datafuture_html(fut: DataFuture) -> str:
    """HTML display of a DataFuture."""
    state = _datafuture_state(fut)
    parent = fut.parent.task_record
    rows = [("file", fut.filepath), ("task", f"{fut.tid} ({parent.app_name})"), ("state", state)]
    if state == "failed":
        rows.append(("exception", outcome(fut)))
    return (f'<div class="parsl-nb-datafuture" data-tid="{fut.tid}" data-state="{state}">'
            f"<b>DataFuture</b> <code>{_e(fut.filename)}</code> {state_badge(parent.status)}"
            + _table(rows) + "</div>")


def executor_text(ex: Executor) -> str:
    """An executor from its ``status_summary()``: one line, then one per block or engine."""
    return _executor_summary_text(dict(ex.status_summary()), ex.label, type(ex).__name__)


def executor_html(ex: Executor) -> str:
    """HTML display of an executor: label, kind, workers, blocks, engines."""
    return _summary_html(dict(ex.status_summary()), ex.label, type(ex).__name__)


def _summary_html(summary: dict[str, Any], label: str = "?", kind: str = "?") -> str:
    label = summary.pop("label", label)
    kind = summary.pop("kind", kind)
    rows = [(k, _short(v)) for k, v in summary.items() if not _is_rows(v)]
    lists = "".join(f"<div><i>{_e(k)}</i><ul style=\"margin:0\">"
                    + "".join(f"<li><code>{_e(line)}</code></li>" for line in _row_lines(v)) + "</ul></div>"
                    for k, v in summary.items() if _is_rows(v) and v)
    return (f'<div class="parsl-nb-executor" data-label="{_e(label)}"><b>{_e(label)}</b> '
            f"<i>{_e(kind)}</i>{_table(rows)}{lists}</div>")


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple, set)) and len(value) > 4:
        return f"{len(value)} items"
    return _PREVIEW.repr(value) if not isinstance(value, str) else value


def _is_rows(value: Any) -> bool:
    """A list of named rows (such as an engine executor's blocks), each shown on its own line."""
    return isinstance(value, list) and all(hasattr(v, "_fields") for v in value)


def _row_lines(rows: list[Any], most: int = MAX_ROWS_SHOWN) -> list[str]:
    lines = [str(r) for r in rows[:most]]
    return lines + ([f"... and {len(rows) - most} more"] if len(rows) > most else [])


def _user_executors(dfk: DataFlowKernel) -> list[Executor]:
    return [ex for label, ex in dfk.executors.items() if label != _INTERNAL]


def _ordered_counts(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    order = {s.label: s.value for s in TaskState}
    return sorted(counts.items(), key=lambda kv: order.get(kv[0], 99))


def kernel_text(dfk: DataFlowKernel) -> str:
    """Plain-text display of a DataFlowKernel, like a Dask Client's."""
    state = "cleaned up" if dfk.cleanup_called else "running"
    lines = [f"DataFlowKernel ({state})", f"  run dir:   {dfk.run_dir}"]
    for ex in _user_executors(dfk):
        lines.append(f"  executor:  {executor_text(ex)}")
    counts = _ordered_counts(dfk.task_counts())
    total = sum(n for _, n in counts)
    shown = ", ".join(f"{k}={n}" for k, n in counts) or "none yet"
    lines.append(f"  tasks:     {total} ({shown})")
    return "\n".join(lines)


def kernel_html(dfk: DataFlowKernel) -> str:
    """HTML display of a DataFlowKernel: run dir, executors, blocks, engines, task counts."""
    state = "cleaned up" if dfk.cleanup_called else "running"
    counts = _ordered_counts(dfk.task_counts())
    total = sum(n for _, n in counts)
    badges = " ".join(f"{state_badge(TaskState[k.upper()])}&nbsp;{n}" for k, n in counts) or "none yet"
    rows = [("state", state), ("run dir", dfk.run_dir), ("run id", dfk.run_id),
            ("tasks", f"{total}")]
    execs = "".join(executor_html(ex) for ex in _user_executors(dfk))
    return (f'<div class="parsl-nb-kernel" data-state="{state}"><b>DataFlowKernel</b>'
            f"{_table(rows)}<div>{badges}</div><div><b>Executors</b>{execs}</div></div>")


def _table(rows: Iterable[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th {_CELL}>{_e(k)}</th><td {_CELL}>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table {_TABLE}>{body}</table>" if body else ""


# ------------------------------------------------------- status and task tables
def _counts_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k}={n}" for k, n in _ordered_counts(counts)) or "none"


def _executor_summary_text(summary: Mapping[str, Any], label: str = "?", kind: str = "?",
                           indent: str = "    ") -> str:
    rest = {k: v for k, v in summary.items() if k not in ("label", "kind")}
    details = ", ".join(f"{k}={_short(v)}" for k, v in rest.items() if not _is_rows(v))
    head = f"{summary.get('label', label)} ({summary.get('kind', kind)})" + (f": {details}" if details else "")
    rows = [f"\n{indent}{line}" for v in rest.values() if _is_rows(v) for line in _row_lines(v)]
    return head + "".join(rows)


def status_text(st: Any) -> str:
    """Plain text of a :class:`~parsl_nb.jupyter.control.Status`."""
    lines = [f"DataFlowKernel ({st.state}) in {st.run_dir}"]
    lines += [f"  executor {_executor_summary_text(s)}" for s in st.executors]
    lines.append(f"  tasks: {sum(st.counts.values())} ({_counts_text(st.counts)})")
    lines += [f"    {app}: {_counts_text(c)}" for app, c in sorted(st.by_app.items())]
    return "\n".join(lines)


def status_html(st: Any) -> str:
    """HTML of a :class:`~parsl_nb.jupyter.control.Status`: executors, then counts by state and app."""
    states = [s.label for s in TaskState if any(s.label in c for c in st.by_app.values())]
    head = "".join(f"<th {_CELL}>{state_badge(TaskState[s.upper()])}</th>" for s in states)
    rows = "".join(
        f"<tr><th {_CELL}>{_e(app)}</th>" + "".join(f"<td {_CELL}>{c.get(s, '')}</td>" for s in states) + "</tr>"
        for app, c in sorted(st.by_app.items()))
    totals = "".join(f"<td {_CELL}><b>{st.counts.get(s, 0)}</b></td>" for s in states)
    execs = "".join(_summary_html(dict(s)) for s in st.executors)
    return (f'<div class="parsl-nb-status"><b>DataFlowKernel</b> ({_e(st.state)}) <code>{_e(st.run_dir)}</code>'
            f"{execs}<table {_TABLE}><tr><th {_CELL}>app</th>{head}</tr>{rows}"
            f"<tr><th {_CELL}>all</th>{totals}</tr></table></div>")


def _task_row(r: TaskRecord) -> tuple[str, str, str, str, str, str]:
    fut = r.app_fu
    return (str(r.tid), r.app_name, r.status.label, r.executor or "-", f"{run_time(r):.2f} s",
            outcome(fut) if fut is not None else (r.fail_history[-1] if r.fail_history else ""))


_TASK_COLUMNS = ("tid", "app", "state", "executor", "time", "result / error")


def tasks_text(records: list[TaskRecord]) -> str:
    """Plain-text table of task records."""
    if not records:
        return "no tasks match"
    rows = [_TASK_COLUMNS, *(_task_row(r) for r in records)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_TASK_COLUMNS) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1]
                     for row in rows).rstrip()


def tasks_html(records: list[TaskRecord]) -> str:
    """HTML table of task records, with state badges."""
    if not records:
        return "<i>no tasks match</i>"
    head = "".join(f"<th {_CELL}>{c}</th>" for c in _TASK_COLUMNS)
    body = ""
    for r in records:
        tid, app, _state, ex, t, out = _task_row(r)
        body += (f'<tr data-tid="{tid}"><td {_CELL}>{tid}</td><td {_CELL}>{_e(app)}</td>'
                 f"<td {_CELL}>{state_badge(r.status)}</td><td {_CELL}>{_e(ex)}</td><td {_CELL}>{t}</td>"
                 f"<td {_CELL}><code>{_e(out)}</code></td></tr>")
    return f'<table class="parsl-nb-tasks" {_TABLE}><tr>{head}</tr>{body}</table>'
