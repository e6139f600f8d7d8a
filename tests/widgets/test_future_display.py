"""Displaying an AppFuture: a live FutureWidget in a kernel with widgets, the static repr otherwise."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

import parsl_nb as parsl
from parsl_nb.jupyter import reprs

from ..conftest import wait_until

pytest.importorskip("anywidget")

VIEW = "application/vnd.jupyter.widget-view+json"


@parsl.python_app
def gated(gate: Any) -> int:
    gate.wait(10)
    return 42


def test_a_pending_future_shows_a_live_widget_with_static_fallbacks(thread_dfk, monkeypatch):
    from parsl_nb.widgets import FutureWidget

    monkeypatch.setattr(reprs, "widgets_available", lambda: True)
    made: list[Any] = []
    monkeypatch.setattr(FutureWidget, "__init__", _recording(FutureWidget.__init__, made))
    gate = threading.Event()
    fut = gated(gate)
    bundle = fut._repr_mimebundle_()
    assert set(bundle) >= {VIEW, "text/html", "text/plain"}
    assert bundle[VIEW]["model_id"] == made[0].model_id
    assert bundle["text/plain"].startswith(f"AppFuture task {fut.tid} gated")
    assert 'class="parsl-nb-future"' in bundle["text/html"]
    widget = made[0]
    gate.set()
    assert fut.result(timeout=10) == 42
    wait_until(lambda: widget.state == "exec_done" and widget.outcome == "42")  # it resolved live
    # once done, displaying it again is the static repr: nothing left to follow
    again = fut._repr_mimebundle_()
    assert VIEW not in again and again["text/plain"].endswith("-> 42")
    widget.close()


def test_outside_a_kernel_the_display_is_static(thread_dfk):
    gate = threading.Event()
    fut = gated(gate)
    try:
        assert not reprs.widgets_available()
        bundle = fut._repr_mimebundle_()
        assert set(bundle) == {"text/plain", "text/html"}
    finally:
        gate.set()
        fut.result(timeout=10)


def test_a_failing_widget_falls_back_to_the_static_repr(thread_dfk, monkeypatch):
    from parsl_nb.widgets import FutureWidget

    def broken(self: Any, *a: Any, **k: Any) -> None:
        raise RuntimeError("no comm")

    monkeypatch.setattr(reprs, "widgets_available", lambda: True)
    monkeypatch.setattr(FutureWidget, "__init__", broken)
    gate = threading.Event()
    fut = gated(gate)
    try:
        assert set(fut._repr_mimebundle_()) == {"text/plain", "text/html"}
    finally:
        gate.set()
        fut.result(timeout=10)


def test_import_parsl_nb_stays_cheap():
    code = ("import sys, parsl_nb; heavy = [m for m in ('anywidget', 'ipywidgets', 'IPython', 'matplotlib') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _recording(init: Any, made: list[Any]) -> Any:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        made.append(self)
    return wrapper
