"""The widgets in a real JupyterLab, driven by headless Chromium (Debian's, no Playwright download)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from .lab import ARTIFACTS, Lab, kernel_eval, kernel_exec, need_browser, notebook_page, serve_lab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = """\
import os, time
import parsl_nb as parsl
from parsl_nb.widgets import DagWidget, ProgressWidget
parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_threads=4)], run_dir="runinfo"))
GATE = os.path.abspath("gate")

@parsl.python_app
def step(x, gate=None):
    while gate is not None and not os.path.exists(gate):
        time.sleep(0.05)
    return x * 2

@parsl.python_app
def divide(x, y):
    return x / y

@parsl.python_app
def total(*xs):
    return sum(xs)
"""
SMALL = """\
a = [step(i, gate=GATE) for i in range(4)]
bad = divide(a[0], 0)
t = total(*a[1:])
after = step(bad)
small = DagWidget([t, after], view="nodes", title="small workflow")
small
"""
PROGRESS = "ProgressWidget([t, after])"
MAGIC = "%load_ext parsl_nb\n%parsl_dag --nodes t"
BIG = """\
parts = [step(i) for i in range(4000)]
sums = [total(*parts[i:i + 5]) for i in range(0, 4000, 5)]
checks = [divide(s, 1) for s in sums[:193]]
big = DagWidget(title="whole kernel")
big
"""


def wait_attr(loc: Any, name: str, value: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while loc.get_attribute(name) != value:
        if time.monotonic() > deadline:
            pytest.fail(f"{name} of {loc} is {loc.get_attribute(name)!r}, expected {value!r}")
        time.sleep(0.05)


def click_at(canvas: Any, item: Any) -> None:
    canvas.click(position={"x": float(item.get_attribute("data-x")), "y": float(item.get_attribute("data-y"))})


@pytest.fixture
def lab(tmp_path: Path):
    need_browser()
    yield from serve_lab(tmp_path, "browser-lab.log")


@pytest.mark.timeout(300)
def test_dag_progress_details_and_groups_in_jupyterlab(lab: Lab):
    from playwright.sync_api import expect

    cells = [SETUP, SMALL, PROGRESS, BIG, MAGIC]
    with notebook_page(lab, "widgets.ipynb", cells, width=1400, last_screenshot="browser-last.png") as page:
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        _check_small(page, expect)
        _check_progress(page, expect)
        _check_big(page, expect)
        _check_resync(page)
        _check_saved_fallback(page, lab.root / "widgets.ipynb")


def _check_small(page: Any, expect: Any) -> None:
    small = page.locator(".parsl-nb-dag").nth(0)
    nodes = small.locator("ul.parsl-nb-dag-nodes > li")
    expect(nodes).to_have_count(7, timeout=60_000)
    # the gated tasks are not final yet: the browser shows them waiting or running
    waiting = small.locator("li[data-state=pending], li[data-state=launched], li[data-state=running]")
    assert waiting.count() >= 4
    small.screenshot(path=str(ARTIFACTS / "dag-waiting.png"))
    kernel_exec(page, "open(GATE, 'w').close()")
    expect(small.locator("li[data-state=exec_done]")).to_have_count(5, timeout=30_000)
    expect(small.locator("li[data-state=failed]")).to_have_count(1)
    expect(small.locator("li[data-state=dep_fail]")).to_have_count(1)
    wait_attr(small, "data-done", "5")
    wait_attr(small, "data-failed", "2")
    small.screenshot(path=str(ARTIFACTS / "dag-done.png"))
    # hover shows a tooltip, a click opens the detail panel of the failed task
    canvas = small.locator("canvas").nth(1)
    failed = small.locator("li[data-app=divide]")
    canvas.hover(position={"x": float(failed.get_attribute("data-x")), "y": float(failed.get_attribute("data-y"))})
    expect(small.locator(".tip")).to_contain_text("divide")
    click_at(canvas, failed)
    panel = small.locator(".detail")
    expect(panel).to_have_attribute("data-state", "failed", timeout=15_000)
    expect(panel).to_have_attribute("data-tid", failed.get_attribute("data-tid"))
    expect(panel.locator(".exception")).to_contain_text("ZeroDivisionError")
    expect(panel.locator(".traceback")).to_contain_text("Traceback")
    expect(panel.locator("ol.history > li").last).to_have_attribute("data-state", "failed")
    small.screenshot(path=str(ARTIFACTS / "dag-detail.png"))


def _check_progress(page: Any, expect: Any) -> None:
    overall = page.locator(".parsl-nb-progress .row[data-app=all]")
    expect(overall).to_have_attribute("data-done", "5", timeout=15_000)
    expect(overall).to_have_attribute("data-failed", "2")
    expect(page.locator(".parsl-nb-progress .row[data-app=divide]")).to_have_attribute("data-failed", "1")
    page.locator(".parsl-nb-progress").screenshot(path=str(ARTIFACTS / "progress.png"))


def _check_big(page: Any, expect: Any) -> None:
    big = page.locator(".parsl-nb-dag").nth(1)
    big.scroll_into_view_if_needed()
    expect(big).to_have_attribute("data-nodes", "5000", timeout=60_000)
    expect(big).to_have_attribute("data-mode", "groups")
    groups = big.locator("ul.parsl-nb-dag-groups > li")
    expect(groups).to_have_count(3)
    wait_attr(big, "data-pending", "0", timeout=60)
    wait_attr(big, "data-running", "0", timeout=30)
    expect(big.locator("ul.parsl-nb-dag-groups > li[data-app=total]")).to_have_attribute("data-done", "801")
    big.screenshot(path=str(ARTIFACTS / "dag-grouped.png"))
    click_at(big.locator("canvas").nth(1), big.locator("ul.parsl-nb-dag-groups > li[data-app=total]"))
    expect(big).to_have_attribute("data-mode", "nodes")
    expect(big).to_have_attribute("data-group", "total")
    big.screenshot(path=str(ARTIFACTS / "dag-group-expanded.png"))
    timings = {k: big.get_attribute(f"data-{k}") for k in ("first-paint-ms", "frame-ms", "frame-max-ms")}
    (ARTIFACTS / "browser-timings.json").write_text(json.dumps({"nodes": 5000, **timings}, indent=1))
    print("browser frame timings at 5000 nodes:", timings)


def _check_resync(page: Any) -> None:
    small = page.locator(".parsl-nb-dag").nth(0)
    # lose one message on purpose: the browser sees the gap, asks for a resync and gets a snapshot
    kernel_exec(page, "small.graph.seq += 1\nsmall.graph._changes[0] = small.graph.state[0]")
    wait_attr(small, "data-resyncs", "1")
    seq = kernel_eval(page, "small.graph.seq")
    wait_attr(small, "data-seq", seq)
    assert small.locator("li[data-state=exec_done]").count() == 5


def _check_saved_fallback(page: Any, path: Path) -> None:
    """%parsl_dag refreshed its output when the tasks finished: the saved notebook shows the final state."""
    import nbformat

    magic = page.locator(".parsl-nb-dag").nth(2)
    wait_attr(magic, "data-done", "4")  # t and the three tasks it needs
    deadline = time.monotonic() + 20
    while True:
        page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
        time.sleep(0.5)
        outputs = nbformat.read(str(path), as_version=4).cells[4].outputs
        html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
        if html.count('data-state="exec_done"') == 4 or time.monotonic() > deadline:
            break
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert html.count('data-state="exec_done"') == 4, html[:500]
