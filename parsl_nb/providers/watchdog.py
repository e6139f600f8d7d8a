"""Run a command in this process group and end the whole group if the kernel dies.

``python -m parsl_nb.providers.watchdog --parent PID -- command ...`` is
started in a new session. It starts ``command``, then polls: when the parent
(the notebook kernel) is gone, or on SIGTERM, it terminates every process
of its group (SIGTERM, then SIGKILL after a grace period). This is how a
controller and local engines never outlive a SIGKILLed kernel.

Started through a shell (``setsid ... &``, as ``LocalProvider`` does through its
command runner) the watchdog is not the kernel's child: ``--parent-start T``
then names the kernel by pid and start time, so a reused pid is not mistaken
for it. ``--exit-file PATH`` receives the command's exit code when it ends by
itself (a non-child's exit code cannot be read otherwise).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

__all__ = ["main", "wrap"]

POLL = 0.5
GRACE = 2.0


def wrap(argv: list[str], parent: int | None = None, detached: bool = False,
         exit_file: str | None = None) -> list[str]:
    """The command line that runs ``argv`` under the watchdog of ``parent`` (default: us).

    ``detached=True`` when the watchdog will not be the parent's child (started
    through a shell); ``exit_file`` receives the command's exit code.
    """
    pid = os.getpid() if parent is None else parent
    opts = ["--parent", str(pid)]
    if detached:
        opts += ["--parent-start", repr(psutil.Process(pid).create_time())]
    if exit_file:
        opts += ["--exit-file", exit_file]
    return [sys.executable, "-m", "parsl_nb.providers.watchdog", *opts, "--", *argv]


def _parent_alive(pid: int, start: float | None = None) -> bool:
    if start is not None:
        try:
            proc = psutil.Process(pid)
            return abs(proc.create_time() - start) < 0.01 and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False
    if os.getppid() != pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _end_group(child: subprocess.Popen[bytes], kill: bool = True) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        os.killpg(os.getpgrp(), signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + GRACE
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if kill:
        time.sleep(0.1)
        os.killpg(os.getpgrp(), signal.SIGKILL)


USAGE = "usage: python -m parsl_nb.providers.watchdog --parent PID [--parent-start T] [--exit-file F] -- command ..."


def _parse(args: list[str]) -> tuple[dict[str, str], list[str]] | None:
    if "--" not in args:
        return None
    cut = args.index("--")
    opts, command = args[:cut], args[cut + 1:]
    if len(opts) % 2 or not command:
        return None
    found = dict(zip(opts[::2], opts[1::2], strict=True))
    if "--parent" not in found or set(found) - {"--parent", "--parent-start", "--exit-file"}:
        return None
    return found, command


def main(argv: list[str] | None = None) -> int:
    """Parse ``--parent PID [--parent-start T] [--exit-file F] -- command ...``, run and watch.

    Returns the command's exit code.
    """
    parsed = _parse(list(sys.argv[1:] if argv is None else argv))
    if parsed is None:
        print(USAGE, file=sys.stderr)
        return 2
    opts, command = parsed
    code = _watch(int(opts["--parent"]), command,
                  float(opts["--parent-start"]) if "--parent-start" in opts else None)
    if "--exit-file" in opts:
        with open(opts["--exit-file"], "w") as f:
            f.write(f"{code}\n")
    return code


def _watch(parent: int, command: list[str], start: float | None) -> int:
    child = subprocess.Popen(command)
    stop = {"now": False}

    def on_term(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while child.poll() is None and not stop["now"] and _parent_alive(parent, start):
        time.sleep(POLL)
    code = child.poll()
    if code is None or stop["now"]:
        _end_group(child)
        return 143
    if os.getpgrp() == os.getpid():
        _end_group(child, kill=False)  # leave nothing behind the command itself started
    return code


if __name__ == "__main__":
    sys.exit(main())
