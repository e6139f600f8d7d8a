"""Python and join apps, and the decorators that make them."""

from __future__ import annotations

import ctypes
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from ..errors import AppTimeout
from .base import AppBase, CallSpec

if TYPE_CHECKING:
    from ..dataflow.kernel import DataFlowKernel

__all__ = ["JoinApp", "PythonApp", "join_app", "python_app"]

P = ParamSpec("P")
R = TypeVar("R")


class PythonApp(AppBase[P, R]):
    """An app that runs a Python function on an executor (see :func:`python_app`)."""

    kind = "python"

    def executed_function(self, spec: CallSpec, stdout: str | None, stderr: str | None) -> Callable[..., Any]:
        """The function, under a time limit when ``walltime=`` was given."""
        if spec.walltime is not None:
            return TimeLimited(self.func, spec.walltime, self.__name__)
        return self.func


class JoinApp(AppBase[P, R]):
    """An app whose body returns futures; its own future waits for them."""

    kind = "join"

    def __init__(self, func: Callable[P, Any], data_flow_kernel: DataFlowKernel | None = None,
                 cache: bool = False, ignore_for_cache: Sequence[str] | None = None) -> None:
        super().__init__(func, data_flow_kernel, ["_parsl_internal"], cache, ignore_for_cache)


class TimeLimited:
    """Run a function, raising :class:`AppTimeout` in it after ``walltime`` s.

    In a process's main thread (an engine) a timer signal interrupts even a
    blocking call; in other threads an asynchronous exception is raised as
    soon as the thread runs Python code again.
    """

    def __init__(self, func: Callable[..., Any], walltime: float, name: str) -> None:
        self.func = func
        self.walltime = walltime
        self.name = name
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
            return self._with_signal(args, kwargs)
        return self._with_async_exception(args, kwargs)

    def _timeout(self) -> AppTimeout:
        return AppTimeout(f"app {self.name} exceeded its walltime of {self.walltime} s")

    def _with_signal(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        def on_alarm(signum: int, frame: Any) -> None:
            raise self._timeout()

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, self.walltime)
        try:
            return self.func(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def _with_async_exception(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        ident = ctypes.c_ulong(threading.get_ident())
        lock = threading.Lock()
        finished = threading.Event()

        def interrupt() -> None:
            with lock:
                if not finished.is_set():
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ident, ctypes.py_object(AppTimeout))

        timer = threading.Timer(self.walltime, interrupt)
        timer.daemon = True
        timer.start()
        try:
            return self.func(*args, **kwargs)
        except AppTimeout:
            raise self._timeout() from None
        finally:
            timer.cancel()
            with lock:
                finished.set()
                # an interrupt that arrived as the function returned must not
                # go off later in the worker thread's own loop
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ident, None)


def _decorate(cls: type[AppBase[Any, Any]], function: Callable[..., Any] | None,
              **options: Any) -> Any:
    if function is not None:
        return cls(function, **options)

    def decorator(func: Callable[..., Any]) -> Any:
        return cls(func, **options)

    return decorator


@overload
def python_app(function: Callable[P, R], data_flow_kernel: DataFlowKernel | None = None,
               cache: bool = False, executors: str | Sequence[str] = "all",
               ignore_for_cache: Sequence[str] | None = None) -> PythonApp[P, R]: ...


@overload
def python_app(function: None = None, data_flow_kernel: DataFlowKernel | None = None,
               cache: bool = False, executors: str | Sequence[str] = "all",
               ignore_for_cache: Sequence[str] | None = None) -> Callable[[Callable[P, R]], PythonApp[P, R]]: ...


def python_app(function: Callable[P, R] | None = None, data_flow_kernel: DataFlowKernel | None = None,
               cache: bool = False, executors: str | Sequence[str] = "all",
               ignore_for_cache: Sequence[str] | None = None) -> Any:
    """Make a Python function an app: calling it returns an ``AppFuture`` at once.

    Usable as ``@python_app``, ``@python_app(cache=True)`` or
    ``python_app(math.sqrt)``.

    Parameters
    ----------
    function : callable, optional
        The function (given when used without parentheses).
    data_flow_kernel : DataFlowKernel, optional
        Kernel to submit to; default: the loaded one.
    cache : bool
        Memoize calls with the same function source and arguments.
    executors : 'all' or list of str
        Labels of executors the app may run on.
    ignore_for_cache : list of str, optional
        Keyword arguments left out of the memo key.

    Examples
    --------
    >>> @python_app
    ... def double(x):
    ...     return 2 * x
    >>> double(21).result()  # doctest: +SKIP
    42
    """
    return _decorate(PythonApp, function, data_flow_kernel=data_flow_kernel, cache=cache,
                     executors=executors, ignore_for_cache=ignore_for_cache)


@overload
def join_app(function: Callable[P, Future[R]], data_flow_kernel: DataFlowKernel | None = None,
             cache: bool = False, ignore_for_cache: Sequence[str] | None = None) -> JoinApp[P, R]: ...


@overload
def join_app(function: Callable[P, Any], data_flow_kernel: DataFlowKernel | None = None,
             cache: bool = False, ignore_for_cache: Sequence[str] | None = None) -> JoinApp[P, Any]: ...


@overload
def join_app(function: None = None, data_flow_kernel: DataFlowKernel | None = None,
             cache: bool = False, ignore_for_cache: Sequence[str] | None = None
             ) -> Callable[[Callable[P, Any]], JoinApp[P, Any]]: ...


def join_app(function: Callable[P, Any] | None = None, data_flow_kernel: DataFlowKernel | None = None,
             cache: bool = False, ignore_for_cache: Sequence[str] | None = None) -> Any:
    """Make a function whose body launches apps into an app itself.

    The body runs in the kernel's process and returns a future (or a list of
    futures); the join app's future resolves to their result(s). If one of
    them fails, the join app fails with :class:`~parsl_nb.errors.JoinError`.

    Parameters
    ----------
    function : callable, optional
        The function (given when used without parentheses).
    data_flow_kernel : DataFlowKernel, optional
        Kernel to submit to; default: the loaded one.
    cache : bool
        Memoize calls with the same function source and arguments.
    ignore_for_cache : list of str, optional
        Keyword arguments left out of the memo key.

    Examples
    --------
    >>> @join_app
    ... def fan(n):
    ...     return [double(i) for i in range(n)]
    >>> fan(3).result()  # doctest: +SKIP
    [0, 2, 4]
    """
    return _decorate(JoinApp, function, data_flow_kernel=data_flow_kernel, cache=cache,
                     ignore_for_cache=ignore_for_cache)
