"""The command-runner seam: how providers run scheduler commands (sbatch, squeue, ...).

Providers never call :mod:`subprocess` themselves; they take a :class:`CommandRunner`,
so tests can replay a scheduler's documented output and a login node's quirks (a
slow ``squeue``, a missing ``sbatch``) turn into errors that say what to do.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["CommandFailed", "CommandResult", "CommandRunner", "SubmitError", "run_command"]


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What one scheduler command did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def command(self) -> str:
        """The command as one would type it."""
        return " ".join(self.args)


class CommandRunner(Protocol):
    """Runs one command and returns its result; raises :class:`CommandFailed` if it could not run."""

    def __call__(self, args: Sequence[str], *, timeout: float, input: str | None = None) -> CommandResult:
        """Run ``args`` (no shell), feeding ``input`` on stdin, waiting at most ``timeout`` s."""


class CommandFailed(RuntimeError):
    """A scheduler command could not run at all (not found, or no answer in time).

    Parameters
    ----------
    command : str
        The command line.
    reason : str
        What went wrong and what to do next.
    """

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(command, reason)
        self.command = command
        self.reason = reason

    def __str__(self) -> str:
        return f"`{self.command}` failed: {self.reason}"


class SubmitError(RuntimeError):
    """A block could not be submitted: the scheduler refused it or its answer was unreadable.

    Parameters
    ----------
    job_name : str
        The block's job name.
    message : str
        What happened and which provider option to check.
    stdout, stderr : str
        The submit command's output, verbatim.
    returncode : int or None
        The submit command's exit code.
    script_path : str or None
        The block script that was submitted.

    Examples
    --------
    >>> try:                                                  # doctest: +SKIP
    ...     provider.submit("echo hi", tasks_per_node=1, job_name="test")
    ... except SubmitError as e:
    ...     print(e.stderr)
    """

    def __init__(self, job_name: str, message: str, stdout: str = "", stderr: str = "",
                 returncode: int | None = None, script_path: str | None = None) -> None:
        super().__init__(job_name, message, stdout, stderr, returncode, script_path)
        self.job_name = job_name
        self.message = message
        self.stdout = stdout
        self.stderr = stderr
        self.returncode = returncode
        self.script_path = script_path

    @property
    def retcode(self) -> int | None:
        """Parsl's name for :attr:`returncode`."""
        return self.returncode

    def __str__(self) -> str:
        parts = [f"could not submit block {self.job_name}: {self.message}"]
        if self.stderr.strip():
            parts.append(f"scheduler said: {self.stderr.strip()}")
        if self.script_path:
            parts.append(f"the script is {self.script_path}")
        return "\n".join(parts)


def run_command(args: Sequence[str], *, timeout: float, input: str | None = None) -> CommandResult:
    """Run ``args`` without a shell; the default :class:`CommandRunner`."""
    argv = tuple(args)
    try:
        # its own session, so a command that hangs is ended with everything it started
        # (a wrapper script's children would otherwise outlive the timeout)
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    except FileNotFoundError:
        reason = (f"{argv[0]} is not on PATH; run the notebook where the scheduler's commands exist "
                  f"(a login node) or load its module (e.g. `module load slurm`) before starting Jupyter")
        raise CommandFailed(" ".join(argv), reason) from None
    try:
        stdout, stderr = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_session(proc)
        reason = (f"no answer within {timeout:g} s; the scheduler may be busy: raise the provider's "
                  f"cmd_timeout or check the scheduler by hand")
        raise CommandFailed(" ".join(argv), reason) from None
    return CommandResult(argv, proc.returncode, stdout, stderr)


def _kill_session(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # a grandchild that left the session still holds a pipe
        proc.wait()
