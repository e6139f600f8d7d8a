"""``File``: a location-independent reference to a file."""

from __future__ import annotations

import hashlib
import os
from typing import Any
from urllib.parse import urlparse

__all__ = ["File"]


class File:
    """A file, named by a path or a URL (``file://``, ``http(s)://``, ...).

    Pass Files in ``inputs=`` and ``outputs=`` of an app; the kernel turns
    each output into a :class:`~parsl_nb.DataFuture` and makes dependent apps
    wait for it. ``str(file)`` and ``os.fspath(file)`` give the local path.

    Parameters
    ----------
    url : str or os.PathLike
        A local path (relative paths are kept relative) or a URL. Remote
        schemes (``http``, ``https``, ``ftp``, ``rsync``, ``zip``) are staged
        in or out by tasks of their own (see :mod:`parsl_nb.data.staging`).
        A URL fragment such as ``#sha256=<hex>`` sets ``checksum``.
    checksum : str, optional
        Expected digest of the content, ``"<algorithm>:<hex>"`` (any
        :mod:`hashlib` algorithm, for example ``"sha256:9f86..."``). A
        staged-in copy that does not match fails with ``StagingError``.

    Examples
    --------
    >>> f = File("data/out.txt")
    >>> f.filepath, f.filename, f.scheme
    ('data/out.txt', 'out.txt', 'file')
    >>> File("https://example.org/a.csv#sha256=ab12").checksum
    'sha256:ab12'
    """

    __slots__ = ("url", "scheme", "netloc", "path", "filename", "local_path", "checksum")

    def __init__(self, url: str | os.PathLike[str], checksum: str | None = None) -> None:
        if isinstance(url, File):
            url = url.url  # type: ignore[has-type]
        if not isinstance(url, (str, os.PathLike)):
            raise TypeError(
                f"File() takes a path or URL string, got {type(url).__name__}: {url!r}"
            )
        text = os.fspath(url)
        self.url = text
        parsed = urlparse(text)
        is_url = len(parsed.scheme) > 1
        self.scheme = parsed.scheme if is_url else "file"
        self.netloc = parsed.netloc if is_url else ""
        self.path = parsed.path if is_url else text
        self.filename = os.path.basename(self.path)
        self.local_path: str | None = None
        fragment = parsed.fragment if is_url else ""
        self.checksum = _check_checksum(checksum if checksum is not None else _from_fragment(fragment), text)

    @property
    def filepath(self) -> str:
        """Where the file is on this side: the staged copy if any, else its path."""
        if self.local_path is not None:
            return self.local_path
        if self.scheme == "file":
            return self.path
        raise ValueError(
            f"{self.url} has not been staged in yet, so it has no local path; "
            "pass it in inputs= of an app so the kernel stages it first"
        )

    def cleancopy(self) -> File:
        """A copy without any staging state (Parsl's name)."""
        return File(self.url, self.checksum)

    def __fspath__(self) -> str:
        return self.filepath

    def __str__(self) -> str:
        return self.filepath

    def __repr__(self) -> str:
        return f"<File {self.url}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, File) and (self.url, self.local_path) == (other.url, other.local_path)

    def __hash__(self) -> int:
        return hash(self.url)

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.checksum = None  # pickles made before checksums existed
        for k, v in state.items():
            setattr(self, k, v)


def _from_fragment(fragment: str) -> str | None:
    """``sha256=<hex>`` (or ``sha256:<hex>``) from a URL fragment; None for other fragments."""
    for sep in ("=", ":"):
        algo, found, digest = fragment.partition(sep)
        if found and algo.lower() in hashlib.algorithms_available:
            return f"{algo.lower()}:{digest}"
    return None


def _check_checksum(checksum: str | None, url: str) -> str | None:
    if checksum is None:
        return None
    algo, found, digest = str(checksum).replace("=", ":", 1).partition(":")
    if not found or algo.lower() not in hashlib.algorithms_available or not digest:
        msg = (f"checksum of File({url!r}) must look like 'sha256:<hex digest>' with a hashlib "
               f"algorithm (got {checksum!r})")
        raise ValueError(msg)
    return f"{algo.lower()}:{digest.lower()}"
