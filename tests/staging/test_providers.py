"""Provider configuration (storage_access), Parsl's module paths, pickling for engines."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import parsl_nb as parsl
from parsl_nb import File
from parsl_nb.config import Config
from parsl_nb.data.staging import (
    HTTPInTaskStaging,
    HTTPSeparateTaskStaging,
    NoOpFileStaging,
    RSyncStaging,
    StageTask,
    Staging,
    ZipFileStaging,
    default_staging,
    task_kind,
)
from parsl_nb.errors import StagingError
from parsl_nb.executors import ThreadPoolExecutor

from .conftest import CONTENT, Server, read_text


def test_storage_access_limits_what_an_executor_stages(run_dir: str, http_server: Server) -> None:
    parsl.load(Config(executors=[ThreadPoolExecutor(storage_access=[NoOpFileStaging()])], run_dir=run_dir))
    with pytest.raises(StagingError, match="no staging provider of executor 'threads' can stage in http"):
        read_text(inputs=[File(f"{http_server.url}/data.txt")])


def test_storage_access_with_parsl_in_task_name(run_dir: str, http_server: Server) -> None:
    parsl.load(Config(executors=[ThreadPoolExecutor(storage_access=[HTTPInTaskStaging()])], run_dir=run_dir))
    assert read_text(inputs=[File(f"{http_server.url}/data.txt")]).result(timeout=20) == CONTENT.decode()


def test_local_files_make_no_staging_task(run_dir: str, tmp_path: Path) -> None:
    (tmp_path / "here.txt").write_bytes(CONTENT)
    kernel = parsl.load(Config(run_dir=run_dir))
    assert read_text(inputs=[File(str(tmp_path / "here.txt"))]).result(timeout=20) == CONTENT.decode()
    assert read_text(inputs=[File(f"file://{tmp_path}/here.txt")]).result(timeout=20) == CONTENT.decode()
    assert [d["kind"] for _, d in kernel.graph.nodes(data=True)] == ["app", "app"]


def test_parsl_module_paths() -> None:
    from parsl_nb.data_provider.data_manager import DataManager
    from parsl_nb.data_provider.data_manager import default_staging as parsl_default
    from parsl_nb.data_provider.file_noop import NoOpFileStaging as P1
    from parsl_nb.data_provider.ftp import FTPInTaskStaging
    from parsl_nb.data_provider.http import HTTPSeparateTaskStaging as P2
    from parsl_nb.data_provider.rsync import RSyncStaging as P3
    from parsl_nb.data_provider.staging import Staging
    from parsl_nb.data_provider.zip import ZipFileStaging as P4

    assert (P1, P2, P3, P4) == (NoOpFileStaging, HTTPSeparateTaskStaging, RSyncStaging, ZipFileStaging)
    assert all(isinstance(p, Staging) for p in [*parsl_default, FTPInTaskStaging()])
    assert DataManager.__name__ == "DataManager"


@pytest.mark.parametrize("provider", default_staging(), ids=lambda p: type(p).__name__)
def test_staging_tasks_pickle_for_engines(provider: Staging) -> None:
    task = StageTask("stage_in", provider, File("http://h/x.txt#sha256=ab"), "/tmp/x.txt")
    copy = pickle.loads(pickle.dumps(task))
    assert copy.__name__ == "stage_in:x.txt" and copy.file.checksum == "sha256:ab"


def test_task_kind() -> None:
    assert [task_kind(n) for n in ("stage_in:a.txt", "stage_out:b", "double", "stage_in")] == \
        ["stage_in", "stage_out", "app", "app"]


def test_bad_checksum_spec_says_what_to_write() -> None:
    with pytest.raises(ValueError, match="sha256:<hex digest>"):
        File("http://h/x", checksum="crc99:12")
