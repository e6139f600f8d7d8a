from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import pytest

import parsl_nb as parsl
from parsl_nb.widgets._codec import decode

from ..conftest import wait_until
from .client import Client

pytest.importorskip("anywidget")


@parsl.python_app
def slow(x: int, gate: Any = None) -> int:
    if gate is not None:
        gate.wait(10)
    return x


@parsl.python_app
def divide(x: int, y: int) -> float:
    return x / y


def capture(widget: Any) -> tuple[Client, list[dict[str, Any]]]:
    """Replace the comm with a Client that decodes every message, as the browser does."""
    client, contents = Client(), []
    client.receive(widget._snapshot)

    def send(content: dict[str, Any], buffers: list[bytes]) -> None:
        contents.append(content)
        assert client.receive(buffers[0]), "gap in the sequence numbers"

    widget.syncer.send = send
    return client, contents


def test_dag_widget_follows_a_workflow_with_a_failure(thread_dfk):
    from parsl_nb.widgets import DagWidget

    gate = threading.Event()
    a = slow(1, gate)
    w = DagWidget(hz=20)
    client, contents = capture(w)
    b = divide(a, 0)
    c = slow(b)
    wait_until(lambda: len(client.tid) == 3)
    assert client.states_by_tid()[a.tid] in (parsl.TaskState.PENDING, parsl.TaskState.LAUNCHED,
                                            parsl.TaskState.RUNNING)
    gate.set()
    thread_dfk.wait_for_current_tasks()
    wanted = {a.tid: parsl.TaskState.EXEC_DONE, b.tid: parsl.TaskState.FAILED, c.tid: parsl.TaskState.DEP_FAIL}
    wait_until(lambda: client.states_by_tid() == wanted)
    assert client.edges == [0, 1, 1, 2] and client.layer == [0, 1, 2]
    assert all(m["type"] == "patch" for m in contents)
    info = w.detail(b.tid)
    assert info["app"] == "divide" and info["state"] == "failed"
    assert "ZeroDivisionError" in info["exception"] and "Traceback" in info["traceback"]
    assert info["args"].startswith("(") and [h["state"] for h in info["history"]][-1] == "failed"
    assert w.detail(a.tid)["result"] == "1"
    html = w._repr_mimebundle_()[0]["text/html"]
    assert 'data-state="failed"' in html and 'data-state="exec_done"' in html
    w.close()


def test_dag_widget_of_futures_shows_only_their_tasks(thread_dfk):
    from parsl_nb.widgets import DagWidget

    x = slow(1)
    y = slow(x)
    other = slow(2)
    w = DagWidget(y)
    assert sorted(w.graph.tid) == [x.tid, y.tid] and other.tid not in w.graph.index
    w.close()


def test_messages_from_the_browser(thread_dfk):
    from parsl_nb.widgets import DagWidget

    f = divide(1, 0)
    thread_dfk.wait_for_current_tasks()
    w = DagWidget()
    sent: list[tuple[dict[str, Any], list[bytes]]] = []
    w.send = lambda content, buffers=None: sent.append((content, buffers or []))
    w.syncer.send = lambda content, buffers: sent.append((content, buffers))
    w._on_msg(w, {"type": "resync", "have": 3}, [])
    w._on_msg(w, {"type": "detail", "tid": f.tid}, [])
    assert sent[0][0]["type"] == "snapshot" and decode(sent[0][1][0]).tid == [f.tid]
    assert sent[1][0]["type"] == "detail" and sent[1][0]["info"]["state"] == "failed"
    w.close()


def test_bad_arguments_say_what_to_pass(thread_dfk):
    from parsl_nb.widgets import DagWidget

    with pytest.raises(ValueError, match="view must be"):
        DagWidget(view="tree")
    with pytest.raises(TypeError, match="AppFuture"):
        DagWidget(["not a future"])


def test_progress_and_future_widgets(thread_dfk):
    from parsl_nb.widgets import FutureWidget, ProgressWidget

    gate = threading.Event()
    a = slow(1, gate)
    p = ProgressWidget(hz=20)
    fw = FutureWidget(a)
    b = divide(a, 0)
    wait_until(lambda: p.counts.get("divide", {}).get("pending") == 1)
    assert fw.state in ("pending", "launched", "running")
    gate.set()
    thread_dfk.wait_for_current_tasks()
    wait_until(lambda: p.counts == {"slow": {"pending": 0, "running": 0, "done": 1, "failed": 0},
                                    "divide": {"pending": 0, "running": 0, "done": 0, "failed": 1}})
    wait_until(lambda: fw.state == "exec_done" and fw.outcome == "1")
    assert b.exception() is not None
    assert 'data-app="divide"' in p._repr_mimebundle_()[0]["text/html"]
    assert "exec_done" in fw._repr_mimebundle_()[0]["text/html"]
    p.close()


def test_magics(thread_dfk, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    from parsl_nb.jupyter.widget_magics import WidgetMagics
    from parsl_nb.widgets import DagWidget, ProgressWidget

    shell = InteractiveShell.instance()
    shell.register_magics(WidgetMagics)
    shell.user_ns["fut"] = slow(3)
    shown: list[DagWidget] = []
    monkeypatch.setattr(DagWidget, "show", lambda self: shown.append(self))
    assert shell.run_line_magic("parsl_dag", "--groups --height 300 fut") is None
    [w] = shown
    assert isinstance(w, DagWidget) and w.view == "groups" and w.height == 300 and len(w.graph) == 1
    assert isinstance(shell.run_line_magic("parsl_progress", ""), ProgressWidget)
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="cannot evaluate"):
        shell.run_line_magic("parsl_dag", "no_such_name")
    with pytest.raises(UsageError):
        shell.run_line_magic("parsl_dag", "--threshold lots")


def test_plots_return_figures(thread_dfk, tmp_path):
    from matplotlib.figure import Figure

    import parsl_nb.plot

    a = [slow(i) for i in range(6)]
    b = divide(a[0], 0)
    thread_dfk.wait_for_current_tasks()
    for fig in (parsl_nb.plot.dag(), parsl_nb.plot.dag([b]), parsl_nb.plot.timeline()):
        assert isinstance(fig, Figure)
        fig.savefig(tmp_path / "x.png")
        assert (tmp_path / "x.png").read_bytes()[:4] == b"\x89PNG"
    assert "7 tasks" in parsl_nb.plot.dag().axes[0].get_title()
    assert "7 runs" in parsl_nb.plot.timeline().axes[0].get_title()


def test_figures_display_as_png_in_a_notebook_without_pyplot(thread_dfk):
    from IPython.core.formatters import DisplayFormatter

    import parsl_nb.plot

    slow(1).result()
    data, _ = DisplayFormatter().format(parsl_nb.plot.timeline())
    assert data["image/png"][:4] == b"\x89PNG"


def test_importing_parsl_nb_does_not_import_widget_or_plot_libraries():
    code = ("import sys, parsl_nb, parsl_nb.widgets, parsl_nb.plot; "
            "bad = [m for m in ('anywidget', 'ipywidgets', 'matplotlib') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_palette_is_indexed_by_state_value(thread_dfk):
    from parsl_nb.widgets import DagWidget

    w = DagWidget()
    assert [label for label, _ in w._palette] == [s.label for s in parsl.TaskState]
    assert [int(s) for s in parsl.TaskState] == list(range(len(w._palette)))
    w.close()


def test_static_fallback_is_refreshed_when_the_workflow_goes_quiet(thread_dfk):
    from parsl_nb.widgets import DagWidget

    gate = threading.Event()
    a = slow(1, gate)
    w = DagWidget(hz=20)
    updates: list[str] = []

    class Handle:
        def update(self, obj: Any) -> None:
            updates.append(obj._repr_mimebundle_()[0]["text/html"])

    w._handle = Handle()
    time.sleep(1.3)
    assert updates == []  # not while a task is still running
    gate.set()
    a.result()
    wait_until(lambda: updates, timeout=5)
    assert 'data-state="exec_done"' in updates[0] and len(updates) == 1
    w.close()


def test_widgets_show_tasks_that_end_while_the_kernel_is_cleared(run_dir):
    # cleanup waits for running tasks: their last state must still reach the widgets
    from parsl_nb.widgets import DagWidget, ProgressWidget

    dfk = parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_threads=2)], run_dir=run_dir))
    gate = threading.Event()
    f = slow(1, gate)
    dag, progress = DagWidget(hz=20), ProgressWidget(hz=20)
    wait_until(lambda: f.task_record.status == parsl.TaskState.RUNNING)
    threading.Timer(1.5, gate.set).start()
    parsl.clear()  # returns once the running task has ended
    assert dfk.tasks[f.tid].status == parsl.TaskState.EXEC_DONE
    wait_until(lambda: dag.graph.node(f.tid)["state"] == "exec_done", 5)
    wait_until(lambda: progress.counter.snapshot() == {"slow": {"pending": 0, "running": 0, "done": 1, "failed": 0}}, 5)
    wait_until(lambda: not dag._ticker.alive and not progress._ticker.alive, 10)


@pytest.mark.parametrize("hz", [0, 100])
def test_a_bad_rate_is_refused_before_the_widget_follows_the_kernel(thread_dfk, hz):
    from parsl_nb.widgets import DagWidget, ProgressWidget

    hooks = len(thread_dfk.final_hooks)
    for cls in (DagWidget, ProgressWidget):
        with pytest.raises(ValueError, match="hz must be in"):
            cls(hz=hz)
    assert len(thread_dfk.final_hooks) == hooks
