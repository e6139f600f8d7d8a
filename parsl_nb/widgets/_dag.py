"""The live DAG widget (anywidget): Python keeps the model, the browser draws it."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import traitlets

from ..dataflow.states import TaskState
from ..jupyter.reprs import STATE_COLORS
from ..monitoring.past import PastRun, PastTask, as_run
from ._detail import args_preview, task_detail
from ._live import LiveWidget
from ._model import GraphModel
from ._static import dag_html
from ._sync import AfterCleanup, Syncer, Ticker, check_hz, kernel_and_tids, watch_tasks

__all__ = ["DagWidget"]

_STATIC = Path(__file__).parent / "static"
_KEEP_ARGS = 5000  # argument previews kept for the first this many tasks (the rest: while not released)


class DagWidget(LiveWidget):
    """The task graph, live: nodes coloured by state, edges for dependencies.

    Layout is computed in Python and never moves a node once placed. Above
    ``threshold`` tasks the view groups tasks by app (a group expands on
    click). Scroll to zoom, drag to pan, hover for a tooltip, click a task for
    its details (state history, arguments, result or traceback, placement).

    Parameters
    ----------
    source : DataFlowKernel, AppFuture or list of futures, optional
        What to show: the loaded kernel (default), another kernel, or only
        the tasks behind these futures (with everything they depend on).
        A past run (see :meth:`from_run`) shows that run from its store.
    view : {"auto", "nodes", "groups"}
        ``auto`` groups by app above ``threshold`` tasks.
    threshold : int
        Task count above which ``auto`` shows groups.
    hz : float
        Most messages per second sent to the browser (patches are batched).
    height : int
        Height of the drawing in pixels.
    title : str
        Shown above the graph.

    Examples
    --------
    >>> from parsl_nb.widgets import DagWidget      # doctest: +SKIP
    >>> DagWidget()                                 # the whole kernel, live
    >>> DagWidget([f1, f2], view="nodes")          # only what f1 and f2 need
    """

    _esm = _STATIC / "dag.js"
    _uid = traitlets.Unicode("").tag(sync=True)
    _snapshot = traitlets.Bytes(b"").tag(sync=True)
    _palette = traitlets.List(traitlets.List(traitlets.Unicode()), []).tag(sync=True)
    view = traitlets.Unicode("auto").tag(sync=True)
    threshold = traitlets.Int(2000).tag(sync=True)
    height = traitlets.Int(420).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)

    def __init__(self, source: Any = None, *, view: str = "auto", threshold: int = 2000, hz: float = 15.0,
                 height: int = 420, title: str = "", **kwargs: Any) -> None:
        if view not in ("auto", "nodes", "groups"):
            raise ValueError(f"view must be 'auto', 'nodes' or 'groups' (got {view!r})")
        check_hz(hz)  # before the kernel is followed
        kernel, tids = kernel_and_tids(source)
        self.graph = GraphModel(tids)
        self._kernel = kernel
        self._args: dict[int, str] = {}
        palette = [[s.label, STATE_COLORS[s]] for s in sorted(TaskState, key=int)]  # index = state value
        super().__init__(_uid=uuid.uuid4().hex, _palette=palette, view=view, threshold=threshold,
                         height=height, title=title or ("Task graph" if tids is None else "Tasks behind futures"),
                         **kwargs)
        self._subscription = watch_tasks(kernel, tids)  # reads the records at each tick; None for a past run
        if self._subscription is None:
            self.graph.add_records([r for r in list(kernel.tasks.values()) if tids is None or r.tid in tids])
        else:
            self._follow()
        self._snapshot = self.graph.snapshot()
        self.syncer = Syncer(self.graph, self._send_msg, hz, keyframe=self._keyframe)
        self._handle: Any = None
        self._seen = (self.graph.version, time.monotonic())
        self._fallback_version = -1
        self._ticker = Ticker(self._tick, 1.0 / hz, done=AfterCleanup(kernel))
        self.on_msg(self._on_msg)

    # ------------------------------------------------------------ kernel side
    def _follow(self) -> None:
        """Bring the model up to the records: new tasks, and states that moved since the last tick."""
        watch = self._subscription
        if watch is None:
            return
        rows, changes = watch.poll()
        self.graph.add_rows(rows)
        self.graph.set_states(changes)
        if rows and len(self._args) < _KEEP_ARGS:
            tasks = self._kernel.tasks
            for tid, *_ in rows[:_KEEP_ARGS - len(self._args)]:
                rec = tasks[tid]
                if rec.func is not None:  # not released yet
                    self._args[tid] = args_preview(rec.args, rec.kwargs)

    def _tick(self) -> None:
        self._follow()
        self.syncer.tick()
        version, since = self._seen
        now = time.monotonic()
        if self.graph.version != version:
            self._seen = (self.graph.version, now)
        elif (self._handle is not None and version != self._fallback_version and now - since > 1.0
              and self.graph.all_final()):
            # the workflow went quiet: refresh the output, so a saved notebook shows this state
            self._fallback_version = version
            self._handle.update(self)

    def _send_msg(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        self.send(content, buffers=buffers)

    def _keyframe(self, snapshot: bytes) -> None:
        self._snapshot = snapshot

    def _on_msg(self, _widget: Any, content: dict[str, Any], _buffers: list[Any]) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "resync":
            self.syncer.resync()
        elif kind == "detail":
            self.send({"type": "detail", "tid": content.get("tid"), "info": self.detail(int(content["tid"]))})

    # ------------------------------------------------------------ public
    def detail(self, tid: int) -> dict[str, Any]:
        """What the detail panel shows for task ``tid`` (also handy in tests and scripts)."""
        rec = self._kernel.tasks.get(tid)
        if rec is None:
            return {"tid": tid, "app": "?", "state": "unknown", "history": [], "args": "", "depends": [],
                    "executor": "", "engine": "", "block": "", "tries": 0}
        if isinstance(rec, PastTask):
            return rec.detail()
        return task_detail(rec, self._args.get(tid))

    @classmethod
    def from_run(cls, run: Any, **kwargs: Any) -> DagWidget:
        """The graph of a past run, read from its monitoring store (no kernel needed).

        Parameters
        ----------
        run : Run, str, Path or int
            A :class:`~parsl_nb.monitoring.Run` (from :func:`parsl_nb.runs`),
            a run directory (``'runinfo/003'``) or a run number under
            ``runinfo`` (``3``).
        **kwargs
            ``view``, ``threshold``, ``height``, ``title``, as for the widget.

        Returns
        -------
        DagWidget
            Shows each task's last recorded state; clicking a task shows its
            recorded history, arguments preview, tries and exceptions.

        Raises
        ------
        LookupError
            If no such run exists.

        Examples
        --------
        >>> DagWidget.from_run(parsl_nb.runs()[-1])   # doctest: +SKIP
        >>> DagWidget.from_run("runinfo/003")         # doctest: +SKIP
        """
        past = as_run(run)
        if past is None:
            raise TypeError(f"from_run takes a Run, a run directory or a run number (got {run!r})")
        kwargs.setdefault("title", f"Run {past.path.name}: {past.name}" if past.name else f"Run {past.path}")
        return cls(PastRun(past), **kwargs)

    def show(self) -> None:
        """Display the widget with a display id, and refresh its static fallback when the tasks are done.

        A saved notebook then shows the final picture on GitHub or nbviewer,
        not the one from the moment the cell ran.
        """
        from IPython.display import display

        self._handle = display(self, display_id=True)

    def to_html(self) -> str:
        """Static HTML of the current state (what a saved notebook shows)."""
        return dag_html(self.graph, self.title)

