"""Checkpoints: Parsl's modes and names, torn records, reuse as MEMO_DONE."""

from __future__ import annotations

import errno
import os
import pickle
import warnings

import pytest

import parsl_nb as parsl
from parsl_nb import Config, ThreadPoolExecutor, python_app
from parsl_nb.dataflow.checkpoint import encode_record, load_checkpoints, read_records
from parsl_nb.errors import ConfigError
from parsl_nb.utils import get_all_checkpoints, get_last_checkpoint
from tests.conftest import wait_until

CALLS: list[int] = []


@python_app(cache=True)
def square(x):
    CALLS.append(x)
    return x * x


@python_app(cache=True)
def fails(x):
    raise ValueError(x)


@python_app
def not_cached(x):
    return x


def _config(run_dir, **options):
    return Config(executors=[ThreadPoolExecutor(label="threads", max_threads=2)], run_dir=run_dir, **options)


def _entries(dfk):
    path = os.path.join(dfk.run_dir, "checkpoint", "tasks.pkl")
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as f:
        records, _ = read_records(f.read())
    return {key: pickle.loads(raw) for key, raw in records}


# ------------------------------------------------------------------ format
def test_torn_last_record_is_skipped():
    data = b"".join(encode_record(f"{i:064x}", pickle.dumps(i)) for i in range(3))
    torn = encode_record("f" * 64, pickle.dumps("the last one"))
    for cut in (2, 7, 12, len(torn) - 1):
        records, skipped = read_records(data + torn[:cut])
        assert [pickle.loads(r) for _, r in records] == [0, 1, 2], cut
        assert skipped == (1 if cut >= 4 else 0)


def test_damaged_record_in_the_middle_is_skipped_and_the_rest_read():
    recs = [encode_record(f"{i:064x}", pickle.dumps(i)) for i in range(4)]
    bad = bytearray(recs[1])
    bad[-1] ^= 0xFF  # checksum no longer matches
    records, skipped = read_records(recs[0] + bytes(bad) + b"junk" + recs[2] + recs[3])
    assert [pickle.loads(r) for _, r in records] == [0, 2, 3]
    assert skipped == 1


def test_torn_checkpoint_file_loads_its_whole_records(tmp_path):
    path = tmp_path / "tasks.pkl"
    path.write_bytes(encode_record("a" * 64, pickle.dumps(1)) + encode_record("b" * 64, pickle.dumps(2))[:-3])
    assert load_checkpoints([str(path)]) == {"a" * 64: pickle.dumps(1)}


# ------------------------------------------------------------------- modes
def test_task_exit_writes_each_result_soon_after_it_finishes(run_dir):
    dfk = parsl.load(_config(run_dir, checkpoint_mode="task_exit"))
    assert square(3).result() == 9
    wait_until(lambda: list(_entries(dfk).values()) == [9])
    assert square(4).result() == 16
    wait_until(lambda: sorted(_entries(dfk).values()) == [9, 16])
    parsl.clear()


def test_periodic_writes_every_period(run_dir):
    dfk = parsl.load(_config(run_dir, checkpoint_mode="periodic", checkpoint_period="00:00:01"))
    square(5).result()
    wait_until(lambda: list(_entries(dfk).values()) == [25], timeout=5)
    parsl.clear()


def test_dfk_exit_writes_at_cleanup_only(run_dir):
    dfk = parsl.load(_config(run_dir, checkpoint_mode="dfk_exit"))
    [square(i).result() for i in range(3)]
    assert _entries(dfk) == {}
    parsl.clear()
    assert sorted(_entries(dfk).values()) == [0, 1, 4]


def test_manual_writes_on_dfk_checkpoint(run_dir):
    dfk = parsl.load(_config(run_dir, checkpoint_mode="manual"))
    square(6).result()
    assert _entries(dfk) == {}
    path = dfk.checkpoint()
    assert path == os.path.join(dfk.run_dir, "checkpoint")
    assert list(_entries(dfk).values()) == [36]
    square(7).result()
    parsl.clear()  # and at cleanup, as Parsl does
    assert sorted(_entries(dfk).values()) == [36, 49]


def test_only_successful_cached_results_are_checkpointed(run_dir):
    dfk = parsl.load(_config(run_dir, checkpoint_mode="dfk_exit"))
    square(2).result()
    not_cached(3).result()
    with pytest.raises(ValueError):
        fails(4).result()
    parsl.clear()
    assert list(_entries(dfk).values()) == [4]


def test_unpicklable_result_is_left_out_and_the_rest_written(run_dir):
    import threading

    @python_app(cache=True)
    def lock():
        return threading.Lock()

    dfk = parsl.load(_config(run_dir, checkpoint_mode="dfk_exit"))
    lock().result()
    square(8).result()
    parsl.clear()
    assert list(_entries(dfk).values()) == [64]


# ----------------------------------------------------------- loading, reuse
def test_checkpoint_files_serve_results_as_memo_done(run_dir):
    with parsl.load(_config(run_dir, checkpoint_mode="task_exit")):
        assert [square(i).result() for i in range(4)] == [0, 1, 4, 9]
    CALLS.clear()
    assert get_last_checkpoint(run_dir) == get_all_checkpoints(run_dir)
    dfk = parsl.load(_config(run_dir, checkpoint_mode="task_exit", checkpoint_files=get_last_checkpoint(run_dir)))
    futs = [square(i) for i in range(6)]
    assert [f.result() for f in futs] == [0, 1, 4, 9, 16, 25]
    assert [f.task_status() for f in futs] == ["memo_done"] * 4 + ["exec_done"] * 2
    assert sorted(CALLS) == [4, 5]
    parsl.clear()
    # the second run's checkpoint carries every result on, served ones included
    assert sorted(_entries(dfk).values()) == [0, 1, 4, 9, 16, 25]


def test_get_all_and_last_checkpoint(run_dir):
    assert get_all_checkpoints(run_dir) == [] and get_last_checkpoint(run_dir) == []
    for i in range(2):
        with parsl.load(_config(run_dir, checkpoint_mode="dfk_exit")):
            square(100 + i).result()
    with parsl.load(_config(run_dir)):  # a run without a checkpoint
        square(200).result()
    found = get_all_checkpoints(run_dir)
    assert [os.path.basename(os.path.dirname(p)) for p in found] == ["000", "001"]
    assert all(os.path.isabs(p) for p in found)
    assert get_last_checkpoint(run_dir) == found[-1:]


def test_bad_checkpoint_options_name_the_fix(run_dir, tmp_path):
    with pytest.raises(ConfigError, match="HH:MM:SS"):
        parsl.load(_config(run_dir, checkpoint_mode="periodic", checkpoint_period="ten minutes"))
    with pytest.raises(ConfigError, match="get_all_checkpoints"):
        parsl.load(_config(run_dir, checkpoint_files=[str(tmp_path / "nowhere")]))


class _FailingFile:
    def write(self, data):
        raise OSError(errno.EROFS, "Read-only file system")

    def flush(self):
        pass

    def close(self):
        pass


def test_read_only_disk_stops_checkpoints_with_a_warning_and_tasks_go_on(run_dir):
    dfk = parsl.load(_config(run_dir, checkpoint_mode="task_exit"))
    square(1).result()
    wait_until(lambda: _entries(dfk))
    dfk.checkpointer._file = _FailingFile()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [square(i).result() for i in range(2, 6)] == [4, 9, 16, 25]
        wait_until(lambda: dfk.checkpointer.error is not None)
        assert square(7).result() == 49
    parsl.clear()
    assert any("checkpointing stopped" in str(w.message) for w in caught)
    assert list(_entries(dfk).values()) == [1]
