"""Blocks (provider jobs of engines) and the strategy that scales them.

The 'simple' strategy (Parsl's simple / htex_auto_scale) each round:

- while tasks wait for an engine (the demand the connected engines cannot
  take), asks for blocks in proportion to the outstanding tasks, up to
  ``max_blocks``, and starts no idle clock;
- once nothing waits, submits nothing beyond ``min_blocks`` and retires each
  block that has held no task for ``max_idletime`` seconds, down to
  ``min_blocks``. A block still queued in the scheduler holds no task, so it
  is idle too: otherwise it would start later and burn allocation for work
  already done.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...dataflow.events import BlockEvent
from ...providers.base import ExecutionProvider, JobState

__all__ = ["Block", "BlockManager"]

logger = logging.getLogger(__name__)

_WAITING = (JobState.PENDING, JobState.HELD)  # job states of a block still in the scheduler's queue


@dataclass(slots=True)
class Block:
    """One provider job running a launcher that starts engines."""

    block_id: str
    job_id: str | None
    state: JobState
    engines: int = 0
    outstanding: int = 0
    idle_since: float | None = None
    detail: str = ""

    @property
    def active(self) -> bool:
        """Pending or running."""
        return not self.state.terminal

    @property
    def queued(self) -> bool:
        """Still waiting in the scheduler (or for its engines): no engine, no task."""
        return self.state in _WAITING and not self.engines and not self.outstanding


class BlockManager:
    """Submits, polls, scales and cancels blocks; publishes a BlockEvent on each change."""

    def __init__(self, label: str, provider: ExecutionProvider, command: Callable[[str], str],
                 engines_per_node: int, publish: Callable[[Any], None], max_failures: int = 3,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.provider, self.command, self.clock = label, provider, command, clock
        self.engines_per_node = max(1, engines_per_node)
        self.publish = publish
        self.max_failures = max_failures
        self.blocks: dict[str, Block] = {}
        self.failures_in_row = 0
        self.last_failure = ""
        self._ids = itertools.count()
        self.on_end: Callable[[Block], None] = lambda block: None  # a job ended without us cancelling it

    def _event(self, block: Block) -> None:
        self.publish(BlockEvent(time.time(), self.label, block.block_id, block.job_id, block.state.value,
                                block.detail))

    @property
    def active(self) -> list[Block]:
        """Blocks pending or running."""
        return [b for b in self.blocks.values() if b.active]

    @property
    def engines_per_block(self) -> int:
        """Engines a block starts: ``engines_per_node`` on each of the provider's nodes."""
        return self.engines_per_node * max(1, self.provider.nodes_per_block)

    @property
    def gave_up(self) -> bool:
        """True after ``max_failures`` blocks failed in a row."""
        return self.failures_in_row >= self.max_failures

    def scale_out(self, n: int) -> list[str]:
        """Submit ``n`` blocks (never beyond ``max_blocks``); return their ids."""
        room = self.provider.max_blocks - len(self.active)
        out = []
        for _ in range(max(0, min(n, room))):
            bid = str(next(self._ids))
            job = self.provider.submit(self.command(bid), self.engines_per_node, f"{self.label}-block-{bid}")
            block = self.blocks[bid] = Block(bid, job, JobState.PENDING)
            self._event(block)
            out.append(bid)
        return out

    def scale_in(self, n: int, idle_for: float = 0.0, before_cancel: Callable[[str], None] = lambda b: None,
                 keep: int = 0) -> list[str]:
        """Cancel up to ``n`` blocks idle for ``idle_for`` s, keeping ``keep`` active; return ids.

        Blocks still queued in the scheduler go first (then the longest idle):
        they hold no engine and no task, so cancelling them loses nothing, while
        an idle running block can take the next task at once. With
        ``idle_for=0`` (``executor.scale_in(n)``) every queued block is a
        candidate, even while tasks wait for engines.
        """
        now = self.clock()
        idle = [b for b in self.active if (b.idle_since is not None and now - b.idle_since >= idle_for)
                or (idle_for <= 0 and b.queued)]
        idle.sort(key=lambda b: (not b.queued, b.idle_since if b.idle_since is not None else now))
        chosen = idle[:max(0, min(n, len(self.active) - keep))]
        for b in chosen:
            before_cancel(b.block_id)
        jobs = [b.job_id for b in chosen if b.job_id is not None]
        if jobs:
            self.provider.cancel(jobs)
        for b in chosen:
            b.detail = "scaled in while queued" if b.queued else "scaled in"
            b.state = JobState.CANCELLED
            self._event(b)
        return [b.block_id for b in chosen]

    def poll(self, engines: dict[str, tuple[int, int]], waiting: int = 0) -> None:
        """Refresh job states and idle clocks.

        ``engines`` maps block id to (engines, outstanding tasks); ``waiting``
        counts tasks queued for an engine. A block is idle while it holds no
        task and no task waits: its clock starts then and resets when demand
        comes back, whether the block runs or is still queued.
        """
        live = [b for b in self.active if b.job_id is not None]
        statuses = self.provider.status([b.job_id for b in live if b.job_id is not None]) if live else []
        now = self.clock()
        for block, status in zip(live, statuses, strict=False):
            block.engines, block.outstanding = engines.get(block.block_id, (0, 0))
            state = JobState.PENDING if status.state is JobState.RUNNING and not block.engines else status.state
            if state is JobState.RUNNING and block.engines:
                self.failures_in_row = 0
            if state is not block.state:
                block.state = state
                block.detail = status.message
                self._on_change(block)
            busy = block.outstanding > 0 or waiting > 0
            block.idle_since = None if busy else (block.idle_since if block.idle_since is not None else now)

    def _on_change(self, block: Block) -> None:
        if block.state is JobState.FAILED:
            self.failures_in_row += 1
            self.last_failure = f"block {block.block_id} (job {block.job_id}) failed: {block.detail}"
            logger.warning("executor %s: %s", self.label, self.last_failure)
        if block.state.terminal:
            self.on_end(block)
        self._event(block)

    def wanted(self, demand: int, parallelism: float, min_blocks: int) -> int:
        """How many more blocks the 'simple' strategy wants for ``demand`` tasks."""
        target = math.ceil(demand * parallelism / self.engines_per_block)
        target = max(min_blocks, min(target, self.provider.max_blocks))
        return max(0, target - len(self.active))

    def simple_round(self, outstanding: int, waiting: int, parallelism: float, min_blocks: int,
                     max_idletime: float, before_cancel: Callable[[str], None] = lambda b: None) -> None:
        """One round of the 'simple' strategy (see the module docstring), after :meth:`poll`.

        It scales out only while ``waiting`` tasks have no engine: tasks the
        engines already hold cannot move to a new block, so asking for one then
        would only queue a job that the idle rule cancels again.
        """
        self.scale_out(self.wanted(outstanding if waiting else 0, parallelism, min_blocks))
        if not waiting:
            self.scale_in(len(self.active), max_idletime, before_cancel, keep=min_blocks)

    def shutdown(self) -> None:
        """Cancel every active block."""
        jobs = [b.job_id for b in self.active if b.job_id is not None]
        if jobs:
            self.provider.cancel(jobs)
        for b in self.active:
            b.state = JobState.CANCELLED
            b.detail = "executor shut down"
            self._event(b)
