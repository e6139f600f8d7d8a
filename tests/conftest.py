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
from parsl_nb.executors import ThreadPoolExecutor
from parsl_nb.executors.base import Executor

EXECUTOR_KINDS = ["threads"]
LABEL = "under_test"


def make_executor(kind: str) -> Executor:
    """A fresh, unstarted executor of ``kind``, labelled ``LABEL``."""
    if kind == "threads":
        return ThreadPoolExecutor(label=LABEL, max_threads=4)
    raise ValueError(f"unknown executor kind {kind!r}; known: {EXECUTOR_KINDS}")


def wait_until(cond: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01) -> Any:
    """Poll ``cond`` until it is truthy; fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s: {cond}")
        time.sleep(interval)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "threads_only: relies on the thread executor (shared memory, thread names); runs once"
    )


@pytest.fixture(autouse=True)
def _no_kernel_leaks() -> Iterator[None]:
    """Every test starts and ends with no kernel loaded."""
    parsl.clear()
    yield
    parsl.clear()


@pytest.fixture(params=EXECUTOR_KINDS)
def executor_kind(request: pytest.FixtureRequest) -> str:
    """The kind of executor the behavioural test runs on."""
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
