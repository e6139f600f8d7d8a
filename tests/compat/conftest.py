"""Parsl-style scripts: each test loads its own config the way the Parsl user guide does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import parsl_nb as parsl
from parsl_nb.config import Config
from parsl_nb.executors import ThreadPoolExecutor


@pytest.fixture
def threads(run_dir: str) -> Iterator[parsl.DataFlowKernel]:
    """``parsl.load`` of a thread pool labelled ``threads``, in a temporary working directory."""
    yield parsl.load(Config(executors=[ThreadPoolExecutor(label="threads", max_threads=4)], run_dir=run_dir))
    parsl.clear()
