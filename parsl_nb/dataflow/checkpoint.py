"""Checkpoints: successful memoized results, kept on disk so a new kernel can reuse them.

A checkpoint is ``<run_dir>/checkpoint/tasks.pkl`` (Parsl's layout), an
append-only sequence of records::

    b"PNCK" | payload length (4 bytes) | CRC-32 of payload (4 bytes) | payload
    payload = key length (2 bytes) | memo key (ASCII) | pickled result

A record torn by a kill mid-write (short, or failing its checksum) is
skipped by the reader, which resynchronises on the next ``PNCK``. Results are
unpickled only when a task asks for them, so classes a notebook defines
after loading the kernel still resolve.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import struct
import threading
import warnings
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from typing import IO, Any

from ..errors import ConfigError

__all__ = ["CHECKPOINT_DIR", "CHECKPOINT_FILE", "Checkpointer", "encode_record", "load_checkpoints",
           "parse_period", "read_records"]

logger = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoint"
CHECKPOINT_FILE = "tasks.pkl"
MAGIC = b"PNCK"
_HEADER = struct.Struct(">4sII")
_KEYLEN = struct.Struct(">H")
_TASK_EXIT_INTERVAL = 0.05


def encode_record(key: str, pickled: bytes) -> bytes:
    """One checkpoint record for memo ``key`` and its pickled result."""
    kb = key.encode("ascii")
    body = _KEYLEN.pack(len(kb)) + kb + pickled
    return _HEADER.pack(MAGIC, len(body), zlib.crc32(body)) + body


def read_records(data: bytes) -> tuple[list[tuple[str, bytes]], int]:
    """The whole records in ``data`` as ``(key, pickled result)``, and how many were skipped."""
    out: list[tuple[str, bytes]] = []
    skipped = 0
    pos = 0
    size = _HEADER.size
    while True:
        start = data.find(MAGIC, pos)
        if start < 0:
            return out, skipped
        body = b""
        length = crc = -1
        if start + size <= len(data):
            _, length, crc = _HEADER.unpack_from(data, start)
            body = data[start + size: start + size + length]
        if length < _KEYLEN.size or len(body) != length or zlib.crc32(body) != crc:
            skipped += 1  # torn or damaged: look for the next record header after this one
            pos = start + 1
            continue
        (klen,) = _KEYLEN.unpack_from(body)
        out.append((body[_KEYLEN.size: _KEYLEN.size + klen].decode("ascii"), body[_KEYLEN.size + klen:]))
        pos = start + size + length


def _checkpoint_path(path: str) -> str:
    return os.path.join(path, CHECKPOINT_FILE) if os.path.isdir(path) else path


def load_checkpoints(paths: Sequence[str | os.PathLike[str]]) -> dict[str, bytes]:
    """Memo key -> pickled result, from checkpoint directories or files (later ones win).

    Raises
    ------
    ConfigError
        If a path holds no checkpoint.
    """
    table: dict[str, bytes] = {}
    for p in paths:
        path = _checkpoint_path(os.fspath(p))
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise ConfigError(
                f"checkpoint_files names {os.fspath(p)!r}, which has no readable checkpoint ({e}); "
                "pass checkpoint directories from parsl_nb.utils.get_all_checkpoints()"
            ) from e
        records, skipped = read_records(data)
        if skipped:
            logger.warning("checkpoint %s: skipped %d torn or damaged record(s)", path, skipped)
        table.update(records)
    return table


def parse_period(period: str | float | int) -> float:
    """Seconds in a ``checkpoint_period`` of ``'HH:MM:SS'`` (or a number of seconds)."""
    if isinstance(period, (int, float)) and not isinstance(period, bool) and period > 0:
        return float(period)
    m = re.fullmatch(r"(\d+):([0-5]?\d):([0-5]?\d(?:\.\d+)?)", str(period).strip())
    if m is None or not float(m[1]) * 3600 + float(m[2]) * 60 + float(m[3]) > 0:
        raise ConfigError(
            f"checkpoint_period must be 'HH:MM:SS' and more than zero (got {period!r}); "
            "for example '00:10:00' checkpoints every 10 minutes"
        )
    return float(m[1]) * 3600 + float(m[2]) * 60 + float(m[3])


def _dumps(result: Any) -> bytes:
    try:
        return pickle.dumps(result, protocol=5)
    except Exception:
        import cloudpickle

        return bytes(cloudpickle.dumps(result, protocol=5))


class Checkpointer:
    """Writes a kernel's memoized results to its checkpoint and serves loaded ones.

    ``add`` (called as a result is memoized) only queues; the queue is written
    when the mode says: within ~50 ms (``'task_exit'``), every period
    (``'periodic'``), at cleanup (``'dfk_exit'``, and every mode), or on
    :meth:`checkpoint` (``'manual'``). If the disk refuses a write, the
    checkpointer warns once and stops; tasks go on.

    Parameters
    ----------
    run_dir : str
        The run directory; checkpoints go to ``run_dir/checkpoint/tasks.pkl``.
    mode : str, optional
        Parsl's ``checkpoint_mode``; None writes only on :meth:`checkpoint`.
    period : str, optional
        ``checkpoint_period`` (``'HH:MM:SS'``), for ``'periodic'``.
    files : sequence of str, optional
        ``checkpoint_files`` to load.
    """

    def __init__(self, run_dir: str, mode: str | None = None, period: str | None = None,
                 files: Sequence[str | os.PathLike[str]] | None = None) -> None:
        self.dir = os.path.join(run_dir, CHECKPOINT_DIR)
        self.path = os.path.join(self.dir, CHECKPOINT_FILE)
        self.mode = mode
        interval = parse_period(period) if mode == "periodic" and period is not None else _TASK_EXIT_INTERVAL
        self._loaded = load_checkpoints(list(files or []))
        self._pending: deque[tuple[str, Any, bool]] = deque()
        self._write_lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self.written = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if mode in ("task_exit", "periodic"):
            self._thread = threading.Thread(target=self._run, args=(interval,), name="parsl_nb-checkpoint",
                                            daemon=True)
            self._thread.start()

    @property
    def loaded(self) -> int:
        """How many results the loaded checkpoint files hold."""
        return len(self._loaded)

    def restore(self, key: str) -> Future[Any] | None:
        """A done future with the checkpointed result for ``key``, or None."""
        raw = self._loaded.get(key)
        if raw is None:
            return None
        try:
            result = pickle.loads(raw)
        except Exception as e:  # a class that no longer exists, a changed module...
            logger.warning("checkpointed result %s cannot be unpickled (%s: %s); the task runs again",
                           key[:12], type(e).__name__, e)
            self._loaded.pop(key, None)
            return None
        fut: Future[Any] = Future()
        fut.set_result(result)
        self._pending.append((key, raw, True))  # carried on into this run's checkpoint
        return fut

    def add(self, key: str, result: Any) -> None:
        """Queue a successful result (cheap: called on the task's path)."""
        self._pending.append((key, result, False))

    def checkpoint(self) -> str:
        """Write every result queued since the last checkpoint; return the checkpoint directory."""
        with self._write_lock:
            chunks = list(self._drain())
            if not chunks or self.error is not None:
                return self.dir
            try:
                if self._file is None:
                    os.makedirs(self.dir, exist_ok=True)
                    self._file = open(self.path, "ab")  # noqa: SIM115 - kept open across checkpoints
                self._file.write(b"".join(chunks))
                self._file.flush()
                self.written += len(chunks)
            except OSError as e:
                self._degrade(e)
        return self.dir

    def _drain(self) -> Iterator[bytes]:
        pending = self._pending
        while pending:
            key, value, raw = pending.popleft()
            if raw:
                yield encode_record(key, value)
                continue
            try:
                yield encode_record(key, _dumps(value))
            except Exception as e:
                logger.warning("result of memo key %s is not checkpointed: cannot pickle it (%s: %s)",
                               key[:12], type(e).__name__, e)

    def _degrade(self, error: BaseException) -> None:
        self._pending.clear()
        msg = (f"checkpointing stopped: cannot write {self.path} ({type(error).__name__}: {error}); "
               "tasks go on, but later results are not checkpointed")
        logger.warning(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
        f, self._file = self._file, None
        if f is not None:
            try:
                f.close()
            except OSError:
                pass
        # Published last: whoever sees ``error`` set may rely on the warning having been given.
        self.error = error

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            if self._pending:
                self.checkpoint()

    def close(self) -> None:
        """Stop the writer thread; write what is queued (unless no mode was set); close the file."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        if self.mode is not None:
            self.checkpoint()
        with self._write_lock:
            f, self._file = self._file, None
            if f is not None:
                try:
                    f.flush()
                    os.fsync(f.fileno())
                    f.close()
                except OSError as e:
                    logger.warning("checkpoint %s: could not close cleanly: %s", self.path, e)
