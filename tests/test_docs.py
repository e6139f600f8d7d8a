"""The docs cover the public API, and build with warnings as errors (notebooks executed)."""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import sys

import pytest

import parsl_nb

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"
REFERENCE = DOCS / "reference"


def _reference_source() -> str:
    return "\n".join(p.read_text() for p in sorted(REFERENCE.glob("*.md")))


@pytest.mark.parametrize("name", sorted(parsl_nb.__all__))
def test_public_name_in_api_reference(name: str) -> None:
    # documented as parsl_nb.NAME (an autodoc directive or a py: object) on a reference page
    assert re.search(rf"parsl_nb\.{re.escape(name)}\b", _reference_source()), (
        f"parsl_nb.{name} is in parsl_nb.__all__ but not in docs/reference/*.md; add an autodoc entry for it"
    )


def test_every_notebook_is_in_the_docs() -> None:
    index = (DOCS / "index.md").read_text()
    for nb in sorted((DOCS.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"notebooks/{nb.stem}" in index, f"{nb.name} is missing from the toctree in docs/index.md"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_docs_build_without_warnings(tmp_path: pathlib.Path) -> None:
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_nb")
    pytest.importorskip("ipykernel")  # the build executes eight of the notebooks (docs/conf.py)
    src = tmp_path / "docs"
    # a copy, so the build's side files (jupyter_execute/) never land in the repository
    shutil.copytree(DOCS, src, symlinks=False, ignore=shutil.ignore_patterns("_build", "jupyter_execute", "runinfo"))
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           str(src), str(src / "_build")], capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stderr[-4000:]
