"""The run directory (``runinfo/NNN``) and the kernel's log file in it."""

from __future__ import annotations

import logging
import logging.handlers
import os
import queue
import sys
import warnings

__all__ = ["RunLog", "make_run_dir"]


def make_run_dir(base: str) -> str:
    """Create and return the next free ``base/NNN`` folder."""
    os.makedirs(base, exist_ok=True)
    taken = [int(n) for n in os.listdir(base) if n.isdigit()]
    number = max(taken, default=-1) + 1
    while True:
        path = os.path.join(base, f"{number:03d}")
        try:
            os.mkdir(path)
            return os.path.abspath(path)
        except FileExistsError:  # another kernel took it first
            number += 1


class RunLog:
    """Writes the ``parsl_nb`` logger to ``<run_dir>/parsl.log`` off the hot path.

    Records go through a queue to a listener thread, so a task never waits on
    file I/O. Per-task lines are DEBUG and off by default; the file holds the
    kernel's life (INFO) and every failure (WARNING).
    """

    def __init__(self, run_dir: str, level: int = logging.INFO) -> None:
        self.path = os.path.join(run_dir, "parsl.log")
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        handler = _RunLogHandler(self.path)
        handler.setFormatter(logging.Formatter(
            "%(asctime)s.%(msecs)03d %(name)s:%(lineno)d %(threadName)s %(levelname)s %(message)s",
            "%Y-%m-%d %H:%M:%S"))
        self._listener = logging.handlers.QueueListener(self._queue, handler)
        self._handler = logging.handlers.QueueHandler(self._queue)
        self._handler.setLevel(level)
        self._logger = logging.getLogger("parsl_nb")
        if self._logger.level == logging.NOTSET or self._logger.level > level:
            self._logger.setLevel(level)
        self._logger.addHandler(self._handler)
        self._listener.start()

    def close(self) -> None:
        """Flush and detach the log file."""
        self._logger.removeHandler(self._handler)
        self._listener.stop()
        for h in self._listener.handlers:
            h.close()


class _RunLogHandler(logging.FileHandler):
    """A file handler that stops, with one warning, when its disk refuses a write.

    The default prints a traceback for every record, which floods a notebook's
    output when the run directory turns read-only or full mid-run.
    """

    failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        self.failed = True
        error = sys.exc_info()[1]
        warnings.warn(f"the run log stopped: cannot write {self.baseFilename} ({type(error).__name__}: {error}); "
                      "tasks go on, but later log lines are lost", RuntimeWarning, stacklevel=2)
        try:
            self.close()
        except OSError:
            pass
