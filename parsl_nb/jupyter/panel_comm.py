"""The kernel side of the JupyterLab session panel: the ``parsl_nb.panel`` comm target.

``%load_ext parsl_nb`` calls :func:`register`. The panel (``labextension/``)
opens a comm to :data:`TARGET`; each open comm gets a :class:`PanelSession`,
which follows the loaded DataFlowKernel (also one loaded or cleared later)
and pushes whole snapshots of the session: executors with their blocks and
engines, task counts by state and by app, and the recent failures.

Snapshots are batched: one thread builds at most ``1 / min_period``
snapshots a second (4 by default) while tasks are unfinished, fewer when the
kernel has so many tasks that a snapshot is costly, and once a ``heartbeat``
when all are done; it sends one only when it differs from the last. The
session takes no event per task: it learns which tasks ended (for the recent
failures) from the kernel's final hook, and only block events wake it early.
The panel's actions arrive as comm messages and run on a worker thread, so
a slow provider never blocks the notebook's cells.

Messages to the panel::

    {"type": "hello", "protocol": 1, "version": "..."}
    {"type": "snapshot", "seq": 7, "loaded": true, "run_dir": "...", "status": "running", "executors": [...],
     "counts": {"running": 2, ...}, "apps": {"f": {"exec_done": 3}}, "failures": [...]}
    {"type": "reply", "request": 3, "ok": true, "message": "engines: added 1 block(s): 1"}

Messages from the panel::

    {"type": "refresh"}
    {"type": "scale", "request": 3, "blocks": 1, "executor": "engines"}
    {"type": "cancel_pending", "request": 4}
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..dataflow.events import BlockEvent, Event
from ..dataflow.states import FINAL_STATES, TaskState
from . import control

if TYPE_CHECKING:
    from ..dataflow.events import Subscription
    from ..dataflow.kernel import DataFlowKernel
    from ..dataflow.taskrecord import TaskRecord

__all__ = ["PROTOCOL", "TARGET", "PanelSession", "register", "snapshot"]

logger = logging.getLogger(__name__)

TARGET = "parsl_nb.panel"
"""The comm target name the lab extension opens."""
PROTOCOL = 1
"""Version of the message shapes; the panel checks it in the ``hello`` message."""
MAX_FAILURES = 20
NOT_STARTED = (TaskState.UNSCHED, TaskState.PENDING, TaskState.LAUNCHED, TaskState.FAIL_RETRYABLE)
_FAILURE_STATES = (TaskState.FAILED, TaskState.DEP_FAIL)
_FINAL_LABELS = frozenset(state.label for state in FINAL_STATES)

Send = Callable[[dict[str, Any]], None]


def register(ipython: Any, announce: bool = True) -> bool:
    """Register the comm target in the kernel of ``ipython``, and tell an open panel; False outside a kernel.

    The panel registers a comm target of the same name in the browser, so the
    comm this opens (``announce``) connects a panel that is already showing
    this kernel at once; a panel opened later opens its own comm.

    Parameters
    ----------
    ipython : InteractiveShell
        The shell (``get_ipython()``); its ``kernel`` holds the comm manager.
    announce : bool
        Open a comm to the panels now (frontends without the panel close it).

    Returns
    -------
    bool
        Whether the target was registered (registering twice is harmless).
    """
    kernel = getattr(ipython, "kernel", None)
    manager = getattr(kernel, "comm_manager", None)
    if manager is None:
        return False
    manager.register_target(TARGET, _open)
    if announce:
        try:
            from comm import create_comm

            _attach(create_comm(target_name=TARGET, data={"protocol": PROTOCOL}), active=False)
        except Exception as e:  # no panel is no error
            logger.debug("parsl_nb panel: could not announce the comm target: %s", e)
    return True


def _open(comm: Any, msg: dict[str, Any]) -> None:
    _attach(comm, active=True)


def _attach(comm: Any, active: bool) -> None:
    session = PanelSession(comm.send)
    comm.on_msg(lambda m: session.handle(m["content"]["data"]))
    comm.on_close(lambda m: session.close())
    session.start(active)


# ----------------------------------------------------------------- snapshot
def _exception_text(record: TaskRecord) -> str:
    notes = record.notes
    if notes:  # the reason the kernel gave as the task failed (kept when the future is gone)
        text = notes.get(len(record.history) - 1)
        if text:
            return text
    fut = record.app_fu
    if fut is not None and fut.done() and not fut.cancelled():
        exc = fut.exception(timeout=0)
        if exc is not None:
            return f"{type(exc).__name__}: {exc}"
    return record.fail_history[-1] if record.fail_history else ""


def _failure(tid: int, app: str, state: TaskState, exception: str, when: float) -> dict[str, Any]:
    return {"tid": tid, "app": app, "state": state.label, "exception": exception, "time": when}


def _failed_at(record: TaskRecord) -> float:
    """When a task failed: its final transition's time (``time_returned`` is set a moment after it)."""
    return record.history[-1][1]


def _failures_of(dfk: DataFlowKernel) -> list[dict[str, Any]]:
    """The last failures of a kernel, newest first, read from its records."""
    records = [r for r in list(dfk.tasks.values()) if r.status in _FAILURE_STATES]
    records.sort(key=_failed_at, reverse=True)
    return [_failure(r.tid, r.app_name, r.status, _exception_text(r), _failed_at(r))
            for r in records[:MAX_FAILURES]]


def _executor(summary: dict[str, Any], scalable: bool) -> dict[str, Any]:
    out = {k: v for k, v in summary.items() if k != "blocks"}
    blocks = summary.get("blocks", [])
    out["blocks"] = [{"id": str(b[0]), "job_id": None if b[1] is None else str(b[1]), "state": str(b[2]),
                      "engines": int(b[3])} for b in blocks]
    out["scalable"] = scalable
    return out


def snapshot(dfk: DataFlowKernel | None, failures: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The panel's picture of a kernel (``loaded: False`` when none is loaded), JSON-safe.

    Parameters
    ----------
    dfk : DataFlowKernel or None
        The loaded kernel.
    failures : sequence of dict
        Recent failures, newest first.

    Returns
    -------
    dict
        The body of a ``snapshot`` message, without ``seq``.
    """
    if dfk is None:
        return {"type": "snapshot", "loaded": False}
    from ..executors.base import Executor

    st = control.status(dfk)
    scalable = {label: type(ex).scale_out is not Executor.scale_out for label, ex in dfk.executors.items()}
    executors = [_executor(s, scalable.get(str(s.get("label")), False)) for s in st.executors]
    body = {"type": "snapshot", "loaded": True, "run_dir": str(st.run_dir), "status": st.state,
            "executors": executors, "counts": st.counts, "apps": st.by_app, "failures": list(failures)}
    clean: dict[str, Any] = json.loads(json.dumps(body, default=str))
    return clean


# ------------------------------------------------------------------ session
class PanelSession:
    """One open panel comm: follows the loaded kernel and pushes batched snapshots.

    Parameters
    ----------
    send : callable
        Sends one message (a JSON-able dict) to the panel.
    min_period : float
        Shortest time between two snapshots, in seconds.
    heartbeat : float
        When every task is done, a snapshot is checked for changes this often
        (engines join, and blocks scale in, with no task moving).
    """

    def __init__(self, send: Send, min_period: float = 0.25, heartbeat: float = 1.0) -> None:
        self._send = send
        self.min_period = min_period
        self.heartbeat = heartbeat
        self.sent = 0
        self._seq = 0
        self._dfk: DataFlowKernel | None = None
        self._sub: Subscription | None = None
        self._failures: deque[dict[str, Any]] = deque(maxlen=MAX_FAILURES)
        self._ended: deque[int] = deque()  # ids of tasks that ended since the last snapshot (final hook)
        self._busy = False  # whether the last snapshot had unfinished tasks
        self._reported: set[int] = set()  # failures read from the records, whose hooks may still come
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._last: dict[str, Any] | None = None
        self._thread = threading.Thread(target=self._run, name="parsl_nb-panel", daemon=True)

    def start(self, active: bool = True) -> None:
        """Say hello; push snapshots from now on (``active``) or from the panel's first message.

        A comm the kernel opened may reach no panel at all (a headless run, a
        frontend without the extension): it stays quiet until a panel speaks.
        """
        from .. import __version__

        self._emit({"type": "hello", "protocol": PROTOCOL, "version": __version__})
        if active:
            self._activate()

    def _activate(self) -> None:
        self._dirty.set()
        if not self._thread.is_alive() and not self._stop.is_set():
            self._thread.start()

    def close(self) -> None:
        """Stop pushing (the comm was closed) and unsubscribe from the kernel's events."""
        self._stop.set()
        self._dirty.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        if not self._thread.is_alive():  # else the thread lets go of the kernel on its way out
            self._unfollow()

    # ----------------------------------------------------- kernel events
    def _on_events(self, events: Sequence[Event]) -> None:
        if any(isinstance(e, BlockEvent) for e in events):
            self._dirty.set()

    def _unfollow(self) -> None:
        """Let go of the kernel followed (the panel thread's, or after it ended)."""
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        if self._dfk is not None:
            self._dfk.final_hooks.remove(self._ended.append)
            self._dfk = None

    def _follow(self) -> DataFlowKernel | None:
        """Bind to the loaded kernel if it changed (loaded, cleared, replaced)."""
        dfk = control.current()
        if dfk is self._dfk:
            return dfk
        self._unfollow()
        self._dfk = dfk
        self._failures.clear()
        self._ended.clear()
        self._reported.clear()
        if dfk is not None:
            self._sub = dfk.events.subscribe(self._on_events, kinds=(BlockEvent,))
            dfk.final_hooks.append(self._ended.append)
            self._reread_failures(dfk)
        self._dirty.set()
        return dfk

    def _missing_failures(self, dfk: DataFlowKernel, counts: dict[str, int]) -> bool:
        """Re-read the failures from the records if the counts show more than the list; True if it did.

        A task's state is final a moment before the kernel calls its final
        hooks, so a snapshot can count a failure the hook has not brought yet.
        """
        counted = sum(counts.get(state.label, 0) for state in _FAILURE_STATES)
        if len(self._failures) >= min(counted, MAX_FAILURES):
            return False
        self._reread_failures(dfk)
        return True

    def _reread_failures(self, dfk: DataFlowKernel) -> None:
        """The recent failures, read from the records (a task failing right now may still come by the hook)."""
        failures = _failures_of(dfk)
        self._failures.clear()
        self._failures.extend(failures)
        self._reported.update(f["tid"] for f in failures)

    def _note_failures(self, dfk: DataFlowKernel) -> None:
        """Add the tasks that failed since the last snapshot to the recent failures, newest first."""
        ended, reported = self._ended, self._reported
        while ended:
            try:
                tid = ended.popleft()
            except IndexError:  # another push took it
                return
            rec = dfk.tasks.get(tid)
            if rec is not None and rec.status in _FAILURE_STATES and tid not in reported:
                self._failures.appendleft(_failure(rec.tid, rec.app_name, rec.status, _exception_text(rec),
                                                   _failed_at(rec)))

    # ------------------------------------------------------------ pushing
    def _run(self) -> None:
        try:
            self._push_until_stopped()
        finally:
            self._unfollow()

    def _push_until_stopped(self) -> None:
        period = self.min_period
        while not self._stop.is_set():
            if not self._busy:  # while tasks run, every period; else on a block event or the heartbeat
                self._dirty.wait(self.heartbeat)
            if self._stop.is_set():
                return
            self._dirty.clear()
            started = time.perf_counter()
            try:
                self.push()
            except Exception:  # the panel must never take the kernel down
                logger.exception("parsl_nb panel: building a snapshot failed")
            cost = time.perf_counter() - started
            period = max(self.min_period, 20 * cost)  # at most ~5 % of a core on snapshots
            self._stop.wait(period)

    def push(self, force: bool = False) -> bool:
        """Send a snapshot if it differs from the last one sent (or ``force``); True if sent."""
        if self._stop.is_set():  # closed: follow no kernel again
            return False
        dfk = self._follow()
        if dfk is not None:
            self._note_failures(dfk)
        body = snapshot(dfk, list(self._failures))
        if dfk is not None and self._missing_failures(dfk, body.get("counts", {})):
            body = snapshot(dfk, list(self._failures))
        self._busy = any(n and state not in _FINAL_LABELS for state, n in body.get("counts", {}).items())
        if not force and body == self._last:
            return False
        self._last = body
        self._seq += 1
        self._emit({**body, "seq": self._seq})
        return True

    def _emit(self, msg: dict[str, Any]) -> None:
        self.sent += 1
        self._send(msg)

    # ------------------------------------------------------------ actions
    def handle(self, data: dict[str, Any]) -> None:
        """A message from the panel: ``refresh``, ``scale`` or ``cancel_pending``."""
        kind = data.get("type")
        if not self._thread.is_alive():
            self._activate()
        if kind == "refresh":
            self._last = None
            self._dirty.set()
            return
        actions: dict[str, Callable[[dict[str, Any]], str]] = {"scale": _scale, "cancel_pending": _cancel_pending}
        action = actions.get(str(kind))
        if action is None:
            self._reply(data, False, f"unknown panel request {kind!r}; known: refresh, {', '.join(actions)}")
            return
        threading.Thread(target=self._act, args=(action, data), name="parsl_nb-panel-action", daemon=True).start()

    def _act(self, action: Callable[[dict[str, Any]], str], data: dict[str, Any]) -> None:
        try:
            message, ok = action(data), True
        except Exception as e:
            message, ok = f"{type(e).__name__}: {e}", False
        self._reply(data, ok, message)
        self._dirty.set()

    def _reply(self, data: dict[str, Any], ok: bool, message: str) -> None:
        self._emit({"type": "reply", "request": data.get("request"), "ok": ok, "message": message})


def _scale(data: dict[str, Any]) -> str:
    """Add or remove blocks; a request that changes nothing is an error that says why."""
    label = data.get("executor")
    n = int(data.get("blocks", 0))
    message = control.scale(n, None if label is None else str(label))
    if not message.endswith(" 0 block(s)"):
        return message
    dfk = control.current()
    ex = dfk.executors.get(message.split(":")[0]) if dfk is not None else None
    if n > 0:
        limit = getattr(getattr(ex, "provider", None), "max_blocks", "?")
        raise ValueError(f"{message}: the executor is at its provider's max_blocks ({limit}); "
                         "raise max_blocks in the config to add blocks")
    raise ValueError(f"{message}: no block is idle (blocks running tasks are kept)")


def _cancel_pending(data: dict[str, Any]) -> str:
    """Cancel every task that has not started running (running tasks go on)."""
    dfk = control.current()
    if dfk is None:
        raise ValueError("no DataFlowKernel is loaded; nothing to cancel")
    records = [r for r in list(dfk.tasks.values()) if r.status in NOT_STARTED]
    cancelled = sum(1 for r in records if not r.final and dfk.cancel_task(r))
    return f"cancelled {cancelled} task(s) that had not started"
