"""Every failing transfer fails its dependants with StagingError in the chain; nothing else is lost."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from parsl_nb import File
from parsl_nb.dataflow.kernel import DataFlowKernel
from parsl_nb.errors import DependencyError, StagingError

from .conftest import CONTENT, Server, free_port, need_rsync, read_text, square, write


def _assert_staging_failure(dfk: DataFlowKernel, url: str, cause: str) -> None:
    """Stage ``url`` in for an app, next to an unrelated app; check the failure and the survivor."""
    fut = read_text(inputs=[File(url)])
    after = read_text(inputs=[fut])  # a dependant of the dependant
    other = square(7)
    with pytest.raises(DependencyError) as info:
        fut.result(timeout=30)
    err = info.value
    assert isinstance(err.__cause__, StagingError)
    assert err.__cause__.url == url
    assert cause in str(err.__cause__)
    assert "StagingError" in str(err) and url in str(err)
    with pytest.raises(DependencyError) as deeper:
        after.result(timeout=10)
    assert isinstance(deeper.value.__cause__, StagingError)
    assert other.result(timeout=10) == 49
    g = dfk.graph
    (stage,) = g.predecessors(fut.tid)
    assert (g.nodes[stage]["kind"], g.nodes[stage]["state"]) == ("stage_in", "failed")
    assert fut.task_status() == "dep_fail" and other.task_status() == "exec_done"


def test_http_404(dfk: DataFlowKernel, http_server: Server) -> None:
    _assert_staging_failure(dfk, f"{http_server.url}/missing.txt", "HTTP 404")


def test_http_refused_connection(dfk: DataFlowKernel) -> None:
    _assert_staging_failure(dfk, f"http://127.0.0.1:{free_port()}/data.txt", "Connection refused")


def test_ftp_refused_connection(dfk: DataFlowKernel) -> None:
    _assert_staging_failure(dfk, f"ftp://127.0.0.1:{free_port()}/data.txt", "could not connect")


def test_ftp_missing_file(dfk: DataFlowKernel, ftp_server: Server) -> None:
    _assert_staging_failure(dfk, f"{ftp_server.url}/missing.txt", "550")


def test_checksum_mismatch_leaves_no_file(dfk: DataFlowKernel, http_server: Server) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    url = f"{http_server.url}/data.txt#sha256={wrong}"
    _assert_staging_failure(dfk, url, "checksum mismatch")
    assert _staged_files(dfk) == []


def test_partial_download_never_appears_under_the_final_name(dfk: DataFlowKernel, http_server: Server) -> None:
    _assert_staging_failure(dfk, f"{http_server.url}/truncated.bin", "partial copy was discarded")
    assert _staged_files(dfk) == []  # neither truncated.bin nor a .part file


def test_missing_rsync_binary(dfk: DataFlowKernel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "data.txt").write_bytes(CONTENT)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    _assert_staging_failure(dfk, f"rsync://{source}/data.txt", "apt-get install rsync")


def test_missing_rsync_binary_on_stage_out(dfk: DataFlowKernel, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    need_rsync()
    from parsl_nb import python_app

    @python_app
    def make(outputs: Sequence[File] = ()) -> str:
        with open(outputs[0], "w") as f:
            f.write("x")
        return "made"

    monkeypatch.setenv("PATH", str(tmp_path))
    fut = make(outputs=[File(f"rsync://{tmp_path}/dest/x.txt")])
    assert fut.result(timeout=20) == "made"
    with pytest.raises(StagingError, match="rsync program 'rsync' was not found"):
        fut.outputs[0].result(timeout=20)


def test_rsync_missing_source(dfk: DataFlowKernel, tmp_path: Path) -> None:
    need_rsync()
    _assert_staging_failure(dfk, f"rsync://{tmp_path}/nowhere/data.txt", "rsync exited with code")


def test_zip_missing_member(dfk: DataFlowKernel, tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    write("x", outputs=[File(f"zip://{archive}/x.txt")]).outputs[0].result(timeout=20)
    _assert_staging_failure(dfk, f"zip://{archive}/y.txt", "has no member 'y.txt'")


@pytest.mark.parametrize("make", [
    lambda: read_text(inputs=[File("gopher://example.org/x")]),
    lambda: write("x", outputs=[File("http://127.0.0.1:1/x")]),
])
def test_unknown_scheme_is_refused_at_the_call(dfk: DataFlowKernel, make: Callable[[], object]) -> None:
    with pytest.raises(StagingError, match="storage_access"):
        make()
    assert dfk.tasks == {}


def test_failed_stage_out_fails_dependants_only(dfk: DataFlowKernel, tmp_path: Path) -> None:
    from parsl_nb import bash_app

    @bash_app
    def lazy(outputs: Sequence[File] = ()) -> str:
        return "true"

    fut = lazy(outputs=[File(f"zip://{tmp_path}/z.zip/x.txt")])
    reader = read_text(inputs=[fut.outputs[0]])
    with pytest.raises(DependencyError) as info:
        reader.result(timeout=20)
    assert isinstance(info.value.__cause__, StagingError)
    assert fut.result(timeout=5) == 0


def _staged_files(dfk: DataFlowKernel) -> list[str]:
    root = os.path.join(dfk.run_dir, "staging")
    return [os.path.join(d, f) for d, dirs, files in os.walk(root) for f in [*files, *dirs]]
