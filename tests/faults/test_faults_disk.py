"""The run directory's disk fails mid-run: monitoring and checkpoints warn and stop, tasks go on.

These use real mounts, not injected errors (the tests run as root, where
``chmod`` stops nothing):

* read-only: the run directory is bind-mounted read-only over itself
  (``mount --bind`` then ``mount -o remount,bind,ro``). Files opened before
  the remount keep their writable mount (Linux checks the mount when a file
  is opened), so this is the fault for everything opened *after* it: the
  checkpoint file, task std streams. The monitoring database, opened at load,
  keeps writing; that is the kernel's view too.
* full: the run directory lives on a small tmpfs that is filled up mid-run
  (ENOSPC), which fails writes to files already open: the monitoring
  database and the checkpoint file both degrade.

Error injection for the same paths is in tests/monitoring (store and
checkpoint unit tests).
"""

from __future__ import annotations

import logging
import os
import subprocess
import warnings

import pytest

import parsl_nb as parsl
from parsl_nb.dataflow.launch import AUTO_LOGNAME
from parsl_nb.errors import BadStdStreamFile
from parsl_nb.executors import ThreadPoolExecutor

from .conftest import wait_until


@parsl.python_app(cache=True)
def cached(x):
    return x * 2


@parsl.python_app(cache=True)
def cached_blob(x):
    return bytes(20_000) + str(x).encode()


@parsl.python_app
def plain(x):
    return x + 1


@parsl.bash_app
def speak(stdout=None):
    return "echo hello"


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


def _umount(path: str) -> None:
    while subprocess.run(["mountpoint", "-q", path], check=False).returncode == 0:
        done = subprocess.run(["umount", path], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            subprocess.run(["umount", "-l", path], check=False)
            break


def _load(run_dir: str) -> parsl.DataFlowKernel:
    return parsl.load(parsl.Config(executors=[ThreadPoolExecutor(label="threads")], run_dir=run_dir,
                                   checkpoint_mode="task_exit"))


def test_run_dir_made_read_only_mid_run(tmp_path):
    dfk = _load(str(tmp_path / "runinfo"))
    assert [plain(i).result(timeout=10) for i in range(5)] == [1, 2, 3, 4, 5]
    rd = dfk.run_dir
    if _mount("--bind", rd, rd).returncode != 0:
        pytest.skip("mount --bind is not permitted here (needs root and CAP_SYS_ADMIN)")
    try:
        assert _mount("-o", "remount,bind,ro", rd).returncode == 0
        with pytest.raises(OSError):
            open(os.path.join(rd, "probe"), "w")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            futs = [cached(i) for i in range(20)]
            assert [f.result(timeout=10) for f in futs] == [2 * i for i in range(20)]
            wait_until(lambda: dfk.checkpointer.error is not None, 10, "the checkpointer to give up")
            bad = speak(stdout=AUTO_LOGNAME)  # a std stream file in the read-only run dir
            with pytest.raises(BadStdStreamFile, match="task_logs.*writable path"):
                bad.result(timeout=10)
            assert [plain(i).result(timeout=10) for i in range(50)] == list(range(1, 51))  # tasks go on
            texts = [str(w.message) for w in caught]
        assert any("checkpointing stopped" in t and "Read-only file system" in t for t in texts), texts
        assert "tasks go on" in str(dfk.checkpointer.error) or dfk.checkpointer.error.errno == 30
        dfk.cleanup()  # closing the store and the checkpoint on a read-only disk does not raise
    finally:
        parsl.clear()
        _umount(rd)


def _fill(path: str) -> None:
    with open(path, "wb", buffering=0) as f:
        chunk = bytes(64 * 1024)
        try:
            while True:
                f.write(chunk)
                f.flush()
        except OSError:
            pass


def test_run_dir_disk_full_mid_run(tmp_path):
    disk = str(tmp_path / "disk")
    os.makedirs(disk)
    if _mount("-t", "tmpfs", "-o", "size=3m", "parsl-nb-faults", disk).returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here (needs root and CAP_SYS_ADMIN)")
    try:
        dfk = _load(os.path.join(disk, "runinfo"))
        assert [cached(i).result(timeout=10) for i in range(5)] == [0, 2, 4, 6, 8]
        wait_until(lambda: dfk.checkpointer.written >= 5, 10, "the first checkpoint records")
        _fill(os.path.join(disk, "ballast"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            n = 0

            def degraded() -> bool:
                nonlocal n
                futs = [cached_blob(n + i) for i in range(20)]
                n += 20
                assert all(len(f.result(timeout=10)) > 20_000 for f in futs)  # tasks go on
                return dfk.checkpointer.error is not None and dfk.monitoring.error is not None

            wait_until(degraded, 30, "monitoring and checkpoints to degrade on a full disk")
            assert [plain(i).result(timeout=10) for i in range(20)] == list(range(1, 21))
            log_file = dfk._log._listener.handlers[0]
            noisy = logging.getLogger("parsl_nb.tests")  # more log lines than the file's last page holds

            def log_failed() -> bool:
                noisy.warning("filler %s", "x" * 2000)
                return log_file.failed

            wait_until(log_failed, 10, "the run log to notice the full disk")
            texts = [str(w.message) for w in caught]
        assert any("monitoring stopped" in t and "tasks go on" in t for t in texts), texts
        assert any("checkpointing stopped" in t and "No space left" in t for t in texts), texts
        assert sum("the run log stopped" in t for t in texts) == 1, texts  # one warning, not a flood
        dfk.cleanup()
    finally:
        parsl.clear()
        _umount(disk)
