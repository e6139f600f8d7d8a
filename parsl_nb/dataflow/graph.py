"""The task graph as a networkx DiGraph."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..data.staging.base import task_kind
from .taskrecord import TaskRecord

__all__ = ["task_graph"]


def task_graph(records: Iterable[TaskRecord]) -> Any:
    """A DiGraph with one node per task and an edge from each dependency to its dependant.

    Node attributes: ``app``, ``state`` (Parsl's name), ``time_invoked``,
    ``time_returned``, ``tries``, ``executor``, ``kind`` (``'app'``, or
    ``'stage_in'``/``'stage_out'`` for file transfers).
    """
    import networkx as nx

    g = nx.DiGraph()
    records = list(records)
    for r in records:
        g.add_node(r.tid, app=r.app_name, state=r.status.label, time_invoked=r.time_invoked,
                   time_returned=r.time_returned, tries=r.try_id + 1, executor=r.executor,
                   kind=task_kind(r.app_name))
    for r in records:
        for dep in r.depends:
            if dep in g:
                g.add_edge(dep, r.tid)
    return g
