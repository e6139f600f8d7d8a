"""LocalProvider and launchers: Parsl's three calls on local process groups."""

from __future__ import annotations

import subprocess

import pytest

from parsl_nb.errors import ConfigError
from parsl_nb.launchers import SimpleLauncher, SingleNodeLauncher
from parsl_nb.providers import JobState, LocalProvider

from .conftest import wait_until

pytestmark = pytest.mark.engines


def test_single_node_launcher_starts_n_copies_and_reports_failure(tmp_path):
    script = SingleNodeLauncher()("echo rank=$PARSL_NB_WORKER_RANK", 3, 1)
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    assert sorted(out.split()) == ["rank=0", "rank=1", "rank=2"]
    bad = SingleNodeLauncher()("exit 4", 2, 1)
    assert subprocess.run(["bash", "-c", bad]).returncode == 4
    assert SimpleLauncher()("cmd", 5, 1) == "cmd"


def test_local_provider_submit_status_cancel(tmp_path):
    p = LocalProvider()
    p.script_dir = str(tmp_path)
    ok = p.submit("true", 1, "ok")
    bad = p.submit("echo it-broke >&2; exit 7", 1, "bad")
    slow = p.submit("sleep 60", 2, "slow")
    wait_until(lambda: [s.state for s in p.status([ok, bad])] == [JobState.COMPLETED, JobState.FAILED],
               10, "the short jobs to end")
    failed = p.status([bad])[0]
    assert failed.exit_code == 7 and "it-broke" in failed.message
    assert p.status([slow])[0].state is JobState.RUNNING
    assert p.cancel([slow, ok]) == [True, True]  # cancelling a finished job is fine
    assert p.status([slow])[0].state is JobState.CANCELLED
    assert p.status(["12345678"])[0].state is JobState.MISSING
    assert (tmp_path / "slow.sh").read_text().count("sleep 60") == 1


def test_local_provider_checks_its_options():
    with pytest.raises(ConfigError, match="min_blocks"):
        LocalProvider(min_blocks=3, max_blocks=1)
    with pytest.raises(ConfigError, match="nodes_per_block"):
        LocalProvider(nodes_per_block=2)
