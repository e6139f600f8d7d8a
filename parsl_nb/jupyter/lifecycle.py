"""Kernel lifecycle: leave nothing running when the Jupyter kernel shuts down or restarts.

:func:`install` hooks the shutdown request of ipykernel (when there is one),
the interpreter's thread shutdown (which runs before ``atexit`` and would
otherwise wait for worker threads) and ``atexit``. Each calls
:func:`shutdown` once: it cancels the tasks that have not started, cleans up
the loaded kernel within a time budget, and ends the processes started from
this process (bash commands, engines, controllers) that are still alive.

Interrupts need nothing here: ``future.result()`` waits on a lock, which
SIGINT interrupts, so the Jupyter interrupt button raises KeyboardInterrupt
in the waiting cell while the tasks go on.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import threading
from typing import Any

import psutil

from ..dataflow.loader import DataFlowKernelLoader
from .control import cancel, current

__all__ = ["install", "kill_children", "shutdown"]

logger = logging.getLogger(__name__)
_done = threading.Event()
_installed = False
CLEANUP_BUDGET = 1.5
"""Seconds the kernel's cleanup may take at shutdown before the processes are ended anyway.

jupyter_client sends SIGTERM 2.5 s after its shutdown request (half of
``shutdown_wait_time``); everything here must be done by then.
"""


def kill_children(timeout: float = 1.0) -> list[int]:
    """Terminate, then kill, every process descended from this one.

    Returns
    -------
    list of int
        The pids that were still alive.
    """
    try:
        children = psutil.Process(os.getpid()).children(recursive=True)
    except psutil.Error:
        return []
    for proc in children:
        _signal(proc, "terminate")
    _gone, alive = psutil.wait_procs(children, timeout=timeout)
    for proc in alive:
        _signal(proc, "kill")
    psutil.wait_procs(alive, timeout=timeout)
    return [p.pid for p in children]


def _signal(proc: Any, how: str) -> None:
    try:
        getattr(proc, how)()
    except psutil.Error:
        pass


def _cleanup_kernel() -> None:
    # everything used here is imported at install time: an import while the
    # interpreter shuts down can block on the import lock
    dfk = current()
    if dfk is None:
        return
    try:
        cancel("all", dfk)
    except Exception as e:  # shutting down: report and go on
        logger.warning("cancelling tasks at shutdown failed: %s", e)
    DataFlowKernelLoader.clear()


def shutdown(reason: str = "shutdown") -> None:
    """Clear the loaded kernel and end the processes it started (once; later calls do nothing).

    Parameters
    ----------
    reason : str
        For the log: what triggered the shutdown.
    """
    if _done.is_set():
        return
    _done.set()
    logger.info("parsl_nb: %s: clearing the kernel and ending child processes", reason)
    worker = threading.Thread(target=_cleanup_kernel, name="parsl_nb-shutdown", daemon=True)
    worker.start()
    worker.join(CLEANUP_BUDGET)
    if worker.is_alive():
        logger.warning("parsl_nb: cleanup still running after %.0f s; ending child processes", CLEANUP_BUDGET)
    kill_children(timeout=0.5)
    worker.join(0.5)  # the cleanup usually ends once its commands are gone


def _wrap_do_shutdown(kernel: Any) -> None:
    original = kernel.do_shutdown
    if getattr(original, "_parsl_nb_wrapped", False):
        return

    @functools.wraps(original)
    def do_shutdown(restart: bool) -> Any:
        shutdown("kernel restart" if restart else "kernel shutdown")
        return original(restart)

    do_shutdown._parsl_nb_wrapped = True  # type: ignore[attr-defined]
    kernel.do_shutdown = do_shutdown


def install(shell: Any = None) -> None:
    """Hook :func:`shutdown` into kernel shutdown/restart, thread shutdown and ``atexit``.

    Parameters
    ----------
    shell : InteractiveShell, optional
        The IPython shell; its ``kernel`` (in Jupyter) gets a shutdown hook.
    """
    global _installed
    kernel = getattr(shell, "kernel", None)
    if kernel is not None and hasattr(kernel, "do_shutdown"):
        _wrap_do_shutdown(kernel)
    if _installed:
        return
    _installed = True
    atexit.register(shutdown, "interpreter exit")
    register = getattr(threading, "_register_atexit", None)
    if register is not None:  # runs before the thread pools' own exit hook joins their workers
        try:
            register(shutdown, "interpreter exit")
        except RuntimeError:
            pass
