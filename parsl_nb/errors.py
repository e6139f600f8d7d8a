"""Exceptions raised by parsl_nb, with Parsl's names.

Every class here survives a pickle round trip (engines send exceptions back to
the kernel), because each passes all of its constructor arguments on to
``BaseException.__init__`` or defines ``__reduce__``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "AppBadFormatting",
    "AppException",
    "AppTimeout",
    "BadCheckpoint",
    "BadStdStreamFile",
    "BashAppNoReturn",
    "BashExitFailure",
    "ConfigError",
    "ConfigurationError",
    "DataFlowException",
    "DependencyError",
    "ExecutorError",
    "InternalConsistencyError",
    "InvalidResourceSpecification",
    "JoinError",
    "MissingOutputs",
    "NoDataFlowKernelError",
    "OptionalModuleMissing",
    "ParslError",
    "PropagatedException",
    "SerializationError",
    "StagingError",
    "UnsupportedFeatureError",
    "WorkerLost",
]


class ParslError(Exception):
    """Base class of every parsl_nb error."""


class ConfigError(ParslError, ValueError):
    """A configuration value is invalid; the message names it and the fix."""


ConfigurationError = ConfigError
"""Parsl's name for :class:`ConfigError`."""


class NoDataFlowKernelError(ParslError, RuntimeError):
    """An app was called, or ``dfk()`` asked for, before ``parsl_nb.load()``."""


class UnsupportedFeatureError(ParslError):
    """An executor was asked for something it cannot honour.

    Parameters
    ----------
    feature : str
        What was asked for, for example ``"parsl_resource_specification"``.
    executor : str
        The label of the executor that refused it.
    hint : str
        What to do instead.
    """

    def __init__(self, feature: str, executor: str, hint: str = "") -> None:
        super().__init__(feature, executor, hint)
        self.feature = feature
        self.executor = executor
        self.hint = hint

    def __str__(self) -> str:
        msg = f"executor {self.executor!r} does not support {self.feature}"
        return f"{msg}; {self.hint}" if self.hint else msg


class InvalidResourceSpecification(UnsupportedFeatureError):
    """A task's ``parsl_resource_specification`` cannot be honoured (Parsl's name).

    Also an :class:`UnsupportedFeatureError`, with ``feature`` naming the
    specification, so either ``except`` clause catches it.

    Parameters
    ----------
    invalid_keys : set of str
        The keys that cannot be honoured, for example ``{"cores"}``.
    message : str
        Why, and what to do instead.
    executor : str
        The label of the executor that refused them.
    """

    def __init__(self, invalid_keys: Iterable[str], message: str = "", executor: str = "") -> None:
        keys = set(invalid_keys)
        ParslError.__init__(self, keys, message, executor)  # the constructor's own arguments: it pickles
        self.invalid_keys = keys
        self.message = message
        self.feature = f"parsl_resource_specification keys {sorted(keys)}"
        self.executor = executor
        self.hint = message


class ExecutorError(ParslError):
    """The executor that ran (or should run) a task failed as a whole.

    Parameters
    ----------
    executor : str
        Label of the executor.
    reason : str
        What went wrong and what to do next.
    """

    def __init__(self, executor: str, reason: str) -> None:
        super().__init__(executor, reason)
        self.executor = executor
        self.reason = reason

    def __str__(self) -> str:
        return f"executor {self.executor!r} failed: {self.reason}"


class WorkerLost(ExecutorError):
    """The worker (engine) running a task died before it reported a result.

    Parameters
    ----------
    worker : str
        Which worker was lost, for example ``"engine 3 (block 0)"``.
    detail : str
        What is known of the loss.
    """

    def __init__(self, worker: str, detail: str = "") -> None:
        ParslError.__init__(self, worker, detail)
        self.executor = ""
        self.worker = worker
        self.reason = detail
        self.detail = detail

    def __str__(self) -> str:
        msg = f"worker {self.worker} was lost while running the task"
        return f"{msg}: {self.detail}" if self.detail else msg


class SerializationError(ParslError):
    """An argument or result of a task could not be serialised.

    Parameters
    ----------
    what : str
        Which value failed, for example ``"argument 'data'"`` or ``"result"``.
    reason : str
        The underlying error, as text.
    """

    def __init__(self, what: str, reason: str = "") -> None:
        super().__init__(what, reason)
        self.what = what
        self.reason = reason

    def __str__(self) -> str:
        return (
            f"could not serialise {self.what}: {self.reason}. Pass a value that "
            "pickles (plain data, numpy arrays, module-level classes), or use the "
            "thread executor, which does not serialise"
        )


class StagingError(ParslError):
    """Moving a file in or out for a task failed.

    Parameters
    ----------
    url : str
        The file's URL.
    reason : str
        The cause.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, reason)
        self.url = url
        self.reason = reason

    def __str__(self) -> str:
        return f"staging of {self.url} failed: {self.reason}"


class AppException(ParslError):
    """An app raised, or ran into, an exception of its own (Parsl's base name)."""


class AppTimeout(AppException):
    """An app ran longer than its ``walltime``."""


class AppBadFormatting(AppException):
    """A bash app's command string could not be built."""


class BashAppNoReturn(AppException, ValueError):
    """A bash app's body did not return a command string.

    Also a ``ValueError``, the type Parsl raises for it.
    """


class BadStdStreamFile(AppException):
    """A ``stdout=``/``stderr=`` specification is invalid or cannot be opened.

    Parameters
    ----------
    spec : str
        The offending specification, as text.
    reason : str
        Why it is invalid and what to pass instead.
    """

    def __init__(self, spec: str, reason: str) -> None:
        super().__init__(spec, reason)
        self.spec = spec
        self.reason = reason

    def __str__(self) -> str:
        return f"bad std stream {self.spec}: {self.reason}"


class BashExitFailure(AppException):
    """A bash app's command exited with a non-zero code.

    Parameters
    ----------
    app_name : str
        The app's name.
    exitcode : int
        The command's exit code (negative: killed by that signal).
    """

    def __init__(self, app_name: str, exitcode: int) -> None:
        super().__init__(app_name, exitcode)
        self.app_name = app_name
        self.exitcode = exitcode

    def __str__(self) -> str:
        return f"bash_app {self.app_name} failed with unix exit code {self.exitcode}"


class MissingOutputs(AppException):
    """A bash app finished but did not create every file named in ``outputs=``.

    Parameters
    ----------
    reason : str
        Which app, and what it means.
    outputs : sequence
        The missing files.
    """

    def __init__(self, reason: str, outputs: Sequence[Any]) -> None:
        super().__init__(reason, list(outputs))
        self.reason = reason
        self.outputs = list(outputs)

    def __str__(self) -> str:
        names = ", ".join(str(o) for o in self.outputs)
        return f"{self.reason}: missing {names}"


class DataFlowException(ParslError):
    """Base class of the kernel's own errors (Parsl's name)."""


class BadCheckpoint(DataFlowException):
    """A checkpoint file could not be read.

    Parameters
    ----------
    reason : str
        Which file, and what is wrong with it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class InternalConsistencyError(ParslError):
    """parsl_nb found itself in a state it should never reach (a bug: please report it)."""


class OptionalModuleMissing(ParslError):
    """A feature needs a package that is not installed.

    Parameters
    ----------
    module_names : sequence of str
        The missing packages.
    reason : str
        What needs them, and how to install them.
    """

    def __init__(self, module_names: Sequence[str], reason: str) -> None:
        super().__init__(list(module_names), reason)
        self.module_names = list(module_names)
        self.reason = reason

    def __str__(self) -> str:
        return f"the functionality requested requires missing optional modules {self.module_names}: {self.reason}"


class PropagatedException(DataFlowException):
    """A task failed because another task it relied on failed.

    Parsl's base class of :class:`DependencyError` and :class:`JoinError`.

    The message names the chain of task ids back to the root failure, and the
    root exception is attached as ``__cause__``.

    Parameters
    ----------
    dependent_exceptions_tids : sequence of (BaseException, str, int or None)
        The failed tasks, each as ``(exception, description)``. The description
        is Parsl's: ``"task 3"`` for a task (an int task id is turned into
        that), ``None`` for a plain future that is not a task.
    task_id : int
        The task that could not run.
    """

    _label = "Dependency failure"

    def __init__(
        self, dependent_exceptions_tids: Sequence[tuple[BaseException, str | int | None]], task_id: int
    ) -> None:
        pairs = [(exc, _describe(tid)) for exc, tid in dependent_exceptions_tids]
        super().__init__(pairs, task_id)
        self.dependent_exceptions_tids = pairs
        self.task_id = task_id
        root = _root_cause(pairs)
        if root is not None:
            self.__cause__ = root

    def chain(self) -> list[int | str]:
        """The task ids from this task back to the first failure."""
        out: list[int | str] = [self.task_id]
        err: PropagatedException = self
        while err.dependent_exceptions_tids:  # a loop, not recursion: chains may be long
            exc, tid = err.dependent_exceptions_tids[0]
            if not isinstance(exc, PropagatedException):
                out.append(_task_id(tid))
                break
            err = exc
            out.append(err.task_id)
        return out

    def __str__(self) -> str:
        links = [f"task {t}" if isinstance(t, int) else str(t) for t in self.chain()]
        if len(links) > _MAX_LINKS:
            hidden = len(links) - _MAX_LINKS + 1
            links = [*links[:_MAX_LINKS - 3], f"... ({hidden} more)", *links[-2:]]
        root = _root_cause(self.dependent_exceptions_tids)
        what = f"{type(root).__name__}: {root}" if root is not None else "unknown error"
        more = len(self.dependent_exceptions_tids) - 1
        extra = f" (and {more} more failed dependencies)" if more > 0 else ""
        return f"{self._label} for task {self.task_id}: {' <- '.join(links)} failed: {what}{extra}"


class DependencyError(PropagatedException):
    """A task could not run because a task it depends on failed.

    For example ``Dependency failure for task 7: task 7 <- task 3 <- task 1
    failed: ZeroDivisionError: division by zero``; the root exception is the
    ``__cause__``, and ``dependent_exceptions_tids`` lists each failed
    dependency as ``(exception, "task 3")``, as in Parsl.

    Parameters
    ----------
    dependent_exceptions_tids : sequence of (BaseException, str, int or None)
        The failed dependencies (see :class:`PropagatedException`).
    task_id : int
        The task that could not run.
    """


_MAX_LINKS = 10


class JoinError(PropagatedException):
    """A future returned by a join app's body failed.

    Parameters
    ----------
    dependent_exceptions_tids : sequence of (BaseException, str, int or None)
        The failed inner futures (see :class:`PropagatedException`).
    task_id : int
        The join app's task.
    """

    _label = "Join failure"


def _describe(tid: str | int | None) -> str | None:
    return f"task {tid}" if isinstance(tid, int) else tid


def _task_id(description: str | None) -> int | str:
    """The task id in a Parsl description ("task 3", "DataFuture from task 3"), else the description."""
    if description is None:
        return "future"
    found = re.fullmatch(r"(?:DataFuture from )?task (\d+)", description)
    return int(found.group(1)) if found else description


def _root_cause(pairs: Sequence[tuple[BaseException, str | None]]) -> BaseException | None:
    if not pairs:
        return None
    exc = pairs[0][0]
    while isinstance(exc, PropagatedException) and exc.dependent_exceptions_tids:
        exc = exc.dependent_exceptions_tids[0][0]
    return exc
