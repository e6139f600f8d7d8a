"""Helpers shared by providers: atomic writes, checksums, error messages."""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from typing import IO

from ...errors import StagingError

__all__ = ["atomic_target", "copy_stream", "file_digest", "verify_checksum", "write_atomically"]

_CHUNK = 1 << 20


def _part_name(dest: str) -> str:
    folder, name = os.path.split(dest)
    return os.path.join(folder, f".{name}.part-{uuid.uuid4().hex[:8]}")


@contextlib.contextmanager
def atomic_target(dest: str, url: str, checksum: str | None) -> Iterator[str]:
    """Yield a temporary path next to ``dest``; on success check it and rename it to ``dest``.

    The caller fills the temporary path (for example with a subprocess). On
    any error, and on a checksum mismatch, it is deleted: a partial or wrong
    copy never appears under ``dest``.
    """
    tmp = _part_name(dest)
    try:
        yield tmp
        if not os.path.exists(tmp):
            raise StagingError(url, f"the transfer reported success but wrote nothing to {tmp}")
        verify_checksum(tmp, checksum, url)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_atomically(dest: str, fill: Callable[[IO[bytes]], object], url: str, checksum: str | None) -> None:
    """Call ``fill(stream)`` on a temporary file, then verify it and rename it to ``dest``."""
    with atomic_target(dest, url, checksum) as tmp, open(tmp, "wb") as out:
        fill(out)


def file_digest(path: str, algorithm: str) -> str:
    """The hex digest of a file's content."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_checksum(path: str, checksum: str | None, url: str) -> None:
    """Raise :class:`StagingError` if the file at ``path`` does not match ``checksum``."""
    if checksum is None:
        return
    algorithm, _, expected = checksum.partition(":")
    got = file_digest(path, algorithm)
    if got != expected.lower():
        raise StagingError(
            url,
            f"checksum mismatch: expected {algorithm} {expected}, got {got}; the copy was discarded. "
            "Check the checksum given in the File (or its #sha256= fragment) and the source",
        )


def copy_stream(src: IO[bytes], out: IO[bytes]) -> None:
    """Copy a byte stream in chunks (reading until EOF)."""
    for chunk in iter(lambda: src.read(_CHUNK), b""):
        out.write(chunk)
