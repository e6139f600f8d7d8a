"""The staging provider interface, and the function each staging task runs."""

from __future__ import annotations

import contextlib
import os
from typing import ClassVar

from ...errors import StagingError
from ..files import File

__all__ = ["STAGE_IN", "STAGE_OUT", "StageTask", "Staging", "task_kind"]

STAGE_IN = "stage_in"
STAGE_OUT = "stage_out"


class Staging:
    """A way of moving files of some URL schemes (Parsl's name for the interface).

    A provider answers :meth:`can_stage_in` / :meth:`can_stage_out` for a
    :class:`~parsl_nb.File`, and moves the data in :meth:`stage_in` /
    :meth:`stage_out`. Those two run *inside a task* of their own (kind
    ``stage_in`` / ``stage_out``) on the executor of the app that needs the
    file, so a provider must pickle (keep plain attributes only).

    Examples
    --------
    >>> class Copy(Staging):                       # doctest: +SKIP
    ...     def can_stage_in(self, file):
    ...         return file.scheme == "copy"
    ...     def stage_in(self, file, local_path):
    ...         shutil.copy(file.path, local_path)
    >>> ThreadPoolExecutor(storage_access=[Copy()])  # doctest: +SKIP
    """

    transfers: ClassVar[bool] = True
    """False for providers whose files are already where tasks run (no task is made)."""

    def can_stage_in(self, file: File) -> bool:
        """Whether this provider can bring ``file`` to the worker."""
        return False

    def can_stage_out(self, file: File) -> bool:
        """Whether this provider can send ``file`` to its URL after the app wrote it."""
        return False

    def stage_in(self, file: File, local_path: str) -> None:
        """Copy the data at ``file.url`` to ``local_path`` (runs in a staging task).

        Write to a temporary name and rename on success, so a partial copy
        never appears under ``local_path``; verify ``file.checksum`` if set.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot stage files in")

    def stage_out(self, file: File, local_path: str) -> None:
        """Copy ``local_path`` (written by the app) to ``file.url`` (runs in a staging task)."""
        raise NotImplementedError(f"{type(self).__name__} cannot stage files out")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class StageTask:
    """The callable of one staging task: runs a provider's transfer for one file.

    Its ``__name__`` (``stage_in:<filename>`` or ``stage_out:<filename>``)
    becomes the task's app name, so the graph, the events and the widgets
    show which file moves. Any failure is raised as :class:`StagingError`
    naming the URL and the cause.
    """

    def __init__(self, direction: str, provider: Staging, file: File, local_path: str) -> None:
        self.direction = direction
        self.provider = provider
        self.file = file.cleancopy()
        self.local_path = local_path
        self.__name__ = f"{direction}:{file.filename or file.url}"
        self.__qualname__ = self.__name__

    def __call__(self, *_after: object) -> str:
        """Move the file; return the local path. Positional arguments only order the task."""
        try:
            if self.direction == STAGE_IN:
                os.makedirs(os.path.dirname(self.local_path) or ".", exist_ok=True)
                self.provider.stage_in(self.file, self.local_path)
            else:
                self.provider.stage_out(self.file, self.local_path)
        except Exception as e:
            if self.direction == STAGE_IN:
                with contextlib.suppress(OSError):  # leave no empty folder behind
                    os.rmdir(os.path.dirname(self.local_path))
            if isinstance(e, StagingError):
                raise
            raise StagingError(self.file.url, f"{type(e).__name__}: {e}") from e
        return self.local_path

    def __repr__(self) -> str:
        return f"<StageTask {self.__name__} via {self.provider!r} at {self.local_path}>"


def task_kind(app_name: str) -> str:
    """``'stage_in'``, ``'stage_out'`` or ``'app'``, from a task's app name."""
    head, sep, _ = app_name.partition(":")
    return head if sep and head in (STAGE_IN, STAGE_OUT) else "app"
