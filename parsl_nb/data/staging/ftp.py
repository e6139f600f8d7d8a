"""``ftp://`` stage-in, as a task of its own."""

from __future__ import annotations

import ftplib
from urllib.parse import unquote, urlparse

from ...errors import StagingError
from ..files import File
from .base import Staging
from .transfer import write_atomically

__all__ = ["FTPInTaskStaging", "FTPSeparateTaskStaging"]


class FTPSeparateTaskStaging(Staging):
    """Download ``ftp://[user[:password]@]host[:port]/path`` files before the app runs (Parsl's name).

    Without a user in the URL the login is anonymous. The download is a
    ``stage_in`` task; it is written to a temporary name and renamed once
    complete.

    Parameters
    ----------
    timeout : float
        Seconds to wait for the server (default 60).

    Examples
    --------
    >>> File("ftp://ftp.example.org/pub/data.csv").scheme
    'ftp'
    """

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout

    def can_stage_in(self, file: File) -> bool:
        """True for ``ftp`` URLs."""
        return file.scheme == "ftp"

    def stage_in(self, file: File, local_path: str) -> None:
        """Download ``file.url`` to ``local_path`` in binary mode."""
        parts = urlparse(file.url)
        host = parts.hostname or ""
        port = parts.port or 21
        user = unquote(parts.username) if parts.username else "anonymous"
        password = unquote(parts.password) if parts.password else ""
        try:
            with ftplib.FTP(timeout=self.timeout) as ftp:
                ftp.connect(host, port)
                ftp.login(user, password)
                command = f"RETR {unquote(parts.path)}"
                write_atomically(local_path, lambda out: ftp.retrbinary(command, out.write), file.url,
                                 file.checksum)
        except ftplib.error_perm as e:
            msg = f"the FTP server refused: {e}; check the path and the login in the URL"
            raise StagingError(file.url, msg) from None
        except (ConnectionError, TimeoutError) as e:
            msg = (f"could not connect to {host}:{port} ({e}); check that the FTP server is running "
                   "and reachable from where the task runs")
            raise StagingError(file.url, msg) from None
        except (OSError, ftplib.Error) as e:
            raise StagingError(file.url, f"FTP download failed: {type(e).__name__}: {e}") from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(timeout={self.timeout})"


FTPInTaskStaging = FTPSeparateTaskStaging
"""Parsl's in-task FTP provider name; here the download is always a task of its own."""
