"""JupyterLab on loopback with private directories, and headless Chromium on a notebook in it.

The harness of the browser tests (the widgets', the lab extension's): ``serve_lab`` for the
fixture, ``notebook_page`` for the page, ``kernel_exec``/``kernel_eval`` to reach the kernel.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("PARSL_NB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ARTIFACTS = Path(os.environ.get("PARSL_NB_ARTIFACTS", Path(__file__).parents[1] / "artifacts"))


def need_browser() -> None:
    """Skip on a laptop without the browser stack; fail in CI (CI=true), where it must be there."""
    missing = [m for m in ("playwright", "jupyterlab", "anywidget") if _absent(m)]
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing.append(CHROMIUM)
    if missing:
        msg = (f"browser tests need {', '.join(missing)} "
               "(apt-get install chromium; pip install jupyterlab anywidget playwright)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


def _absent(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Lab:
    """A JupyterLab server in ``root`` with its own IPython, config, runtime, settings and workspaces dirs."""

    def __init__(self, base: Path) -> None:
        self.root = base / "nb"
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        dirs = {k: base / k for k in ("ipython", "config", "runtime", "settings", "workspaces", "data")}
        for d in [self.root, *dirs.values()]:
            d.mkdir(parents=True, exist_ok=True)
        news = dirs["settings"] / "@jupyterlab" / "apputils-extension"
        news.mkdir(parents=True)
        (news / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        env = {**os.environ, "IPYTHONDIR": str(dirs["ipython"]), "JUPYTER_CONFIG_DIR": str(dirs["config"]),
               "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]), "JUPYTER_DATA_DIR": str(dirs["data"])}
        self.log = open(base / "lab.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.root}", "--LabApp.expose_app_in_browser=True",
             f"--LabApp.user_settings_dir={dirs['settings']}", f"--LabApp.workspaces_dir={dirs['workspaces']}"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.root)
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_up()

    def api(self, path: str) -> Any:
        req = urllib.request.Request(f"{self.url}{path}", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.load(r)

    def _wait_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}; see {self.log.name}")
            try:
                self.api("/api/status")
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        raise RuntimeError(f"jupyter lab did not answer within {timeout} s; see {self.log.name}")

    def wait_kernel_idle(self, timeout: float = 60) -> None:
        """Poll /api/kernels until a kernel is idle (it answers 500 while one starts)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if any(k.get("execution_state") == "idle" for k in self.api("/api/kernels")):
                    return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        raise TimeoutError("no idle kernel")

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}"

    def stop(self) -> None:
        """Stop the server (it shuts its kernels down); kill it if it hangs."""
        for k in self._kernels():
            try:
                req = urllib.request.Request(f"{self.url}/api/kernels/{k}", method="DELETE",
                                             headers={"Authorization": f"token {self.token}"})
                urllib.request.urlopen(req, timeout=10).close()
            except (OSError, urllib.error.URLError):
                pass
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()

    def _kernels(self) -> list[str]:
        try:
            return [k["id"] for k in self.api("/api/kernels")]
        except (OSError, urllib.error.URLError):
            return []


def write_notebook(path: Path, cells: list[str]) -> None:
    """A notebook with these code cells and the python3 kernelspec (so no kernel picker opens)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))


def copy_log(lab: Lab, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(lab.log.name, ARTIFACTS / name)


def serve_lab(base: Path, log_name: str) -> Iterator[Lab]:
    """For a fixture to ``yield from``: a Lab in ``base``; stopped after the test, its log kept as ``log_name``."""
    server = Lab(base)
    yield server
    server.stop()
    copy_log(server, log_name)


# The notebook's kernel as the page holds it: the notebook in the main area, whichever tab is current.
KERNEL_JS = """() => {
    const nb = Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.sessionContext);
    return nb?.sessionContext.session?.kernel;
}"""

_EXECUTE_JS = f"""async ([code, expr]) => {{
    const kernel = ({KERNEL_JS})();
    const reply = await kernel.requestExecute({{code, store_history: false,
                                               user_expressions: expr ? {{v: expr}} : {{}}}}).done;
    if (reply.content.status !== "ok") throw new Error(JSON.stringify(reply.content));
    return expr ? reply.content.user_expressions.v.data["text/plain"] : null;
}}"""


def kernel_exec(page: Any, code: str) -> None:
    """Run ``code`` in the notebook's kernel, as the page's own kernel connection (no cell)."""
    page.evaluate(_EXECUTE_JS, [code, None])


def kernel_eval(page: Any, expr: str) -> str:
    """The repr of ``expr`` evaluated in the notebook's kernel."""
    return str(page.evaluate(_EXECUTE_JS, ["", expr]))


@contextmanager
def notebook_page(lab: Lab, name: str, cells: list[str], *, width: int, last_screenshot: str,
                  page_errors: list[str] | None = None) -> Iterator[Any]:
    """Headless Chromium on a new notebook ``name`` of ``cells``, once its kernel is idle.

    The page is ``width`` x 1000 pixels; its uncaught errors go to ``page_errors`` if given.
    Pass or fail, a full-page screenshot is kept as ``last_screenshot`` in ARTIFACTS.
    """
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    write_notebook(lab.root / name, cells)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 1000})
            if page_errors is not None:
                page.on("pageerror", lambda e: page_errors.append(str(e)))
            try:
                page.goto(lab.notebook_url(name))
                page.locator(".jp-NotebookPanel").wait_for(timeout=60_000)
                lab.wait_kernel_idle()
                page.wait_for_function(f"({KERNEL_JS})()?.status === 'idle'", timeout=60_000)
                yield page
            finally:
                page.screenshot(path=str(ARTIFACTS / last_screenshot), full_page=True)
        finally:
            browser.close()
