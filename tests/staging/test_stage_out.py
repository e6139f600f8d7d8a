"""Stage-out after a bash app (rsync between folders and through a daemon), and zip archives."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from parsl_nb import File
from parsl_nb.dataflow.kernel import DataFlowKernel
from parsl_nb.errors import StagingError

from .conftest import CONTENT, Server, need_rsync, read_arg, read_text, shout, write


def test_rsync_stage_out_after_bash_app(dfk: DataFlowKernel, tmp_path: Path) -> None:
    need_rsync()
    dest = tmp_path / "results" / "sub"
    fut = write("hello", outputs=[File(f"rsync://{dest}/hello.txt")])
    out = fut.outputs[0]
    assert out.result(timeout=20).filename == "hello.txt"
    assert (dest / "hello.txt").read_text() == "hello\n"
    g = dfk.graph
    assert g.nodes[out.tid]["kind"] == "stage_out"
    assert g.nodes[out.tid]["app"] == "stage_out:hello.txt"
    assert list(g.predecessors(out.tid)) == [fut.tid]


def test_rsync_stage_in_between_folders(dfk: DataFlowKernel, tmp_path: Path) -> None:
    need_rsync()
    source = tmp_path / "source"
    source.mkdir()
    (source / "data.txt").write_bytes(CONTENT)
    assert read_text(inputs=[File(f"rsync://{source}/data.txt")]).result(timeout=20) == CONTENT.decode()


def test_rsync_daemon_in_and_out(dfk: DataFlowKernel, rsync_daemon: Server, tmp_path: Path) -> None:
    loud = File(f"{rsync_daemon.url}/loud.txt")
    fut = shout(inputs=[File(f"{rsync_daemon.url}/data.txt")], outputs=[loud])
    fut.outputs[0].result(timeout=30)
    assert (rsync_daemon.root / "loud.txt").read_bytes() == CONTENT.upper()


def test_stage_out_waits_and_feeds_a_dependant(dfk: DataFlowKernel, tmp_path: Path) -> None:
    need_rsync()
    dest = tmp_path / "shared"
    first = write("relay", outputs=[File(f"rsync://{dest}/relay.txt")])
    text = read_text(inputs=[first.outputs[0]]).result(timeout=20)
    assert text == "relay\n"
    assert (dest / "relay.txt").read_text() == "relay\n"


def test_zip_stage_out_then_in(dfk: DataFlowKernel, tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    futs = [write(word, outputs=[File(f"zip://{archive}/words/{word}.txt")]) for word in ("alpha", "beta", "gamma")]
    for f in futs:
        f.outputs[0].result(timeout=20)
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == ["words/alpha.txt", "words/beta.txt", "words/gamma.txt"]
        assert z.read("words/beta.txt") == b"beta\n"
    text, path = read_arg(File(f"zip://{archive}/words/gamma.txt")).result(timeout=20)
    assert text == "gamma\n"
    assert path.endswith("gamma.txt")
    kinds = sorted(d["kind"] for _, d in dfk.graph.nodes(data=True))
    assert kinds.count("stage_out") == 3 and kinds.count("stage_in") == 1


def test_zip_stage_out_replaces_a_member(dfk: DataFlowKernel, tmp_path: Path) -> None:
    archive = tmp_path / "again.zip"
    write("old", outputs=[File(f"zip://{archive}/x.txt")]).outputs[0].result(timeout=20)
    write("new", outputs=[File(f"zip://{archive}/x.txt")]).outputs[0].result(timeout=20)
    with zipfile.ZipFile(archive) as z:
        assert z.namelist() == ["x.txt"]
        assert z.read("x.txt") == b"new\n"


def test_output_the_app_did_not_write_fails_its_stage_out(dfk: DataFlowKernel, tmp_path: Path) -> None:
    from parsl_nb import bash_app

    @bash_app
    def lazy(outputs: Sequence[File] = ()) -> str:
        return "true"

    fut = lazy(outputs=[File(f"zip://{tmp_path}/never.zip/x.txt")])
    assert fut.result(timeout=20) == 0  # the app itself ran fine
    with pytest.raises(StagingError, match="did not create"):
        fut.outputs[0].result(timeout=20)
    assert not (tmp_path / "never.zip").exists()
