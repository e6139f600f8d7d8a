"""What every app shares: the wrapped function, options, and call splitting."""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from ..data.files import File
from ..errors import BadStdStreamFile

if TYPE_CHECKING:
    from ..dataflow.kernel import DataFlowKernel
    from ..futures import AppFuture

__all__ = ["AUTO_LOGNAME", "AppBase", "CallSpec", "SPECIAL_KWARGS"]

P = ParamSpec("P")
R = TypeVar("R")


class _AutoLogname:
    """Sentinel: name the std stream file after the task, under the run dir."""

    _instance: _AutoLogname | None = None

    def __new__(cls) -> _AutoLogname:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "AUTO_LOGNAME"

    def __reduce__(self) -> str:
        return "AUTO_LOGNAME"


AUTO_LOGNAME = _AutoLogname()
"""Pass as ``stdout=``/``stderr=`` to write under ``<run_dir>/task_logs/``."""

SPECIAL_KWARGS = ("inputs", "outputs", "stdout", "stderr", "walltime", "parsl_resource_specification")
_STD_MODES = ("w", "a", "w+", "a+", "wb", "ab")


@dataclass(slots=True)
class CallSpec:
    """One call of an app, split into the function's arguments and the options."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    inputs: list[Any] = field(default_factory=list)
    outputs: list[File] = field(default_factory=list)
    stdout: Any = None
    stderr: Any = None
    walltime: float | None = None
    resource_specification: dict[str, Any] = field(default_factory=dict)


class AppBase(Generic[P, R]):
    """An app: calling it submits a task and returns an :class:`AppFuture`.

    Parameters
    ----------
    func : callable
        The function behind the app.
    data_flow_kernel : DataFlowKernel, optional
        Kernel to submit to; default: the one loaded with ``parsl_nb.load``.
    executors : 'all' or list of str
        Executor labels this app may run on.
    cache : bool
        Memoize: a call with the same function source and arguments is served
        from the first one's result.
    ignore_for_cache : list of str, optional
        Keyword arguments left out of the memo key.
    """

    kind = "python"

    def __init__(self, func: Callable[P, Any], data_flow_kernel: DataFlowKernel | None = None,
                 executors: str | Sequence[str] = "all", cache: bool = False,
                 ignore_for_cache: Sequence[str] | None = None) -> None:
        _check_function(func, self.kind)
        self.func = func
        self.data_flow_kernel = data_flow_kernel
        self.executors = _check_executors(executors)
        self.cache = bool(cache)
        self.ignore_for_cache = list(ignore_for_cache or [])
        self.__name__ = getattr(func, "__name__", type(func).__name__)
        self.__qualname__ = getattr(func, "__qualname__", self.__name__)
        self.__doc__ = getattr(func, "__doc__", None)
        self.__module__ = getattr(func, "__module__", None) or __name__
        self.__wrapped__ = func
        self.defaults, self.accepts, self.accepts_any = _signature_info(func)
        self.func_hash = function_hash(func)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> AppFuture[R]:
        """Submit a task for this call and return its future at once."""
        dfk = self.data_flow_kernel or _loaded_dfk()
        return dfk.submit(self, args, dict(kwargs))

    def split_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> CallSpec:
        """Separate the special keyword arguments from the function's own."""
        merged = {**self.defaults, **kwargs}
        spec = CallSpec(args, {})
        for key, value in merged.items():
            if key in SPECIAL_KWARGS:
                _set_special(spec, key, value, self.__name__)
                if not (key in self.accepts or self.accepts_any):
                    continue
            spec.kwargs[key] = value
        return spec

    def executed_function(self, spec: CallSpec, stdout: str | None, stderr: str | None) -> Callable[..., Any]:
        """The callable an executor runs for this call (overridden per kind)."""
        return self.func

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return functools.partial(self, obj)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__name__}>"


def _loaded_dfk() -> DataFlowKernel:
    global _loader
    if _loader is None:  # imported on first use: dataflow imports this module
        from ..dataflow.loader import DataFlowKernelLoader

        _loader = DataFlowKernelLoader
    return _loader.dfk()


_loader: Any = None


def _check_function(func: Any, kind: str) -> None:
    if not callable(func):
        raise TypeError(
            f"@{kind}_app needs a function, got {type(func).__name__}: {func!r}; "
            f"decorate a def, or call {kind}_app(some_function)"
        )
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        raise TypeError(
            f"@{kind}_app cannot wrap the generator function {func.__name__!r}: a task must "
            "return one value; return a list instead of yielding"
        )
    if inspect.iscoroutinefunction(func):
        raise TypeError(
            f"@{kind}_app cannot wrap the async function {func.__name__!r}; make it a plain def "
            "(the app itself already runs concurrently)"
        )


def _check_executors(executors: str | Sequence[str]) -> str | list[str]:
    if executors == "all":
        return "all"
    if isinstance(executors, str):
        return [executors]
    labels = list(executors)
    if not labels or not all(isinstance(x, str) for x in labels):
        raise TypeError(f"executors must be 'all' or a non-empty list of executor labels (got "
                        f"executors={executors!r}); for example executors=['threads']")
    return labels


def _signature_info(func: Callable[..., Any]) -> tuple[dict[str, Any], frozenset[str], bool]:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):  # builtins without a signature take no specials
        return {}, frozenset(), False
    defaults = {
        name: p.default for name, p in params.items()
        if name in SPECIAL_KWARGS and p.default is not inspect.Parameter.empty
    }
    accepts = frozenset(n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL)
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return defaults, accepts, accepts_any


def function_hash(func: Callable[..., Any]) -> str:
    """A hash of the function's name and source (or bytecode), for memo keys."""
    h = hashlib.sha256(getattr(func, "__qualname__", repr(func)).encode())
    try:
        h.update(inspect.getsource(func).encode())
    except (OSError, TypeError):
        code = getattr(func, "__code__", None)
        if code is not None:
            h.update(code.co_code)
            h.update(repr(code.co_consts).encode())
        else:
            h.update(getattr(func, "__module__", "").encode() if hasattr(func, "__module__") else b"")
    return h.hexdigest()


def _set_special(spec: CallSpec, key: str, value: Any, app: str) -> None:
    if key == "inputs":
        spec.inputs = _as_list(value, "inputs", app)
    elif key == "outputs":
        spec.outputs = _check_outputs(_as_list(value, "outputs", app), app)
    elif key in ("stdout", "stderr"):
        _check_std(value, key, app)
        setattr(spec, key, value)
    elif key == "walltime":
        spec.walltime = _check_walltime(value, app)
    else:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise TypeError(
                f"parsl_resource_specification of app {app} must be a dict such as "
                f"{{'cores': 2}} (got {value!r})"
            )
        spec.resource_specification = value


def _as_list(value: Any, name: str, app: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    raise TypeError(
        f"{name}= of app {app} must be a list (got {type(value).__name__}: {value!r}); "
        f"wrap a single item: {name}=[{value!r}]"
    )


def _check_outputs(items: list[Any], app: str) -> list[File]:
    for item in items:
        if not isinstance(item, File):
            raise TypeError(
                f"outputs= of app {app} must hold File objects, got {type(item).__name__}: "
                f"{item!r}; write outputs=[File({str(item)!r})]"
            )
    return items


def _check_std(value: Any, key: str, app: str) -> None:
    if value is None or value is AUTO_LOGNAME or isinstance(value, (str, os.PathLike, File)):
        return
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], (str, os.PathLike, File)):
        if value[1] in _STD_MODES:
            return
        raise BadStdStreamFile(repr(value), f"{key}= mode must be one of {_STD_MODES} (app {app})")
    raise BadStdStreamFile(
        repr(value),
        f"{key}= of app {app} must be a path, (path, mode), File or AUTO_LOGNAME, "
        f"not {type(value).__name__}",
    )


def _check_walltime(value: Any, app: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"walltime of app {app} must be a positive number of seconds (got walltime={value!r}); "
                         "for example walltime=60, or leave it out for no limit")
    return float(value)
