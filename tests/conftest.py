"""Shared fixtures: a loaded kernel on each executor kind, in a temporary run dir.

To run the behavioural tests on another executor, add its kind to
``EXECUTOR_KINDS`` and teach ``make_executor`` to build it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import parsl_nb as parsl
from parsl_nb.config import Config
from parsl_nb.executors import EngineExecutor, ThreadPoolExecutor
from parsl_nb.executors.base import Executor

from .shared_engines import FRESH, EngineLease, SharedEngines

EXECUTOR_KINDS = ["threads", "engines"]
LABEL = "under_test"
_SHARED: SharedEngines | None = None


def make_executor(kind: str) -> Executor:
    """A fresh, unstarted executor of ``kind``, labelled ``LABEL``.

    ``engines`` is a lease on the session's two local engines (see
    ``tests/shared_engines.py``), or a fresh EngineExecutor with
    ``PARSL_NB_FRESH_ENGINES=1``.
    """
    if kind == "threads":
        return ThreadPoolExecutor(label=LABEL, max_threads=4)
    if kind == "engines":
        if FRESH:
            return EngineExecutor(label=LABEL, engines_per_node=2)
        if _SHARED is None:
            raise RuntimeError("the shared engines are made by the session fixture _shared_engines")
        return EngineLease(_SHARED)
    raise ValueError(f"unknown executor kind {kind!r}; known: {EXECUTOR_KINDS}")


def wait_until(cond: Callable[[], Any], timeout: float = 10.0, what: str | None = None,
               interval: float = 0.01) -> Any:
    """Poll ``cond`` every ``interval`` s until it is truthy and return that value.

    After ``timeout`` s the test fails, naming ``what`` it waited for (or ``cond``).
    Suites whose conditions are costly to poll (process trees, ``squeue``, a browser
    page) bind a longer ``interval`` with ``functools.partial``.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or cond}")
        time.sleep(interval)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "threads_only: relies on the thread executor (shared memory, thread names); runs once"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A ``threads_only`` test runs once, on threads: its other executor legs are deselected."""
    keep, drop = [], []
    for item in items:
        kind = getattr(getattr(item, "callspec", None), "params", {}).get("executor_kind", "threads")
        (drop if kind != "threads" and item.get_closest_marker("threads_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _no_kernel_leaks() -> Iterator[None]:
    """Every test starts and ends with no kernel loaded."""
    parsl.clear()
    yield
    parsl.clear()


@pytest.fixture(scope="session")
def _shared_engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedEngines]:
    """The session's local engines, started by the first test that needs them."""
    global _SHARED
    _SHARED = SharedEngines(LABEL, str(tmp_path_factory.mktemp("shared_engines")))
    yield _SHARED
    _SHARED.stop()
    _SHARED = None


@pytest.fixture(params=[pytest.param(k, marks=pytest.mark.engines) if k == "engines" else k for k in EXECUTOR_KINDS])
def executor_kind(request: pytest.FixtureRequest) -> str:
    """The kind of executor the behavioural test runs on."""
    if request.param == "engines":
        request.getfixturevalue("_shared_engines")
    return str(request.param)


@pytest.fixture
def executor(executor_kind: str) -> Executor:
    """A fresh executor of the kind under test."""
    return make_executor(executor_kind)


@pytest.fixture
def run_dir(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A run directory under tmp_path; the test also runs with tmp_path as cwd."""
    monkeypatch.chdir(tmp_path)
    return str(tmp_path / "runinfo")


@pytest.fixture
def make_config(executor: Executor, run_dir: str) -> Callable[..., Config]:
    """Build a Config around the executor under test (extra Config options as kwargs)."""
    def build(**options: Any) -> Config:
        return Config(executors=[executor], run_dir=run_dir, **options)
    return build


@pytest.fixture
def dfk(make_config: Callable[..., Config]) -> Iterator[parsl.DataFlowKernel]:
    """A kernel loaded with the executor under test; cleared afterwards."""
    kernel = parsl.load(make_config())
    yield kernel
    parsl.clear()


@pytest.fixture
def thread_dfk(run_dir: str) -> Iterator[parsl.DataFlowKernel]:
    """A kernel on the thread executor only, for tests of shared-memory behaviour."""
    kernel = parsl.load(Config(executors=[ThreadPoolExecutor(label="threads", max_threads=4)], run_dir=run_dir))
    yield kernel
    parsl.clear()


def _pickle_tests_by_value() -> None:
    # Apps defined in test modules must reach workers in other processes,
    # which cannot import this tests package.
    try:
        import cloudpickle
    except ImportError:  # pragma: no cover
        return
    import tests

    cloudpickle.register_pickle_by_value(tests)


_pickle_tests_by_value()
