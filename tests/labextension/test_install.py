"""``pip install .`` in a fresh environment installs the prebuilt extension, listed enabled and OK."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import BUILD_HINT, labextension_list, listed_ok

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).parents[2]
DIST = ROOT / "labextension" / "dist"


def _need_build() -> None:
    if (DIST / "package.json").exists():
        return
    msg = f"labextension/dist is not built; {BUILD_HINT}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def _source_tree(dest: Path) -> Path:
    """The project's tracked files (as a fresh clone has them) plus the built extension."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        src = ROOT / rel
        if src.is_file() and not rel.startswith("labextension/"):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    shutil.copytree(DIST, dest / "labextension" / "dist")
    return dest


@pytest.mark.timeout(600)
def test_pip_install_puts_the_extension_where_jupyterlab_finds_it(tmp_path: Path):
    _need_build()
    src = _source_tree(tmp_path / "src")
    venv = tmp_path / "venv"
    # jupyterlab and the build backend's own needs come from outside; parsl_nb itself is installed fresh
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    out = subprocess.run([python, "-m", "pip", "install", "--no-deps", "-q", str(src)], capture_output=True,
                         text=True, timeout=540)
    assert out.returncode == 0, out.stdout + out.stderr
    installed = venv / "share" / "jupyter" / "labextensions" / "parsl-nb"
    assert (installed / "package.json").exists(), f"pip install . did not install {installed}"
    assert (installed / "install.json").exists()
    assert any((installed / "static").glob("remoteEntry.*.js"))
    listing = labextension_list(python, env={**os.environ, "JUPYTER_PATH": "", "JUPYTER_DATA_DIR": str(tmp_path)})
    assert listed_ok(listing, under=str(installed.parent)), listing
    assert "(python, parsl_nb)" in listing
