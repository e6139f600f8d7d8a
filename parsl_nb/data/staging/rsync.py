"""``rsync://`` stage-in and stage-out with the ``rsync`` program."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from ...errors import StagingError
from ..files import File
from .base import Staging
from .transfer import atomic_target

__all__ = ["RSyncStaging"]


class RSyncStaging(Staging):
    """Move ``rsync://`` files with the ``rsync`` program, in and out (Parsl's name).

    Where the data lives is read from the URL:

    - ``rsync:///abs/path/file`` (no host): a folder on this machine or a
      mounted file system;
    - ``rsync://host[:port]/module/path``: an rsync daemon;
    - with ``hostname=`` given (Parsl's form), ``hostname:/path`` over ssh.

    Parameters
    ----------
    hostname : str, optional
        ``[user@]host`` to reach over ssh for every rsync URL (as in Parsl).
    rsync : str
        The program to run (default ``"rsync"``, looked up on ``PATH``).
    options : sequence of str
        Extra rsync options (default ``("--times",)``).
    timeout : float
        Seconds one transfer may take (default 600).

    Examples
    --------
    >>> from parsl_nb.executors import ThreadPoolExecutor
    >>> ex = ThreadPoolExecutor(storage_access=[RSyncStaging()])
    >>> File("rsync:///srv/results/out.txt").filename
    'out.txt'
    """

    def __init__(self, hostname: str | None = None, rsync: str = "rsync",
                 options: Sequence[str] = ("--times",), timeout: float = 600.0) -> None:
        self.hostname = hostname
        self.rsync = rsync
        self.options = list(options)
        self.timeout = timeout

    def can_stage_in(self, file: File) -> bool:
        """True for ``rsync`` URLs."""
        return file.scheme == "rsync"

    def can_stage_out(self, file: File) -> bool:
        """True for ``rsync`` URLs."""
        return file.scheme == "rsync"

    def remote(self, file: File) -> str:
        """The rsync source/destination argument for ``file``."""
        if self.hostname:
            return f"{self.hostname}:{file.path}"
        if file.netloc:
            return f"rsync://{file.netloc}{file.path}"
        return file.path

    def stage_in(self, file: File, local_path: str) -> None:
        """Copy the remote file to ``local_path`` (temporary name, then rename)."""
        with atomic_target(local_path, file.url, file.checksum) as tmp:
            self._run(file, [self.remote(file), tmp])

    def stage_out(self, file: File, local_path: str) -> None:
        """Copy ``local_path`` to the remote file (rsync renames into place when complete)."""
        if not os.path.exists(local_path):
            msg = (f"the app did not create {local_path}, so there is nothing to send; make the app "
                   "write to the output's path (outputs[i] / file.filepath)")
            raise StagingError(file.url, msg)
        if not self.hostname and not file.netloc:
            os.makedirs(os.path.dirname(file.path) or ".", exist_ok=True)
        self._run(file, [local_path, self.remote(file)])

    def _run(self, file: File, paths: list[str]) -> None:
        program = shutil.which(self.rsync)
        if program is None:
            msg = (f"the rsync program {self.rsync!r} was not found on PATH ({os.environ.get('PATH', '')}); "
                   "install it where tasks run (Debian/Ubuntu: apt-get install rsync) or pass "
                   "RSyncStaging(rsync='/path/to/rsync')")
            raise StagingError(file.url, msg)
        try:
            done = subprocess.run([program, *self.options, *paths], capture_output=True, text=True,
                                  timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise StagingError(file.url, f"rsync took longer than {self.timeout} s and was stopped") from None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            msg = f"rsync exited with code {done.returncode}: {detail[0] if detail else 'no message'}"
            raise StagingError(file.url, msg)

    def __repr__(self) -> str:
        return f"RSyncStaging(hostname={self.hostname!r}, rsync={self.rsync!r})"
