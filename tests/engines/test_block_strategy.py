"""The 'simple' strategy's block decisions, against Slurm's command output (fake runner, fake clock).

Each round is what the executor's strategy thread does: poll ``squeue`` with the
engines each block has connected and the tasks still waiting for an engine, then
scale. The clock is the test's, so ``max_idletime`` passes without waiting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parsl_nb.dataflow.events import BlockEvent
from parsl_nb.executors.engines.blocks import BlockManager
from parsl_nb.launchers import SimpleLauncher
from parsl_nb.providers.base import JobState
from parsl_nb.providers.slurm import SlurmProvider
from tests.providers.fakes import FakeRunner

IDLE = 10.0  # max_idletime


class Session:
    """A BlockManager over a fake Slurm, driven one strategy round at a time."""

    def __init__(self, tmp_path: Path, max_blocks: int, min_blocks: int = 0) -> None:
        self.runner = FakeRunner()
        for job in range(41, 41 + max_blocks):
            self.runner.add("sbatch", 0, f"Submitted batch job {job}\n")
        provider = SlurmProvider(partition="debug", max_blocks=max_blocks, runner=self.runner,
                                 launcher=SimpleLauncher())
        provider.script_dir = str(tmp_path)
        self.now = 0.0
        self.events: list[Any] = []
        self.min_blocks = min_blocks
        self.blocks = BlockManager("engines", provider, lambda block: "true", 1, self.events.append,
                                   clock=lambda: self.now)

    def round(self, at: float, squeue: str, engines: dict[str, tuple[int, int]], waiting: int,
              outstanding: int) -> None:
        self.now = at
        if self.blocks.active:
            self.runner.add("squeue", 0, squeue)
        self.blocks.poll(engines, waiting)
        self.blocks.simple_round(outstanding, waiting, 1.0, self.min_blocks, IDLE)

    def cancelled_jobs(self) -> list[str]:
        return [arg for argv, _ in self.runner.calls if argv[0] == "scancel" for arg in argv[1:]]

    def states(self) -> list[JobState]:
        return [b.state for b in self.blocks.blocks.values()]


RUNNING_AND_QUEUED = "41|RUNNING|None\n42|PENDING|Resources\n"


def test_a_block_left_in_the_queue_is_cancelled_after_max_idletime_once_no_task_waits(tmp_path: Path) -> None:
    s = Session(tmp_path, max_blocks=2)
    s.round(0, "", {}, waiting=4, outstanding=4)  # 4 tasks, no block yet: ask Slurm for two
    assert [b.job_id for b in s.blocks.blocks.values()] == ["41", "42"]

    # job 41 starts and its engine takes a task; job 42 stays queued while tasks wait
    for t in (1.0, 5.0, 30.0):
        s.round(t, RUNNING_AND_QUEUED, {"0": (1, 2)}, waiting=2, outstanding=4)
    assert s.states() == [JobState.RUNNING, JobState.PENDING] and s.cancelled_jobs() == []

    # the running engine took the rest: nothing waits, so the queued block is idle from now on
    s.round(31.0, RUNNING_AND_QUEUED, {"0": (1, 2)}, waiting=0, outstanding=2)
    s.round(31.0 + IDLE / 2, RUNNING_AND_QUEUED, {"0": (1, 1)}, waiting=0, outstanding=1)
    assert s.cancelled_jobs() == []  # not yet max_idletime

    s.runner.add("scancel", 0, "")
    s.round(31.0 + IDLE, RUNNING_AND_QUEUED, {"0": (1, 1)}, waiting=0, outstanding=1)
    assert s.cancelled_jobs() == ["42"]
    assert s.states() == [JobState.RUNNING, JobState.CANCELLED]  # the busy running block stays
    last = s.events[-1]
    assert isinstance(last, BlockEvent) and (last.block_id, last.state) == ("1", "cancelled")

    # the strategy does not ask for it again while the running engine holds the work
    s.round(31.0 + IDLE + 1, "41|RUNNING|None\n", {"0": (1, 1)}, waiting=0, outstanding=1)
    assert s.runner.programs().count("sbatch") == 2


def test_demand_coming_back_resets_a_queued_blocks_idle_clock(tmp_path: Path) -> None:
    s = Session(tmp_path, max_blocks=2)
    s.round(0, "", {}, waiting=4, outstanding=4)
    s.round(1.0, RUNNING_AND_QUEUED, {"0": (1, 2)}, waiting=0, outstanding=2)  # idle clock starts
    s.round(1.0 + IDLE - 1, RUNNING_AND_QUEUED, {"0": (1, 2)}, waiting=3, outstanding=5)  # demand is back
    s.round(1.0 + IDLE, RUNNING_AND_QUEUED, {"0": (1, 2)}, waiting=0, outstanding=2)  # clock starts again
    s.round(1.0 + IDLE + IDLE / 2, RUNNING_AND_QUEUED, {"0": (1, 2)}, waiting=0, outstanding=2)
    assert s.cancelled_jobs() == [] and s.states() == [JobState.RUNNING, JobState.PENDING]

    s.runner.add("scancel", 0, "")
    s.round(1.0 + 2 * IDLE, RUNNING_AND_QUEUED, {"0": (1, 2)}, waiting=0, outstanding=2)
    assert s.cancelled_jobs() == ["42"]


def test_queued_blocks_go_before_idle_running_ones_and_min_blocks_stay(tmp_path: Path) -> None:
    s = Session(tmp_path, max_blocks=3, min_blocks=1)
    s.round(0, "", {}, waiting=6, outstanding=6)
    assert len(s.blocks.active) == 3
    squeue = "41|RUNNING|None\n42|PENDING|Resources\n43|PENDING|Priority\n"
    s.round(1.0, squeue, {"0": (1, 0)}, waiting=0, outstanding=0)  # all done on block 0: everything idle

    s.runner.add("scancel", 0, "")
    s.round(1.0 + IDLE, squeue, {"0": (1, 0)}, waiting=0, outstanding=0)
    assert sorted(s.cancelled_jobs()) == ["42", "43"]  # min_blocks=1 keeps the running block, not a queued one
    assert s.states() == [JobState.RUNNING, JobState.CANCELLED, JobState.CANCELLED]
    assert {b.detail for b in s.blocks.blocks.values() if b.state is JobState.CANCELLED} == {"scaled in while queued"}

    s.round(1.0 + 3 * IDLE, "41|RUNNING|None\n", {"0": (1, 0)}, waiting=0, outstanding=0)
    assert s.states()[0] is JobState.RUNNING and s.runner.programs().count("scancel") == 1


def test_a_block_held_in_the_queue_counts_as_queued(tmp_path: Path) -> None:
    s = Session(tmp_path, max_blocks=1)
    s.round(0, "", {}, waiting=1, outstanding=1)
    s.round(1.0, "41|PENDING|JobHeldUser\n", {}, waiting=1, outstanding=1)
    s.round(1.0 + 2 * IDLE, "41|PENDING|JobHeldUser\n", {}, waiting=1, outstanding=1)
    assert s.cancelled_jobs() == []  # the task still needs it

    s.round(2.0 + 2 * IDLE, "41|PENDING|JobHeldUser\n", {}, waiting=0, outstanding=0)  # task cancelled
    s.runner.add("scancel", 0, "")
    s.round(2.0 + 3 * IDLE, "41|PENDING|JobHeldUser\n", {}, waiting=0, outstanding=0)
    assert s.cancelled_jobs() == ["41"] and s.states() == [JobState.CANCELLED]


def test_explicit_scale_in_still_cancels_queued_blocks_first_while_tasks_wait(tmp_path: Path) -> None:
    s = Session(tmp_path, max_blocks=2)
    s.round(0, "", {}, waiting=4, outstanding=4)
    s.round(1.0, RUNNING_AND_QUEUED, {"0": (1, 2)}, waiting=2, outstanding=4)
    s.runner.add("scancel", 0, "")
    assert s.blocks.scale_in(2) == ["1"]  # the running block holds tasks: only the queued one goes
    assert s.cancelled_jobs() == ["42"]
