"""What ``EngineExecutor.status_summary()`` reports: blocks and engines as small named rows.

Each row is a ``NamedTuple`` (so it indexes, unpacks and turns into JSON like a
tuple) whose ``str`` is the line a status display shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from ...providers.base import JobState
from .blocks import Block
from .dispatch import EngineInfo

__all__ = ["BlockStatus", "EngineStatus", "block_rows", "engine_rows"]


class BlockStatus(NamedTuple):
    """One block: its id, the provider's job id, its state and connected engines."""

    block_id: str
    job_id: str | None
    state: str
    engines: int

    def __str__(self) -> str:
        job = f"job {self.job_id}" if self.job_id is not None else "no job"
        return f"block {self.block_id} ({job}): {self.state}, {self.engines} engine{_s(self.engines)}"


class EngineStatus(NamedTuple):
    """One connected engine: its id, block, host, pid and tasks it holds."""

    engine_id: str
    block: str
    host: str
    pid: int
    tasks: int

    def __str__(self) -> str:
        return (f"engine {self.engine_id} (block {self.block}, {self.host} pid {self.pid}): "
                f"{self.tasks} task{_s(self.tasks)}")


def block_rows(blocks: Iterable[Block], engines: Iterable[EngineStatus]) -> list[BlockStatus]:
    """A row per block, in the order started, with its connected ``engines`` counted now."""
    live: dict[str, int] = {}
    for e in engines:
        live[e.block] = live.get(e.block, 0) + 1
    return [BlockStatus(b.block_id, b.job_id, _state(b, live.get(b.block_id, 0)), live.get(b.block_id, 0))
            for b in blocks]


def _state(block: Block, engines: int) -> str:
    # engines connect before the next status poll: a pending job with engines runs
    return JobState.RUNNING.value if block.state is JobState.PENDING and engines else block.state.value


def engine_rows(engines: Iterable[EngineInfo]) -> list[EngineStatus]:
    """A row per connected engine, by block then engine id."""
    rows = [EngineStatus(e.engine_id, e.block, e.host, e.pid, len(e.tasks)) for e in engines if not e.lost]
    return sorted(rows, key=lambda r: (_num(r.block), _num(r.engine_id)))


def _num(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (1 << 30, text)


def _s(n: int) -> str:
    return "" if n == 1 else "s"
