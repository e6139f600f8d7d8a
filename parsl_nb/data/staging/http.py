"""``http://`` and ``https://`` stage-in, as a task of its own."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from typing import IO

from ...errors import StagingError
from ..files import File
from .base import Staging
from .transfer import copy_stream, write_atomically

__all__ = ["HTTPInTaskStaging", "HTTPSeparateTaskStaging"]


class HTTPSeparateTaskStaging(Staging):
    """Download ``http(s)://`` files before the app runs (Parsl's name).

    The download is a ``stage_in`` task in the graph; the app receives the
    local copy as ``file.filepath``. It is written to a temporary name and
    renamed once complete (and its checksum verified, if the File has one).

    Parameters
    ----------
    timeout : float
        Seconds to wait for the server to connect or send data (default 60).

    Examples
    --------
    >>> from parsl_nb.executors import ThreadPoolExecutor
    >>> ex = ThreadPoolExecutor(storage_access=[HTTPSeparateTaskStaging(timeout=10)])
    """

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout

    def can_stage_in(self, file: File) -> bool:
        """True for ``http`` and ``https`` URLs."""
        return file.scheme in ("http", "https")

    def stage_in(self, file: File, local_path: str) -> None:
        """Download ``file.url`` to ``local_path`` (temporary name, then rename)."""
        request = urllib.request.Request(file.url, headers={"User-Agent": "parsl_nb-staging"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                write_atomically(local_path, lambda out: _copy_whole(response, out), file.url, file.checksum)
        except urllib.error.HTTPError as e:
            msg = f"the server answered HTTP {e.code} {e.reason}; check the URL and that the file is published"
            raise StagingError(file.url, msg) from None
        except urllib.error.URLError as e:
            msg = (f"could not connect to {file.netloc} ({e.reason}); check that the server is running "
                   "and reachable from where the task runs")
            raise StagingError(file.url, msg) from None
        except http.client.IncompleteRead as e:
            msg = (f"the connection closed before the whole file arrived ({e.expected} bytes missing); "
                   "the partial copy was discarded, try again")
            raise StagingError(file.url, msg) from None
        except (OSError, http.client.HTTPException) as e:
            raise StagingError(file.url, f"download failed: {type(e).__name__}: {e}") from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(timeout={self.timeout})"


def _copy_whole(response: http.client.HTTPResponse, out: IO[bytes]) -> None:
    # http.client returns b"" (no error) when the server hangs up early: compare with Content-Length
    copy_stream(response, out)
    expected = response.headers.get("Content-Length")
    written = out.tell()
    if expected is not None and expected.isdigit() and written < int(expected):
        raise http.client.IncompleteRead(b"", int(expected) - written)


HTTPInTaskStaging = HTTPSeparateTaskStaging
"""Parsl's in-task HTTP provider name; here the download is always a task of its own."""
