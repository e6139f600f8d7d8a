"""Rich and text displays of futures, the kernel, executors, status and task tables."""

from __future__ import annotations

import threading
from concurrent.futures import wait
from pathlib import Path

import pytest

import parsl_nb as parsl
from parsl_nb import Config, File, ThreadPoolExecutor
from parsl_nb.jupyter import control, reprs


@pytest.fixture
def dfk(tmp_path: Path):
    k = parsl.load(Config(executors=[ThreadPoolExecutor(label="threads", max_threads=2)],
                          run_dir=str(tmp_path / "runinfo")))
    yield k
    parsl.clear()


@parsl.python_app
def square(x: int) -> int:
    return x * x


@parsl.python_app
def boom(x: int) -> float:
    return x / 0


@parsl.python_app
def held(event: threading.Event) -> str:
    event.wait(10)
    return "released"


@parsl.bash_app
def touch(outputs: list[File] = ()) -> str:  # type: ignore[assignment]
    return f"touch {outputs[0]}"


def test_done_future_shows_state_tid_app_time_and_result(dfk) -> None:
    fut = square(7)
    assert fut.result() == 49
    html = reprs.future_html(fut)
    assert 'data-state="exec_done"' in html and f'data-tid="{fut.tid}"' in html
    assert "square" in html and "49" in html and " s<" in html
    text = reprs.future_text(fut)
    assert text.startswith(f"AppFuture task {fut.tid} square: exec_done in ") and text.endswith("-> 49")
    bundle = reprs.future_mimebundle(fut)
    assert bundle["text/plain"] == text and bundle["text/html"] == html


def test_failed_future_shows_exception_summary(dfk) -> None:
    fut = boom(1)
    wait([fut])
    html = reprs.future_html(fut)
    assert 'data-state="failed"' in html and "ZeroDivisionError: division by zero" in html
    assert "raised ZeroDivisionError: division by zero" in reprs.future_text(fut)


def test_running_future_has_no_result_yet(dfk) -> None:
    event = threading.Event()
    fut = held(event)
    try:
        text = reprs.future_text(fut)
        assert "->" not in text and "raised" not in text
        assert fut.task_status() in text
    finally:
        event.set()
    assert fut.result() == "released"


def test_html_is_escaped(dfk) -> None:
    @parsl.python_app
    def tag() -> str:
        return "<script>alert(1)</script>"

    fut = tag()
    fut.result()
    assert "<script>" not in reprs.future_html(fut)
    assert "&lt;script&gt;" in reprs.future_html(fut)


def test_long_results_are_shortened(dfk) -> None:
    @parsl.python_app
    def big() -> list[int]:
        return list(range(10_000))

    fut = big()
    fut.result()
    assert len(reprs.future_text(fut)) < 200


def test_datafuture_display(dfk, tmp_path: Path) -> None:
    out = File(str(tmp_path / "made.txt"))
    fut = touch(outputs=[out])
    df = fut.outputs[0]
    df.result()
    assert reprs.datafuture_text(df) == f"DataFuture {out.filepath} of task {fut.tid}: done"
    html = reprs.datafuture_html(df)
    assert "made.txt" in html and 'data-state="done"' in html and "touch" in html


def test_kernel_display_like_a_dask_client(dfk) -> None:
    square(2).result()
    wait([boom(1)])
    html = reprs.kernel_html(dfk)
    assert dfk.run_dir in html and "threads" in html and 'data-state="exec_done"' in html
    assert 'data-state="failed"' in html and "workers" in html
    text = reprs.kernel_text(dfk)
    assert "DataFlowKernel (running)" in text and dfk.run_dir in text
    assert "threads (threads): workers=2" in text and "exec_done=1" in text and "failed=1" in text
    assert "_parsl_internal" not in text + html


def test_executor_display(dfk) -> None:
    ex = dfk.executors["threads"]
    assert reprs.executor_text(ex) == "threads (threads): workers=2"
    assert 'data-label="threads"' in reprs.executor_html(ex)


def test_status_and_task_table_displays(dfk) -> None:
    square(3).result()
    wait([boom(1)])
    st = control.status()
    text = str(st)
    assert "square: exec_done=1" in text and "boom: failed=1" in text
    bundle = st._repr_mimebundle_()
    assert "parsl-nb-status" in bundle["text/html"] and bundle["text/plain"] == text
    table = control.tasks(state="failed")
    assert len(table) == 1 and "ZeroDivisionError" in str(table)
    assert 'data-state="failed"' in table._repr_mimebundle_()["text/html"]
    assert str(control.tasks(app="nothing")) == "no tasks match"
