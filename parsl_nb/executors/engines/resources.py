"""Resource samples of an engine's process tree (psutil), for the monitoring store.

The engine's IO thread calls :meth:`Sampler.sample` every
``resource_interval`` seconds and sends the samples on its next heartbeat;
the dispatcher turns them into :class:`~parsl_nb.dataflow.events.ResourceEvent`.
"""

from __future__ import annotations

import os
import time
from typing import Any

__all__ = ["Sample", "Sampler"]

# (time, tid or None, cpu_percent, rss, vms, read_bytes, write_bytes, num_threads)
Sample = tuple[float, "int | None", float, int, int, "int | None", "int | None", int]


class Sampler:
    """Sums CPU, memory, I/O and threads over this process and its children (bash apps' commands)."""

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._me = psutil.Process(os.getpid())
        self._procs: dict[int, Any] = {self._me.pid: self._me}
        self._me.cpu_percent(None)  # the first call only starts the measurement

    def _tree(self) -> list[Any]:
        try:
            kids = self._me.children(recursive=True)
        except self._psutil.Error:
            kids = []
        alive = {self._me.pid: self._me}
        for p in kids:
            alive[p.pid] = self._procs.get(p.pid, p)  # keep the object: cpu_percent measures since its last call
        self._procs = alive
        return list(alive.values())

    def sample(self, tid: int | None) -> Sample:
        """One sample of the whole tree, tagged with the task running now."""
        cpu, rss, vms, rb, wb, threads = 0.0, 0, 0, 0, 0, 0
        io_ok = True
        for p in self._tree():
            try:
                with p.oneshot():
                    cpu += p.cpu_percent(None)
                    mem = p.memory_info()
                    rss, vms, threads = rss + mem.rss, vms + mem.vms, threads + p.num_threads()
                    try:
                        io = p.io_counters()
                        rb, wb = rb + io.read_bytes, wb + io.write_bytes
                    except (AttributeError, self._psutil.Error):
                        io_ok = False  # no I/O counters on this platform, or not ours to read
            except self._psutil.Error:
                continue  # a child ended meanwhile
        return (time.time(), tid, cpu, rss, vms, rb if io_ok else None, wb if io_ok else None, threads)
