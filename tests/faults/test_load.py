"""Load: many tasks through local engines with bounded kernel memory; a 20,000-task DAG in the widget.

The full 100,000-task run is ``python benchmarks/load.py`` (it records the
peak RSS); these run smaller versions of the same code. No timings are
asserted here: rates go in benchmarks/.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import pytest

import parsl_nb as parsl
from parsl_nb.executors import ThreadPoolExecutor

from .conftest import REPO, wait_until


def _load_benchmark() -> Any:
    spec = importlib.util.spec_from_file_location("bench_load", os.path.join(REPO, "benchmarks", "load.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.engines
def test_many_noop_tasks_through_engines_with_bounded_memory(tmp_path):
    """10,000 no-ops submitted at once: every result arrives, the kernel's RSS stays bounded."""
    result = _load_benchmark().run(10_000, engines=2, run_dir=str(tmp_path / "ri"))
    assert result["task_counts"] == {"exec_done": 10_001}
    growth = result["rss_peak_mb"] - result["rss_start_mb"]
    # 100,000 tasks must stay under 500 MB (benchmarks/load.py); a tenth of them well under a fifth of that
    assert growth < 100, result


@parsl.python_app
def node(*deps: Any) -> int:
    return 1 + sum(deps)


@pytest.mark.slow
def test_dag_widget_with_20000_tasks(tmp_path):
    """A 20,000-task DAG with the DagWidget displayed: the model follows every task, in few messages."""
    from parsl_nb.widgets import DagWidget
    from tests.widgets.test_widgets import capture  # the widget tests' stand-in for the browser

    parsl.load(parsl.Config(executors=[ThreadPoolExecutor(label="threads", max_threads=4)],
                            run_dir=str(tmp_path / "ri"), monitoring=False))
    widget = DagWidget(hz=15)
    client, messages = capture(widget)
    width, layers = 1000, 20  # each task depends on two of the layer before
    prev = [node() for _ in range(width)]
    for _ in range(layers - 1):
        prev = [node(prev[i], prev[(i + 1) % width]) for i in range(width)]
    assert all(f.result(timeout=120) > 0 for f in prev)
    dfk = parsl.dfk()
    dfk.wait_for_current_tasks()
    done = int(parsl.TaskState.EXEC_DONE)
    wait_until(lambda: len(client.tid) == 20_000 and set(client.state) == {done}, 60,
               "the widget's model to show 20,000 finished tasks")
    assert len(client.edges) == 2 * 2 * width * (layers - 1)  # (from, to) pairs
    assert max(client.layer) == layers - 1
    assert len(messages) < 2_000, "patches were not batched"
    html = widget._repr_mimebundle_()[0]["text/html"]
    assert "20000" in html.replace(",", "") or "20 000" in html
    widget.close()
    parsl.clear()
