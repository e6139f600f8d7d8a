"""Task states and the one table of allowed transitions."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping, ValuesView

__all__ = ["FINAL_STATES", "FINAL_FAILURE_STATES", "States", "TaskState", "TaskStateCounts", "allowed"]


class TaskState(enum.IntEnum):
    """The life of a task, with Parsl's state names.

    ``UNSCHED``: created, not yet analysed. ``PENDING``: waiting for its
    dependencies (or ready and about to launch). ``LAUNCHED``: handed to an
    executor. ``RUNNING``: a worker has started it. ``JOINING``: a join app's
    body returned and its inner futures are awaited. ``FAIL_RETRYABLE``: a try
    failed and another try follows. Final: ``EXEC_DONE``, ``MEMO_DONE`` (served
    from the memo table or a checkpoint), ``FAILED``, ``DEP_FAIL``,
    ``CANCELLED``.
    """

    UNSCHED = 0
    PENDING = 1
    LAUNCHED = 2
    RUNNING = 3
    JOINING = 4
    FAIL_RETRYABLE = 5
    EXEC_DONE = 6
    MEMO_DONE = 7
    FAILED = 8
    DEP_FAIL = 9
    CANCELLED = 10

    # Parsl's spelling of the members, as aliases: ``States.exec_done``.
    unsched = 0
    pending = 1
    launched = 2
    running = 3
    joining = 4
    fail_retryable = 5
    exec_done = 6
    memo_done = 7
    failed = 8
    dep_fail = 9
    cancelled = 10

    # Parsl compares ``record['status'].name`` against lower-case strings.
    @property
    def label(self) -> str:
        """The Parsl spelling, for example ``'exec_done'``."""
        return self.name.lower()


BY_CODE: list[TaskState] = sorted(TaskState, key=int)
"""Each state at the index of its code: ``BY_CODE[6] is TaskState.EXEC_DONE``."""

States = TaskState
"""Parsl's name for :class:`TaskState`."""

S = TaskState
FINAL_STATES = frozenset({S.EXEC_DONE, S.MEMO_DONE, S.FAILED, S.DEP_FAIL, S.CANCELLED})
FINAL_FAILURE_STATES = frozenset({S.FAILED, S.DEP_FAIL, S.CANCELLED})

_ALLOWED: dict[TaskState, frozenset[TaskState]] = {
    S.UNSCHED: frozenset({S.PENDING, S.DEP_FAIL, S.CANCELLED, S.FAILED}),
    S.PENDING: frozenset({S.LAUNCHED, S.MEMO_DONE, S.DEP_FAIL, S.CANCELLED, S.FAILED}),
    S.LAUNCHED: frozenset({S.RUNNING, S.EXEC_DONE, S.FAILED, S.FAIL_RETRYABLE, S.JOINING, S.CANCELLED}),
    S.RUNNING: frozenset({S.EXEC_DONE, S.FAILED, S.FAIL_RETRYABLE, S.JOINING, S.CANCELLED}),
    S.JOINING: frozenset({S.EXEC_DONE, S.FAILED, S.FAIL_RETRYABLE, S.CANCELLED}),
    S.FAIL_RETRYABLE: frozenset({S.PENDING, S.FAILED, S.CANCELLED}),
}


def allowed(old: TaskState, new: TaskState) -> bool:
    """Whether a task may move from ``old`` to ``new``."""
    return new in _ALLOWED.get(old, frozenset())


class TaskStateCounts(Mapping[TaskState, int]):
    """How many tasks are in each state: Parsl's ``dfk.task_state_counts``.

    A read-only mapping with every :class:`TaskState` as a key (0 when no task
    is in it). It keeps no counts of its own: each read counts the states of
    the kernel's task records, the one owner of task state, so it is always
    current and can never drift from them.

    Examples
    --------
    >>> from parsl_nb.dataflow.states import States
    >>> parsl.dfk().task_state_counts[States.failed]      # doctest: +SKIP
    0
    """

    __slots__ = ("_states",)

    def __init__(self, states: Callable[[], Iterable[TaskState]]) -> None:
        self._states = states

    def __getitem__(self, state: TaskState) -> int:
        if not isinstance(state, TaskState):
            raise KeyError(state)
        return sum(1 for s in self._states() if s is state)

    def __iter__(self) -> Iterator[TaskState]:
        return iter(TaskState)

    def __len__(self) -> int:
        return len(TaskState)

    def snapshot(self) -> dict[TaskState, int]:
        """Every state's count, from one pass over the tasks."""
        found = Counter(self._states())
        return {state: found[state] for state in TaskState}

    def items(self) -> ItemsView[TaskState, int]:
        """(state, count) pairs, counted in one pass."""
        return self.snapshot().items()

    def values(self) -> ValuesView[int]:
        """The counts, in TaskState order, counted in one pass."""
        return self.snapshot().values()

    def __repr__(self) -> str:
        return f"TaskStateCounts({self.snapshot()!r})"
