"""Task states and the one table of allowed transitions."""

from __future__ import annotations

import enum

__all__ = ["FINAL_STATES", "FINAL_FAILURE_STATES", "States", "TaskState", "allowed"]


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
