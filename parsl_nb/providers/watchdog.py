"""Run a command in this process group and end the whole group if the kernel dies.

``python -m parsl_nb.providers.watchdog --parent PID -- command ...`` is
started in a new session. It starts ``command``, then polls: when the parent
(the notebook kernel) is gone, or on SIGTERM, it terminates every process
of its group (SIGTERM, then SIGKILL after a grace period). This is how a
controller and local engines never outlive a SIGKILLed kernel.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

__all__ = ["main", "wrap"]

POLL = 0.5
GRACE = 2.0


def wrap(argv: list[str], parent: int | None = None) -> list[str]:
    """The command line that runs ``argv`` under the watchdog of ``parent`` (default: us)."""
    pid = os.getpid() if parent is None else parent
    return [sys.executable, "-m", "parsl_nb.providers.watchdog", "--parent", str(pid), "--", *argv]


def _parent_alive(pid: int) -> bool:
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


def main(argv: list[str] | None = None) -> int:
    """Parse ``--parent PID -- command ...``, run and watch; return the command's exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 4 or args[0] != "--parent" or args[2] != "--":
        print("usage: python -m parsl_nb.providers.watchdog --parent PID -- command ...", file=sys.stderr)
        return 2
    parent = int(args[1])
    child = subprocess.Popen(args[3:])
    stop = {"now": False}

    def on_term(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while child.poll() is None and not stop["now"] and _parent_alive(parent):
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
