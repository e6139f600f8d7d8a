"""Stage-in from real loopback servers feeding python and bash apps; staging tasks in the graph."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from parsl_nb import File
from parsl_nb.dataflow.kernel import DataFlowKernel
from parsl_nb.futures import DataFuture

from .conftest import CONTENT, Server, read_arg, read_text, shout


def test_http_stage_in_feeds_python_app(dfk: DataFlowKernel, http_server: Server) -> None:
    fut = read_text(inputs=[File(f"{http_server.url}/data.txt")])
    assert fut.result(timeout=20) == CONTENT.decode()


def test_http_file_as_argument_gets_local_path_under_run_dir(dfk: DataFlowKernel, http_server: Server) -> None:
    url = f"{http_server.url}/data.txt"
    text, path = read_arg(File(url)).result(timeout=20)
    assert text == CONTENT.decode()
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    assert path == os.path.join(dfk.run_dir, "staging", digest, "data.txt")


def test_http_stage_in_feeds_bash_app(dfk: DataFlowKernel, http_server: Server, tmp_path: Path) -> None:
    out = File(str(tmp_path / "loud.txt"))
    fut = shout(inputs=[File(f"{http_server.url}/data.txt")], outputs=[out])
    assert fut.result(timeout=20) == 0
    assert fut.outputs[0].result(timeout=5).filepath == str(tmp_path / "loud.txt")
    assert (tmp_path / "loud.txt").read_bytes() == CONTENT.upper()


def test_staging_tasks_are_in_the_graph_with_their_kind(dfk: DataFlowKernel, http_server: Server) -> None:
    seen: list[str] = []
    sub = dfk.subscribe(lambda events: seen.extend(e.app for e in events if hasattr(e, "app")))
    fut = read_text(inputs=[File(f"{http_server.url}/data.txt")])
    fut.result(timeout=20)
    dfk.events.flush()
    sub.close()
    g = dfk.graph
    (stage,) = [n for n, d in g.nodes(data=True) if d["kind"] == "stage_in"]
    assert g.nodes[stage]["app"] == "stage_in:data.txt"
    assert g.nodes[stage]["state"] == "exec_done"
    assert g.nodes[fut.tid]["kind"] == "app"
    assert list(g.successors(stage)) == [fut.tid]
    assert dfk.tasks[stage].executor == "threads"  # runs where the app runs
    assert "stage_in:data.txt" in seen


def test_one_transfer_per_url_in_a_call(dfk: DataFlowKernel, http_server: Server) -> None:
    f = File(f"{http_server.url}/data.txt")
    read_text(inputs=[f, f]).result(timeout=20)
    kinds = [d["kind"] for _, d in dfk.graph.nodes(data=True)]
    assert kinds.count("stage_in") == 1


def test_checksum_that_matches_passes(dfk: DataFlowKernel, http_server: Server) -> None:
    digest = hashlib.sha256(CONTENT).hexdigest()
    assert read_text(inputs=[File(f"{http_server.url}/data.txt#sha256={digest}")]).result(timeout=20)
    md5 = hashlib.md5(CONTENT).hexdigest()
    assert read_text(inputs=[File(f"{http_server.url}/data.txt", checksum=f"md5:{md5}")]).result(timeout=20)


def test_ftp_stage_in_anonymous_and_with_login(dfk: DataFlowKernel, ftp_server: Server) -> None:
    anonymous = read_text(inputs=[File(f"{ftp_server.url}/data.txt")])
    host = ftp_server.url.removeprefix("ftp://")
    login = read_text(inputs=[File(f"ftp://alice:secret@{host}/data.txt")])
    assert anonymous.result(timeout=20) == login.result(timeout=20) == CONTENT.decode()


def test_staged_file_lands_in_working_dir(run_dir: str, http_server: Server, tmp_path: Path) -> None:
    import parsl_nb as parsl
    from parsl_nb.config import Config
    from parsl_nb.executors import ThreadPoolExecutor

    work = tmp_path / "work"
    parsl.load(Config(executors=[ThreadPoolExecutor(working_dir=str(work))], run_dir=run_dir))
    _, path = read_arg(File(f"{http_server.url}/data.txt")).result(timeout=20)
    assert Path(path).parent.parent == work


def test_stage_in_future_is_a_datafuture_of_the_staging_task(dfk: DataFlowKernel, http_server: Server) -> None:
    seen: list[object] = []

    from parsl_nb import python_app

    @python_app
    def grab(inputs: Sequence[object] = ()) -> str:
        seen.extend(inputs)
        return "ok"

    grab(inputs=[File(f"{http_server.url}/data.txt")]).result(timeout=20)
    (staged,) = seen
    assert isinstance(staged, File) and staged.local_path is not None
    assert not isinstance(staged, DataFuture)
