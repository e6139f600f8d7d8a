"""``file:`` URLs and plain paths: already where tasks run, nothing to move."""

from __future__ import annotations

from typing import ClassVar

from ..files import File
from .base import Staging

__all__ = ["NoOpFileStaging"]


class NoOpFileStaging(Staging):
    """Files on a shared file system (``file:`` and plain paths): no transfer, no task.

    Examples
    --------
    >>> NoOpFileStaging().can_stage_in(File("data/in.csv"))
    True
    """

    transfers: ClassVar[bool] = False

    def can_stage_in(self, file: File) -> bool:
        """True for ``file:`` URLs and plain paths."""
        return file.scheme == "file"

    def can_stage_out(self, file: File) -> bool:
        """True for ``file:`` URLs and plain paths."""
        return file.scheme == "file"
