"""Bash apps: the body returns a command line, which runs under bash."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from ..data.files import File
from ..errors import AppTimeout, BadStdStreamFile, BashAppNoReturn, BashExitFailure, MissingOutputs
from .base import AppBase, CallSpec

if TYPE_CHECKING:
    from ..dataflow.kernel import DataFlowKernel

__all__ = ["BashApp", "BashRunner", "bash_app"]

P = ParamSpec("P")
R = TypeVar("R")


class BashApp(AppBase[P, int]):
    """An app whose body returns a bash command line (see :func:`bash_app`)."""

    kind = "bash"

    def executed_function(self, spec: CallSpec, stdout: Any, stderr: Any) -> Callable[..., Any]:
        """A picklable runner that builds and runs the command."""
        return BashRunner(self.func, self.__name__, stdout, stderr, spec.walltime,
                          [f.filepath for f in spec.outputs if f.scheme == "file"])


class BashRunner:
    """Build the command by calling the body, run it, check exit code and outputs.

    The command runs in a new session, so at the walltime limit its whole
    process group is killed, not only the shell.
    """

    def __init__(self, func: Callable[..., Any], name: str, stdout: Any, stderr: Any,
                 walltime: float | None, outputs: list[str]) -> None:
        self.func = func
        self.name = name
        self.__name__ = name
        self.stdout = stdout
        self.stderr = stderr
        self.walltime = walltime
        self.outputs = outputs

    def __call__(self, *args: Any, **kwargs: Any) -> int:
        """Build the command, run it, and return its exit code 0 (or raise)."""
        command = self.func(*args, **kwargs)
        if not isinstance(command, str):
            raise BashAppNoReturn(
                f"bash app {self.name} must return its command line as a str, but returned "
                f"{type(command).__name__}: {command!r}"
            )
        out, err = _open_std(self.stdout), _open_std(self.stderr)
        try:
            code = self._run(command, out, err)
        finally:
            for f in (out, err):
                if f is not None:
                    f.close()
        if code != 0:
            raise BashExitFailure(self.name, code)
        missing = [p for p in self.outputs if not os.path.exists(p)]
        if missing:
            raise MissingOutputs(f"bash app {self.name} exited 0 but did not create its outputs",
                                 [File(p) for p in missing])
        return code

    def _run(self, command: str, out: IO[Any] | None, err: IO[Any] | None) -> int:
        proc = subprocess.Popen(command, shell=True, executable="/bin/bash", stdout=out, stderr=err,
                                start_new_session=True)
        try:
            return proc.wait(timeout=self.walltime)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise AppTimeout(
                f"bash app {self.name} exceeded its walltime of {self.walltime} s; its process "
                "group was killed"
            ) from None
        except BaseException:
            _kill_group(proc)
            raise


def _kill_group(proc: subprocess.Popen[Any]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=2)
            break
        except subprocess.TimeoutExpired:
            continue
    # reap stragglers of the group that ignored SIGTERM
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _open_std(spec: Any) -> IO[Any] | None:
    if spec is None:
        return None
    path, mode = (spec if isinstance(spec, tuple) else (spec, "a+"))
    path = os.fspath(path)
    try:
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        return open(path, mode)
    except OSError as e:
        raise BadStdStreamFile(path, f"cannot open it ({e}); choose a writable path") from e


@overload
def bash_app(function: Callable[P, str], data_flow_kernel: DataFlowKernel | None = None,
             cache: bool = False, executors: str | Sequence[str] = "all",
             ignore_for_cache: Sequence[str] | None = None) -> BashApp[P]: ...


@overload
def bash_app(function: None = None, data_flow_kernel: DataFlowKernel | None = None,
             cache: bool = False, executors: str | Sequence[str] = "all",
             ignore_for_cache: Sequence[str] | None = None) -> Callable[[Callable[P, str]], BashApp[P]]: ...


def bash_app(function: Callable[P, str] | None = None, data_flow_kernel: DataFlowKernel | None = None,
             cache: bool = False, executors: str | Sequence[str] = "all",
             ignore_for_cache: Sequence[str] | None = None) -> Any:
    """Make a function that returns a command line into an app.

    The body runs on the worker and returns the command as a string (build it
    from the arguments, for example with an f-string); bash runs it. The
    future resolves to the exit code 0; a non-zero code raises
    :class:`~parsl_nb.errors.BashExitFailure`, a declared output file that is
    missing :class:`~parsl_nb.errors.MissingOutputs`. ``stdout=``/``stderr=``
    take a path, ``(path, mode)``, a ``File`` or ``AUTO_LOGNAME``.

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
    >>> @bash_app
    ... def hello(name, stdout="hello.txt"):
    ...     return f"echo hello {name}"
    >>> hello("world").result()  # doctest: +SKIP
    0
    """
    from .python import _decorate

    return _decorate(BashApp, function, data_flow_kernel=data_flow_kernel, cache=cache,
                     executors=executors, ignore_for_cache=ignore_for_cache)
