"""``zip://`` files: stage out into a member of an archive, stage in from one."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import zipfile
from collections.abc import Iterator

from ...errors import StagingError
from ..files import File
from .base import Staging
from .transfer import atomic_target, write_atomically

__all__ = ["ZipFileStaging", "zip_path_split"]


def zip_path_split(file: File) -> tuple[str, str]:
    """``(archive path, member name)`` of a ``zip:`` URL such as ``zip:///data/run.zip/out/a.txt``."""
    full = file.netloc + file.path
    index = full.find(".zip/")
    if index < 0 or not full[index + 5:]:
        msg = (f"a zip URL names an archive ending in .zip and a member inside it, such as "
               f"zip:///data/run.zip/out/a.txt (got {file.url!r})")
        raise StagingError(file.url, msg)
    return full[:index + 4], full[index + 5:]


@contextlib.contextmanager
def _locked(archive: str) -> Iterator[None]:
    # Tasks of a workflow often write into one archive: one writer at a time,
    # across threads and processes, by a lock on the archive's folder.
    folder = os.path.dirname(os.path.abspath(archive))
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class ZipFileStaging(Staging):
    """Write outputs into, and read inputs from, members of zip archives (Parsl's name).

    ``zip:///data/run.zip/out/a.txt`` names the member ``out/a.txt`` of the
    archive ``/data/run.zip``. Stage-out replaces the member if it exists and
    creates the archive if needed; the archive is rebuilt under a temporary
    name and renamed, so a failure never leaves it half written.

    Examples
    --------
    >>> from parsl_nb.executors import ThreadPoolExecutor
    >>> ex = ThreadPoolExecutor(storage_access=[ZipFileStaging()])
    """

    def can_stage_in(self, file: File) -> bool:
        """True for ``zip`` URLs."""
        return file.scheme == "zip"

    def can_stage_out(self, file: File) -> bool:
        """True for ``zip`` URLs."""
        return file.scheme == "zip"

    def stage_in(self, file: File, local_path: str) -> None:
        """Extract the member to ``local_path``."""
        archive, member = zip_path_split(file)
        if not os.path.exists(archive):
            raise StagingError(file.url, f"the archive {archive} does not exist; check the path in the URL")
        with _locked(archive), zipfile.ZipFile(archive) as z:
            if member not in z.namelist():
                msg = f"the archive {archive} has no member {member!r}; it holds {z.namelist()[:10]}"
                raise StagingError(file.url, msg)
            with z.open(member) as src:
                write_atomically(local_path, lambda out: shutil.copyfileobj(src, out), file.url, file.checksum)

    def stage_out(self, file: File, local_path: str) -> None:
        """Store ``local_path`` as the member, replacing an older copy."""
        archive, member = zip_path_split(file)
        if not os.path.exists(local_path):
            msg = (f"the app did not create {local_path}, so there is nothing to store; make the app "
                   "write to the output's path (outputs[i] / file.filepath)")
            raise StagingError(file.url, msg)
        os.makedirs(os.path.dirname(os.path.abspath(archive)), exist_ok=True)
        with _locked(archive), atomic_target(archive, file.url, None) as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as new:
                if os.path.exists(archive):
                    with zipfile.ZipFile(archive) as old:
                        for info in old.infolist():
                            if info.filename != member:
                                new.writestr(info, old.read(info))
                new.write(local_path, arcname=member)
