"""``AppFuture`` and ``DataFuture``: real ``concurrent.futures.Future`` objects.

They work with ``concurrent.futures.wait``/``as_completed``,
``asyncio.wrap_future`` and ``await``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Generator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .data.files import File
    from .dataflow.taskrecord import TaskRecord

__all__ = ["AppFuture", "DataFuture", "LeanFuture"]

T = TypeVar("T")


# A finished future never waits on its condition again (result() and friends
# see the final state at once), so finished futures share this one instead
# of each keeping its own Condition (about 1.1 KB: an RLock and a deque). A
# thread that entered the old condition before the swap still leaves it by
# that same object, so the swap is safe.
_DONE_CONDITION = threading.Condition()
_MAKING = threading.Lock()  # guards a lean future's state while it has no condition of its own
_FINISHED, _CANCELLED, _NOTIFIED = "FINISHED", "CANCELLED", "CANCELLED_AND_NOTIFIED"


class LeanFuture(Future[T]):
    """A ``concurrent.futures.Future`` that makes its Condition only when a thread waits on it.

    A workflow holds one future per task in flight, often a hundred thousand;
    most are never waited on one by one (their done-callbacks move the work
    on), and a Condition costs about 1.1 KB and 2 us to make. Until some
    thread calls a method that needs it (``result``, ``exception``,
    ``concurrent.futures.wait``...), the state is guarded by one module lock
    instead; a future that finishes without one shares the finished futures'
    condition. Behaviour is the standard library's in every case.
    """

    def __init__(self) -> None:
        self._state = "PENDING"
        self._result: Any = None
        self._exception: BaseException | None = None
        self._waiters: list[Any] = []
        self._done_callbacks: list[Any] = []

    @property
    def _condition(self) -> threading.Condition:
        cond = self.__dict__.get("_cond")
        if cond is None:
            with _MAKING:
                cond = self.__dict__.get("_cond")
                if cond is None:
                    cond = self.__dict__["_cond"] = threading.Condition()
        return cond

    @_condition.setter
    def _condition(self, value: threading.Condition) -> None:
        self.__dict__["_cond"] = value

    def done(self) -> bool:
        """Whether the future finished or was cancelled (a read; takes no lock)."""
        return self._state in (_FINISHED, _CANCELLED, _NOTIFIED)

    def cancelled(self) -> bool:
        """Whether the future was cancelled (a read; takes no lock)."""
        return self._state in (_CANCELLED, _NOTIFIED)

    def running(self) -> bool:
        """Whether the future is running (a read; takes no lock)."""
        return self._state == "RUNNING"

    def add_done_callback(self, fn: Any) -> None:
        """Call ``fn(future)`` when the future is done (at once if it is)."""
        with _MAKING:
            if "_cond" not in self.__dict__:  # so not done: finishing or cancelling gives it one
                self._done_callbacks.append(fn)
                return
        super().add_done_callback(fn)

    def set_result(self, result: T) -> None:
        """Resolve with ``result``."""
        if not self._finish_unwatched(result, None):
            super().set_result(result)
        self._condition = _DONE_CONDITION

    def set_exception(self, exception: BaseException | None) -> None:
        """Fail with ``exception``."""
        if not self._finish_unwatched(None, exception):
            super().set_exception(exception)
        self._condition = _DONE_CONDITION

    def _finish_unwatched(self, result: Any, exception: BaseException | None) -> bool:
        """Finish without a condition if no thread ever needed one; False if one did."""
        with _MAKING:
            if "_cond" in self.__dict__:  # also when done or cancelled: the standard path raises
                return False
            self._result, self._exception = result, exception
            self._state = _FINISHED
            self.__dict__["_cond"] = _DONE_CONDITION  # no waiter can exist: waiting needs the condition
        self._invoke_callbacks()  # type: ignore[attr-defined]
        return True


class _Awaitable(LeanFuture[T]):
    def __await__(self) -> Generator[Any, None, T]:
        return asyncio.wrap_future(self).__await__()

    def _cancel_and_notify(self) -> bool:
        # Future.cancel() alone leaves the state CANCELLED, which
        # concurrent.futures.wait/as_completed do not count as done; an
        # executor would move it on, so do that here.
        if not Future.cancel(self):
            return False
        with self._condition:
            if self._state == "CANCELLED":
                self.set_running_or_notify_cancel()
        return True


class AppFuture(_Awaitable[T]):
    """The future of one app call: resolves to the app's return value.

    Examples
    --------
    >>> fut = double(21)          # returns at once  # doctest: +SKIP
    >>> fut.result()              # waits for the task  # doctest: +SKIP
    42
    """

    def __init__(self, task_record: TaskRecord) -> None:
        super().__init__()
        self.task_record = task_record
        self._outputs: list[DataFuture] = []

    @property
    def tid(self) -> int:
        """The task id."""
        return self.task_record.tid

    def task_status(self) -> str:
        """The task's state in Parsl's spelling, for example ``'exec_done'``."""
        return self.task_record.status.label

    @property
    def outputs(self) -> list[DataFuture]:
        """One :class:`DataFuture` per ``File`` passed in ``outputs=``."""
        return self._outputs

    @property
    def stdout(self) -> Any:
        """The ``stdout=`` target of the call (a path), or None."""
        return self.task_record.stdout

    @property
    def stderr(self) -> Any:
        """The ``stderr=`` target of the call (a path), or None."""
        return self.task_record.stderr

    def cancel(self) -> bool:
        """Cancel the task if it can still be stopped.

        A task that has not been launched always can: it ends ``CANCELLED``
        and its dependants end ``DEP_FAIL``. A running task can be stopped
        only where its executor supports it (the engine executor does).

        Returns
        -------
        bool
            True if the task is now cancelled.
        """
        dfk = self.task_record.dfk
        if dfk is None:
            return self._cancel_and_notify()
        return bool(dfk.cancel_task(self.task_record))

    def _set_cancelled(self) -> bool:
        return self._cancel_and_notify()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from .jupyter.reprs import future_mimebundle

        return future_mimebundle(self)

    def __getitem__(self, key: Any) -> AppFuture[Any]:
        """A future of ``self.result()[key]``, as in Parsl."""
        return self.task_record.dfk.deferred("getitem", self, key)

    def __getattr__(self, name: str) -> AppFuture[Any]:
        # Parsl lifts public attribute access onto the result; private and
        # dunder names stay plain so Python's protocols keep working.
        if name.startswith("_") or "task_record" not in self.__dict__:
            raise AttributeError(name)
        return self.task_record.dfk.deferred("getattr", self, name)

    def __repr__(self) -> str:
        rec = self.task_record
        state = rec.status.label
        extra = ""
        if self.done() and not self.cancelled():
            exc = self.exception()
            extra = f" raised {type(exc).__name__}" if exc else f" returned {type(self.result()).__name__}"
        return f"<AppFuture task {rec.tid} {rec.app_name} state={state}{extra}>"


class DataFuture(_Awaitable["File"]):
    """A file an app will produce: resolves to the ``File`` when the app ends.

    Pass it in ``inputs=`` of another app to wait for the file; if the
    producing app fails, the DataFuture raises the same exception.
    """

    def __init__(self, fut: AppFuture[Any], file_obj: File, tid: int | None = None) -> None:
        super().__init__()
        self._file = file_obj
        self.parent = fut
        self._tid = tid if tid is not None else fut.tid
        fut.add_done_callback(self._parent_done)

    def _parent_done(self, fut: Future[Any]) -> None:
        if fut.cancelled():
            self._cancel_and_notify()
        elif fut.exception() is not None:
            self.set_exception(fut.exception())
        else:
            self.set_result(self._file)

    @property
    def tid(self) -> int:
        """The id of the task that produces the file."""
        return self._tid

    @property
    def file_obj(self) -> File:
        """The ``File`` (available at once, before the file exists)."""
        return self._file

    @property
    def filepath(self) -> str:
        """Local path of the file."""
        return self._file.filepath

    @property
    def filename(self) -> str:
        """Base name of the file."""
        return self._file.filename

    def cancel(self) -> bool:
        """Cancel the producing task (see :meth:`AppFuture.cancel`)."""
        return self.parent.cancel()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from .jupyter.reprs import datafuture_html, datafuture_text, mimebundle

        return mimebundle(datafuture_text(self), datafuture_html(self))

    def __fspath__(self) -> str:
        return self._file.filepath

    def __repr__(self) -> str:
        state = "done" if self.done() else "pending"
        return f"<DataFuture {self._file.filepath} of task {self._tid} {state}>"
