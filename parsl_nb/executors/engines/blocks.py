"""Blocks (provider jobs of engines) and the strategy that scales them."""

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


class BlockManager:
    """Submits, polls, scales and cancels blocks; publishes a BlockEvent on each change."""

    def __init__(self, label: str, provider: ExecutionProvider, command: Callable[[str], str],
                 engines_per_node: int, publish: Callable[[Any], None], max_failures: int = 3) -> None:
        self.label, self.provider, self.command = label, provider, command
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

        With ``idle_for=0`` (``executor.scale_in(n)``) blocks still waiting in the
        scheduler's queue are cancelled first: they hold no engine and no task.
        """
        now = time.monotonic()
        idle = [b for b in self.active if b.idle_since is not None and now - b.idle_since >= idle_for]
        idle.sort(key=lambda b: b.idle_since or 0.0)
        if idle_for <= 0:  # asked for now: blocks still queued (no engine, no task) go first
            waiting = [b for b in self.active if b.state is JobState.PENDING and not b.outstanding]
            idle = waiting + [b for b in idle if b not in waiting]
        chosen = idle[:max(0, min(n, len(self.active) - keep))]
        for b in chosen:
            before_cancel(b.block_id)
        jobs = [b.job_id for b in chosen if b.job_id is not None]
        if jobs:
            self.provider.cancel(jobs)
        for b in chosen:
            b.state = JobState.CANCELLED
            b.detail = "scaled in"
            self._event(b)
        return [b.block_id for b in chosen]

    def poll(self, engines: dict[str, tuple[int, int]]) -> None:
        """Refresh job states; ``engines`` maps block id to (engines, outstanding tasks)."""
        live = [b for b in self.active if b.job_id is not None]
        statuses = self.provider.status([b.job_id for b in live if b.job_id is not None]) if live else []
        now = time.monotonic()
        for block, status in zip(live, statuses, strict=False):
            block.engines, block.outstanding = engines.get(block.block_id, (0, 0))
            busy = block.outstanding > 0 or block.state is JobState.PENDING
            block.idle_since = None if busy else (block.idle_since or now)
            state = JobState.PENDING if status.state is JobState.RUNNING and not block.engines else status.state
            if state is JobState.RUNNING and block.engines:
                self.failures_in_row = 0
            if state is not block.state:
                block.state = state
                block.detail = status.message
                self._on_change(block)

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

    def shutdown(self) -> None:
        """Cancel every active block."""
        jobs = [b.job_id for b in self.active if b.job_id is not None]
        if jobs:
            self.provider.cancel(jobs)
        for b in self.active:
            b.state = JobState.CANCELLED
            b.detail = "executor shut down"
            self._event(b)
