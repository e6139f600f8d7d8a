"""The teaching notebooks run top to bottom without error, and are stored without outputs.

Each notebook runs in a fresh ``python3`` kernel whose working directory is a
temporary copy of ``notebooks/``, so the files and run directories the
notebooks make never land in the repository. Selected cells carry
``assert`` statements: a notebook that stops teaching the truth fails here.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import time

import pytest

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
TIMEOUT = 120  # per notebook; each is meant to take < 60 s on 2 cores


def test_there_are_ten_notebooks() -> None:
    assert [p.name[:2] for p in PATHS] == [f"{i:02d}" for i in range(1, 11)]


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_outputs_are_stripped(path: pathlib.Path) -> None:
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; run `python notebooks/_build.py` to rewrite it"


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.timeout(TIMEOUT + 60)
@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs(path: pathlib.Path, tmp_path: pathlib.Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    work = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, work, ignore=shutil.ignore_patterns("runinfo", "*.ipynb_checkpoints", "__pycache__"))
    nb = nbformat.read(work / path.name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    print(f"{path.name}: {time.perf_counter() - t0:.1f} s")
