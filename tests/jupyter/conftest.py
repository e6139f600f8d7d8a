"""Fixtures: a fresh real kernel per test, always shut down and reaped."""

from __future__ import annotations

from typing import Any

import psutil
import pytest

from .kernel_harness import Kernel  # noqa: E402


@pytest.fixture
def kernel_factory(tmp_path: Any):
    started: list[Kernel] = []

    def make() -> Kernel:
        ipdir = tmp_path / "ipython"
        ipdir.mkdir(exist_ok=True)
        work = tmp_path / "work"
        work.mkdir(exist_ok=True)
        k = Kernel(str(work), str(ipdir))
        started.append(k)
        return k

    yield make
    for k in started:
        kids = k.descendants()
        k.stop()
        for p in kids:  # never leave anything behind, whatever the test did
            try:
                p.kill()
            except psutil.Error:
                pass


@pytest.fixture
def kernel(kernel_factory: Any) -> Kernel:
    """A fresh kernel with ``%load_ext parsl_nb`` and ``%parsl_load threads`` done."""
    k = kernel_factory()
    k.ok("%load_ext parsl_nb\n%parsl_load threads")
    return k
