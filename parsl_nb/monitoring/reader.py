"""Reading past runs: ``parsl_nb.runs()`` and the :class:`Run` it returns.

Nothing here needs a kernel: a run is read from its ``monitoring.db`` alone,
also while the run is still going and after its process was killed.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .schema import DB_NAME

__all__ = ["AppSummary", "BlockInfo", "ResourceSample", "Run", "StateChange", "TaskInfo", "TryInfo", "runs"]


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """One task of a past run (a row of the ``task`` table).

    ``state`` is the last state recorded (a :class:`~parsl_nb.TaskState`
    name); ``depends`` the task ids it waited on; ``args`` a short preview of
    the call's arguments; times are ``time.time()`` seconds.
    """

    task_id: int
    app: str
    state: str | None
    executor: str | None
    depends: tuple[int, ...]
    args: str | None
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    stdout: str | None
    stderr: str | None
    memoize: bool | None
    hashsum: str | None
    tries: int
    fail_count: int
    time_invoked: float | None
    time_returned: float | None


@dataclass(frozen=True, slots=True)
class TryInfo:
    """One try of a task: where it ran, when, and how it ended."""

    task_id: int
    try_id: int
    executor: str | None
    engine: str | None
    block: str | None
    time_launched: float | None
    time_running: float | None
    time_returned: float | None
    state: str | None
    exception: str | None


@dataclass(frozen=True, slots=True)
class StateChange:
    """A task entered ``state`` at ``time`` (during try ``try_id``)."""

    task_id: int
    try_id: int
    state: str
    time: float
    detail: str | None


@dataclass(frozen=True, slots=True)
class BlockInfo:
    """A block (one provider job) changed state."""

    executor: str
    block_id: str
    job_id: str | None
    provider: str | None
    state: str
    time: float
    detail: str | None


@dataclass(frozen=True, slots=True)
class ResourceSample:
    """One sample of an engine's process tree (``MonitoringOptions(resource_interval=...)``).

    ``task_id`` and ``try_id`` name the task the engine was running (None if
    idle); ``cpu_percent`` is percent of one core since the previous sample;
    ``rss``, ``vms``, ``read_bytes`` and ``write_bytes`` are bytes (I/O
    counters cumulative; None where the platform has none).
    """

    task_id: int | None
    try_id: int | None
    engine: str
    block: str
    time: float
    cpu_percent: float
    rss: int
    vms: int
    read_bytes: int | None
    write_bytes: int | None
    num_threads: int


@dataclass(frozen=True, slots=True)
class AppSummary:
    """Per-app totals of a run: task count, count by state, try durations.

    A try's duration runs from the moment it started on a worker (``RUNNING``)
    to its end, so time spent queued for a free worker is not in it (a try that
    never reported running counts from its launch).
    """

    app: str
    tasks: int
    states: dict[str, int]
    tries: int
    mean_duration: float | None
    max_duration: float | None


_TASK_COLUMNS = ("task_id, app, state, executor, depends, args, inputs, outputs, stdout, stderr, memoize,"
                 " hashsum, tries, fail_count, time_invoked, time_returned")
_TABLES = {"tasks": "task", "tries": "try", "states": "status", "blocks": "block", "resources": "resource",
           "workflow": "workflow"}


class Run:
    """One past (or running) run, read from ``<run_dir>/monitoring.db``.

    Parameters
    ----------
    path : str or Path
        The run directory (``runinfo/000``) or the database file in it.

    Examples
    --------
    >>> run = parsl_nb.runs()[-1]                       # doctest: +SKIP
    >>> run.name, run.counts()["EXEC_DONE"]             # doctest: +SKIP
    ('analysis.ipynb', 120)
    >>> [t.task_id for t in run.tasks() if t.state == "FAILED"]   # doctest: +SKIP
    [17]
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        p = Path(path)
        self.db_path = p if p.suffix == ".db" else p / DB_NAME
        self.path = self.db_path.parent
        if not self.db_path.exists():
            raise FileNotFoundError(f"no monitoring database at {self.db_path}; is {self.path} a run directory "
                                    "of a kernel that had monitoring on?")
        try:
            row = self._query("SELECT * FROM workflow LIMIT 1", names=True)
        except sqlite3.OperationalError:  # the kernel is creating the tables right now
            row = []
        info: dict[str, Any] = row[0] if row else {}
        self.run_id: str = info.get("run_id", "")
        self.name: str = info.get("workflow_name") or ""
        self.user: str = info.get("user") or ""
        self.host: str = info.get("host") or ""
        self.time_began: float | None = info.get("time_began")
        self.time_completed: float | None = info.get("time_completed")
        self.info = info

    def _connect(self) -> sqlite3.Connection:
        uri = f"file:{quote(str(self.db_path.resolve()))}?mode=ro"
        return sqlite3.connect(uri, uri=True)

    def _query(self, sql: str, args: tuple[Any, ...] = (), names: bool = False) -> list[Any]:
        conn = self._connect()
        try:
            if names:
                conn.row_factory = sqlite3.Row
                return [dict(r) for r in conn.execute(sql, args)]
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    @property
    def finished(self) -> bool:
        """Whether the kernel recorded its end (False while running or after a kill)."""
        return self.time_completed is not None

    def counts(self) -> dict[str, int]:
        """How many tasks are in each state (the last state recorded)."""
        rows = self._query("SELECT coalesce(state, 'UNKNOWN'), count(*) FROM task GROUP BY state")
        return {state: n for state, n in rows}

    def tasks(self, app: str | None = None, state: str | None = None) -> list[TaskInfo]:
        """The run's tasks, by task id; optionally only one app's or one state's."""
        where, args = _where(app=app, state=state)
        rows = self._query(f"SELECT {_TASK_COLUMNS} FROM task{where} ORDER BY task_id", args)
        return [_task_info(r) for r in rows]

    def tries(self, task_id: int | None = None) -> list[TryInfo]:
        """Every try (or one task's tries), by task id and try id."""
        where, args = _where(task_id=task_id)
        rows = self._query(f"SELECT * FROM try{where} ORDER BY task_id, try_id", args)
        return [TryInfo(*r) for r in rows]

    def states(self, task_id: int | None = None) -> list[StateChange]:
        """Every state transition (or one task's), in the order they were recorded."""
        where, args = _where(task_id=task_id)
        rows = self._query(f"SELECT task_id, try_id, state, time, detail FROM status{where} ORDER BY rowid", args)
        return [StateChange(*r) for r in rows]

    def blocks(self) -> list[BlockInfo]:
        """Every block state change, in order."""
        rows = self._query("SELECT executor, block_id, job_id, provider, state, time, detail FROM block ORDER BY rowid")
        return [BlockInfo(*r) for r in rows]

    def resources(self, task_id: int | None = None) -> list[ResourceSample]:
        """Every resource sample (or one task's), in time order."""
        where, args = _where(task_id=task_id)
        rows = self._query("SELECT task_id, try_id, engine, block, time, cpu_percent, rss, vms, read_bytes,"
                           f" write_bytes, num_threads FROM resource{where} ORDER BY time", args)
        return [ResourceSample(*r) for r in rows]

    def summary(self) -> list[AppSummary]:
        """Per-app totals: tasks, states, tries and try durations (fast on large runs)."""
        by_app: dict[str, dict[str, int]] = {}
        for app, state, n in self._query("SELECT app, coalesce(state, 'UNKNOWN'), count(*) FROM task "
                                         "GROUP BY app, state"):
            by_app.setdefault(app, {})[state] = n
        durations = {app: (n, mean, mx) for app, n, mean, mx in self._query(
            "SELECT t.app, count(*), avg(y.time_returned - coalesce(y.time_running, y.time_launched)),"
            " max(y.time_returned - coalesce(y.time_running, y.time_launched))"
            " FROM try y JOIN task t ON t.task_id = y.task_id GROUP BY t.app")}
        out = []
        for app, states in sorted(by_app.items()):
            tries, mean, mx = durations.get(app, (0, None, None))
            out.append(AppSummary(app, sum(states.values()), states, tries, mean, mx))
        return out

    def dataframe(self, table: str = "tasks") -> Any:
        """A table as a pandas DataFrame (needs pandas).

        ``table`` is ``'tasks'``, ``'tries'``, ``'states'``, ``'blocks'``,
        ``'resources'`` or ``'workflow'``.
        """
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Run.dataframe needs pandas: pip install pandas "
                              "(run.tasks(), run.tries() and run.states() give plain records without it)") from e
        if table not in _TABLES:
            raise ValueError(f"unknown table {table!r}; choose one of {sorted(_TABLES)}")
        conn = self._connect()
        try:
            return pd.read_sql_query(f"SELECT * FROM {_TABLES[table]}", conn)
        finally:
            conn.close()

    def __repr__(self) -> str:
        state = "finished" if self.finished else "not finished"
        return f"<Run {self.path} {self.name!r} {state}>"


def runs(run_dir: str | os.PathLike[str] = "runinfo") -> list[Run]:
    """The runs under ``run_dir`` that have a monitoring database, oldest first.

    Parameters
    ----------
    run_dir : str or Path
        The folder the kernels made their numbered run directories in
        (``Config.run_dir``, default ``'runinfo'``).

    Returns
    -------
    list of Run
        Empty if the folder does not exist.

    Examples
    --------
    >>> import parsl_nb
    >>> for run in parsl_nb.runs():                       # doctest: +SKIP
    ...     print(run.path.name, run.name, run.counts())
    """
    base = Path(run_dir)
    if not base.is_dir():
        return []
    found = [p for p in base.iterdir() if (p / DB_NAME).is_file()]
    found.sort(key=lambda p: (0, int(p.name), "") if p.name.isdigit() else (1, 0, p.name))
    return [Run(p) for p in found]


def _where(**conds: Any) -> tuple[str, tuple[Any, ...]]:
    used = {k: v for k, v in conds.items() if v is not None}
    if not used:
        return "", ()
    return " WHERE " + " AND ".join(f"{k} = ?" for k in used), tuple(used.values())


def _task_info(row: tuple[Any, ...]) -> TaskInfo:
    values = list(row)
    names = [f.name for f in fields(TaskInfo)]
    d = dict(zip(names, values, strict=True))
    d["depends"] = tuple(int(x) for x in d["depends"].split(",") if x) if d["depends"] else ()
    d["inputs"] = tuple(json.loads(d["inputs"])) if d["inputs"] else ()
    d["outputs"] = tuple(json.loads(d["outputs"])) if d["outputs"] else ()
    d["memoize"] = None if d["memoize"] is None else bool(d["memoize"])
    d["tries"] = d["tries"] or 0
    d["fail_count"] = d["fail_count"] or 0
    return TaskInfo(**d)
