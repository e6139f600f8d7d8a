"""The Python functions behind the line magics, as a script would call them."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

import parsl_nb as parsl
from parsl_nb import Config, ThreadPoolExecutor
from parsl_nb.errors import ConfigError, NoDataFlowKernelError
from parsl_nb.jupyter import control, presets


def _config(tmp_path: Path, threads: int = 1) -> Config:
    return Config(executors=[ThreadPoolExecutor(label="threads", max_threads=threads)],
                  run_dir=str(tmp_path / "runinfo"))


@parsl.python_app
def held(event: threading.Event) -> str:
    event.wait(10)
    return "released"


@parsl.python_app
def square(x: int) -> int:
    return x * x


def test_load_replaces_and_cancels_unstarted_tasks(tmp_path: Path) -> None:
    first = control.load(_config(tmp_path))
    assert "no kernel was loaded before" in first.message
    event = threading.Event()
    running = held(event)
    queued = [square(i) for i in range(3)]
    threading.Timer(0.3, event.set).start()
    second = control.load(_config(tmp_path))
    assert "cancelled 3 unfinished task(s)" in second.message
    assert "1 running task(s) could not be stopped" in second.message
    assert running.result() == "released" and all(q.cancelled() for q in queued)
    assert parsl.dfk() is second.dfk and first.dfk.cleanup_called


def test_load_wait_waits_for_tasks(tmp_path: Path) -> None:
    control.load(_config(tmp_path))
    futures = [square(i) for i in range(4)]
    result = control.load(_config(tmp_path), running="wait")
    assert "waited for" in result.message
    assert [f.result() for f in futures] == [0, 1, 4, 9]


def test_load_rejects_unknown_running_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'cancel' or 'wait'"):
        control.load(_config(tmp_path), running="later")


def test_cancel_by_tid_app_and_all(tmp_path: Path) -> None:
    control.load(_config(tmp_path))
    event = threading.Event()
    blocker = held(event)
    a, b, c = square(1), square(2), square(3)
    assert control.cancel(a.tid).cancelled == [a.tid]
    assert control.cancel(str(b.tid)).cancelled == [b.tid]
    assert control.cancel("square").cancelled == [c.tid]
    result = control.cancel("all")
    assert result.cancelled == [] and result.not_stopped == [blocker.tid]
    assert "could not be stopped" in str(result)
    event.set()
    with pytest.raises(ValueError, match="no task of an app named 'nope'.*square"):
        control.cancel("nope")
    with pytest.raises(ValueError, match="no task 99"):
        control.cancel(99)


def test_tasks_filters(tmp_path: Path) -> None:
    control.load(_config(tmp_path))
    square(2).result()
    assert len(control.tasks(state="exec_done")) == 1
    assert len(control.tasks(state="failed,dep_fail")) == 0
    assert len(control.tasks(app="square")) == 1
    with pytest.raises(ValueError, match="unknown task state 'bogus'; choose from"):
        control.tasks(state="bogus")


def test_scale_needs_blocks(tmp_path: Path) -> None:
    control.load(_config(tmp_path))
    with pytest.raises(ValueError, match="has blocks to scale"):
        control.scale("+1")
    with pytest.raises(ValueError, match="must not be 0"):
        control.scale(0)
    with pytest.raises(ValueError, match="whole number"):
        control.scale("lots")


def test_clear_and_nothing_loaded(tmp_path: Path) -> None:
    assert control.clear() == "no kernel is loaded; nothing to clear"
    with pytest.raises(NoDataFlowKernelError, match="%parsl_load threads"):
        control.status()
    control.load(_config(tmp_path))
    assert "shut it down" in control.clear()
    assert control.current() is None


def test_presets_and_expressions(tmp_path: Path) -> None:
    cfg = presets.resolve("threads")
    assert [e.label for e in cfg.executors] == ["threads"]
    cfg = presets.resolve("mine", {"mine": _config(tmp_path)})
    assert cfg.run_dir.endswith("runinfo")
    cfg = presets.resolve(ThreadPoolExecutor(label="x"))
    assert [e.label for e in cfg.executors] == ["x"]
    with pytest.raises(ConfigError, match="could not evaluate 'nothing_here'"):
        presets.resolve("nothing_here", {})
    with pytest.raises(ConfigError, match="needs a preset"):
        presets.resolve("42", {})


def test_local_preset_without_engines_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    import parsl_nb.executors

    monkeypatch.delattr(parsl_nb.executors, "engines", raising=False)
    monkeypatch.setitem(sys.modules, "parsl_nb.executors.engines", None)
    with pytest.raises(presets.EnginesUnavailable, match="%parsl_load threads"):
        presets.local()
