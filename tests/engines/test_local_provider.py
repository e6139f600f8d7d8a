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


def test_local_provider_runs_its_commands_through_the_runner(tmp_path):
    from parsl_nb.providers.commands import SubmitError
    from tests.providers.fakes import FakeRunner

    runner = (FakeRunner().add("bash", 0, "4242\n").fail("ps", "no answer within 30 s")
              .add("ps", 1, "").add("bash", 127, "", "setsid: not found\n"))
    p = LocalProvider(runner=runner)
    p.script_dir = str(tmp_path)
    job = p.submit("true", 1, "blk")
    assert job == "4242" and runner.calls[0][0][:2] == ("bash", "-c")
    assert p.status([job])[0].state is JobState.RUNNING  # ps hung: keep the last known state
    (tmp_path / "blk.exitcode").write_text("3\n")
    ended = p.status([job])[0]  # ps lists nothing: the group is gone, and it wrote its exit code
    assert ended.state is JobState.FAILED and ended.exit_code == 3
    with pytest.raises(SubmitError, match="worker_init") as info:
        p.submit("true", 1, "blk2")
    assert "setsid" in info.value.stderr
    assert runner.programs() == ["bash", "ps", "ps", "bash"]
