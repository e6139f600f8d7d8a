"""The Parsl session panel in a real JupyterLab, driven by headless Chromium.

One scenario, as a user would go: open a notebook (the panel says parsl_nb is not
loaded), load the extension and local engines, run a workflow held at a gate, watch
the counts move as the tasks finish, add a block, cancel pending tasks, open the
task graph in a tab, restart the kernel and see the panel reconnect.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..conftest import wait_until
from ..widgets.lab import ARTIFACTS, KERNEL_JS, Lab, kernel_eval, kernel_exec, need_browser, notebook_page, serve_lab
from .conftest import need_extension

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.engines]

LOAD = "%load_ext parsl_nb\n%parsl_load local"
WORKFLOW = """\
import os, time
import parsl_nb as parsl
GATE = os.path.abspath("gate")

@parsl.python_app
def step(x, gate=None):
    import os, time
    while gate is not None and not os.path.exists(gate):
        time.sleep(0.05)
    return x * 2

@parsl.python_app
def divide(x, y):
    return x / y

a = [step(i, gate=GATE) for i in range(6)]
bad = divide(a[0], 0)
"""
# the panel's status and counts, as data attributes of its root
PANEL = "#parsl-nb-panel"

def attr(loc: Any, name: str) -> str:
    return str(loc.get_attribute(name))


def wait_for(what: str, cond: Callable[[], Any], timeout: float = 30) -> Any:
    """``wait_until`` as this scenario reads: what it waits for first; the page polled every 0.1 s."""
    return wait_until(cond, timeout, what, interval=0.1)


@pytest.fixture
def lab(tmp_path: Path):
    need_browser()
    need_extension()
    yield from serve_lab(tmp_path, "labextension-lab.log")


@pytest.mark.timeout(400)
def test_panel_follows_a_workflow_scales_and_reconnects(lab: Lab):
    errors: list[str] = []
    with notebook_page(lab, "panel.ipynb", [LOAD, WORKFLOW], width=1500, last_screenshot="panel-last.png",
                       page_errors=errors) as page:
        panel = _open_panel(page)
        _check_not_loaded(page, panel)
        _check_counts_move(page, panel)
        _check_scale_out(page, panel)
        _check_cancel_pending(page, panel)
        _check_dag_tab(page)
        _check_reconnect_after_restart(page, panel)
        assert not [e for e in errors if "parsl" in e.lower()], errors


def _open_panel(page: Any) -> Any:
    # the command palette entry exists, and opening the panel goes through it
    labels = page.evaluate("window.jupyterapp.commands.label('parsl-nb:open-panel')")
    assert labels == "Parsl: Show Session Panel"
    page.evaluate("window.jupyterapp.commands.execute('parsl-nb:open-panel')")
    panel = page.locator(PANEL)
    panel.wait_for(state="visible", timeout=15_000)
    return panel


def _check_not_loaded(page: Any, panel: Any) -> None:
    """A kernel without parsl_nb: the panel says so and how to start."""
    wait_for("the panel to find parsl_nb missing", lambda: attr(panel, "data-phase") == "not-loaded")
    hint = panel.locator(".parsl-nb-hint")
    assert "%load_ext parsl_nb" in hint.inner_text()
    assert "%parsl_load local" in hint.inner_text()
    assert panel.locator("button[data-action=load]").is_visible()
    panel.screenshot(path=str(ARTIFACTS / "panel-not-loaded.png"))


def _check_counts_move(page: Any, panel: Any) -> None:
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    wait_for("the panel to connect", lambda: attr(panel, "data-loaded") == "true", timeout=60)
    wait_for("an engines executor with a block", lambda: panel.locator(
        ".parsl-nb-executor[data-kind=engines] tr.parsl-nb-block").count() >= 1, timeout=60)
    wait_for("7 tasks", lambda: attr(panel, "data-total") == "7", timeout=60)
    # held at the gate: nothing done yet, steps waiting or running
    assert attr(panel, "data-done") == "0"
    assert int(attr(panel, "data-running")) + int(attr(panel, "data-pending")) == 7
    status = page.locator(".parsl-nb-status")
    assert attr(status, "data-done") == "0"
    panel.screenshot(path=str(ARTIFACTS / "panel-waiting.png"))
    seen = {attr(panel, "data-done")}
    kernel_exec(page, "open(GATE, 'w').close()")
    deadline = time.monotonic() + 60
    while attr(panel, "data-done") != "6" and time.monotonic() < deadline:
        seen.add(attr(panel, "data-done"))
        time.sleep(0.05)
    assert attr(panel, "data-done") == "6", f"done count {attr(panel, 'data-done')}"
    wait_for("the failed divide", lambda: attr(panel, "data-failed") == "1")
    wait_for("the status bar", lambda: (attr(status, "data-done"), attr(status, "data-failed")) == ("6", "1"))
    assert "\u2713 6" in status.inner_text()
    failure = panel.locator("li.parsl-nb-failure[data-app=divide]")
    wait_for("the failure listed", lambda: failure.count() == 1)
    assert "ZeroDivisionError" in failure.locator(".exception").inner_text()
    step = panel.locator(".parsl-nb-app[data-app=step]")
    assert (attr(step, "data-done"), attr(step, "data-total")) == ("6", "6")
    panel.screenshot(path=str(ARTIFACTS / "panel-done.png"))


def _check_scale_out(page: Any, panel: Any) -> None:
    executor = panel.locator(".parsl-nb-executor[data-kind=engines]")
    before = int(attr(executor, "data-blocks"))
    workers = int(attr(executor, "data-workers"))
    notice = panel.locator(".parsl-nb-notice")
    if kernel_eval(page, "parsl.dfk().executors['engines'].provider.max_blocks") == "1":
        # the preset allows one block: the panel says why nothing was added, then the user raises the limit
        executor.locator("button[data-action=scale-out]").click()
        wait_for("the max_blocks notice", lambda: "max_blocks" in notice.inner_text())
        assert notice.get_attribute("data-ok") == "false"
        assert int(attr(executor, "data-blocks")) == before
        kernel_exec(page, "parsl.dfk().executors['engines'].provider.max_blocks = 2")
    executor.locator("button[data-action=scale-out]").click()
    wait_for("a new block in the panel", lambda: int(attr(executor, "data-blocks")) == before + 1, timeout=60)
    assert executor.locator("tr.parsl-nb-block").count() == before + 1
    wait_for("the scale notice", lambda: "added 1 block" in notice.inner_text())
    # its engines join and are counted
    wait_for("the new block's engines", lambda: int(attr(executor, "data-workers")) > workers, timeout=90)
    panel.screenshot(path=str(ARTIFACTS / "panel-scaled.png"))


def _check_cancel_pending(page: Any, panel: Any) -> None:
    kernel_exec(page, "hold = step(-1, gate=os.path.abspath('gate2'))\nlater = [step(hold) for _ in range(5)]")
    wait_for("5 tasks waiting on the held one", lambda: int(attr(panel, "data-pending")) >= 5)
    panel.locator("button[data-action=cancel]").click()
    wait_for("5 cancelled", lambda: attr(panel, "data-cancelled") == "5")
    assert "cancelled 5 task(s)" in panel.locator(".parsl-nb-notice").inner_text()
    kernel_exec(page, "open('gate2', 'w').close(); hold.result(timeout=60)")
    wait_for("the held task done", lambda: attr(panel, "data-done") == "7")


def _check_dag_tab(page: Any) -> None:
    page.locator(f"{PANEL} button[data-action=dag]").click()
    tab = page.locator(".parsl-nb-dag-tab")
    tab.wait_for(state="visible", timeout=30_000)
    dag = tab.locator(".parsl-nb-dag")
    dag.wait_for(timeout=60_000)
    wait_for("the graph of all 13 tasks", lambda: dag.get_attribute("data-nodes") == "13", timeout=60)
    tab.screenshot(path=str(ARTIFACTS / "panel-dag-tab.png"))


def _check_reconnect_after_restart(page: Any, panel: Any) -> None:
    connections = int(attr(panel, "data-connections"))
    run_dir = attr(panel, "data-run-dir")
    page.evaluate(f"({KERNEL_JS})().restart()")
    # the panel loads parsl_nb again in the new kernel: connected, no configuration yet
    wait_for("a reconnect", lambda: int(attr(panel, "data-connections")) > connections, timeout=60)
    wait_for("no config after the restart", lambda: attr(panel, "data-loaded") == "false"
             and attr(panel, "data-phase") == "connected")
    # the hint is rendered just after the data attributes change: wait for it, too
    wait_for("the how-to-start hint", lambda: "%parsl_load" in panel.locator(".parsl-nb-hint").inner_text())
    kernel_exec(page, "%parsl_load threads\nimport parsl_nb as parsl\n"
                      "fs = [parsl.python_app(lambda x: x)(i) for i in range(3)]\n[f.result() for f in fs]")
    wait_for("the new session's tasks", lambda: attr(panel, "data-done") == "3")
    assert attr(panel, "data-run-dir") != run_dir
    assert panel.locator(".parsl-nb-executor[data-kind=threads]").count() == 1
    panel.screenshot(path=str(ARTIFACTS / "panel-after-restart.png"))
