"""What a notebook sees of an engine executor: status displays, reloads, remote tracebacks."""

from __future__ import annotations

import linecache
import traceback

import pytest

import parsl_nb as parsl
from parsl_nb.executors import EngineExecutor
from parsl_nb.jupyter import control

from .conftest import alive, descendants, wait_until

pytestmark = pytest.mark.engines


@parsl.python_app
def pid():
    import os
    return os.getpid()


def test_status_lists_blocks_and_engines(engines_dfk):
    dfk, ex = engines_dfk(engines_per_node=1, init_blocks=2, max_blocks=2, strategy="none")
    wait_until(lambda: len(ex.engines) == 2, 20, "two engines")
    summary = ex.status_summary()
    assert summary["workers"] == 2
    assert [(b.block_id, b.state, b.engines) for b in summary["blocks"]] == [("0", "running", 1), ("1", "running", 1)]
    assert all(b.job_id for b in summary["blocks"])
    assert sorted(e.block for e in summary["engines"]) == ["0", "1"]

    text = str(control.status())
    job = summary["blocks"][0].job_id
    assert f"block 0 (job {job}): running, 1 engine\n" in text
    engine = summary["engines"][0]
    assert f"engine {engine.engine_id} (block {engine.block}, {engine.host} pid {engine.pid}): 0 tasks" in text
    html = dfk._repr_mimebundle_()["text/html"]
    assert f"<li><code>block 0 (job {job}): running, 1 engine</code></li>" in html
    assert control.status()._repr_mimebundle_()["text/html"].count("<li>") == 4  # two blocks, two engines


def test_status_after_a_block_is_scaled_in(engines_dfk):
    dfk, ex = engines_dfk(engines_per_node=1, init_blocks=2, max_blocks=2, strategy="none")
    wait_until(lambda: [b.state.value for b in ex.blocks] == ["running"] * 2, 20, "both blocks running")
    assert len(ex.scale_in(1)) == 1
    wait_until(lambda: len(ex.status_summary()["engines"]) == 1, 10, "one engine left")
    states = sorted(b.state for b in ex.status_summary()["blocks"])
    assert states == ["cancelled", "running"]
    assert ": cancelled, 0 engines" in str(control.status())


def test_the_same_config_loads_again_after_clear(tmp_path):
    config = parsl.Config(executors=[EngineExecutor(engines_per_node=1)], run_dir=str(tmp_path / "runinfo"))
    before = {p.pid for p in descendants()}  # the session's shared engines, if started, stay
    try:
        parsl.load(config)
        first = pid().result(timeout=30)
        parsl.clear()
        parsl.load(config)  # re-running the notebook's load cell
        second = pid().result(timeout=30)
        assert second != first
    finally:
        parsl.clear()
    wait_until(lambda: not [p for p in alive(descendants()) if p.pid not in before], 10,
               "every engine process of the test to exit")


def test_remote_traceback_shows_the_notebook_cell_source(engines_dfk):
    engines_dfk()
    cell = "/tmp/ipykernel_4242/3141592653.py"  # how ipykernel names a cell: only in linecache, not on disk
    source = "def ratio(a, b):\n    scale = 1\n    return scale * a / b\n"
    linecache.cache[cell] = (len(source), None, source.splitlines(True), cell)
    try:
        namespace = {"__name__": "__main__"}
        exec(compile(source, cell, "exec"), namespace)
        fut = parsl.python_app(namespace["ratio"])(1, 0)
        with pytest.raises(ZeroDivisionError):
            fut.result(timeout=30)
    finally:
        del linecache.cache[cell]
    text = "".join(traceback.format_exception(fut.exception()))
    assert f'File "{cell}", line 3, in ratio' in text
    assert "return scale * a / b" in text
