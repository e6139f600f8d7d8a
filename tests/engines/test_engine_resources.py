"""Resource samples from engines reach the monitoring store (MonitoringOptions(resource_interval=...))."""

from __future__ import annotations

import time

import pytest

import parsl_nb as parsl
from parsl_nb.errors import ConfigError
from parsl_nb.monitoring import MonitoringHub, MonitoringOptions, runs

pytestmark = pytest.mark.engines


@parsl.python_app
def busy(seconds: float) -> int:
    blob = bytearray(30 * 1024 * 1024)  # RSS the sample should see
    end = time.time() + seconds
    n = 0
    while time.time() < end:
        n += 1
    return len(blob) + n * 0


def test_engines_sample_cpu_and_memory_of_running_tasks(engines_dfk, tmp_path):
    dfk, ex = engines_dfk({"monitoring": MonitoringOptions(resource_interval=0.2)})
    # 2.5 s each: several heartbeats carry samples while each task runs, even when a
    # loaded machine starts one engine late and both tasks run one after the other
    futures = [busy(2.5) for _ in range(2)]
    assert all(f.result(timeout=60) == 30 * 1024 * 1024 for f in futures)
    ran_on = {f.tid: dfk.tasks[f.tid].engine for f in futures}
    run_dir = dfk.run_dir
    dfk.cleanup()
    run = [r for r in runs(tmp_path / "runinfo") if str(r.path) == run_dir][0]
    samples = run.resources()
    tids = {f.tid for f in futures}
    during = [s for s in samples if s.task_id in tids]
    assert {s.task_id for s in during} == tids, (ran_on, [(s.engine, s.task_id, round(s.time % 100, 2))
                                                          for s in samples])
    assert all(s.try_id == 0 and s.engine and s.block == "0" for s in during)
    assert max(s.cpu_percent for s in during) > 20  # a spinning task shows CPU
    assert max(s.rss for s in during) > 30 * 1024 * 1024
    assert all(s.num_threads >= 1 and s.vms >= s.rss for s in during)
    assert all(run.time_began <= s.time <= run.time_completed for s in samples)
    assert run.resources(task_id=futures[0].tid) == [s for s in samples if s.task_id == futures[0].tid]


def test_no_samples_by_default(engines_dfk, tmp_path):
    dfk, _ = engines_dfk()
    busy(0.6).result(timeout=60)
    run_dir = dfk.run_dir
    dfk.cleanup()
    run = [r for r in runs(tmp_path / "runinfo") if str(r.path) == run_dir][0]
    assert run.resources() == []


def test_parsl_monitoring_hub_is_accepted():
    hub = MonitoringHub(hub_address="127.0.0.1", hub_port=55055, resource_monitoring_interval=7)
    assert hub.resource_interval == 7
    assert MonitoringHub(resource_monitoring_enabled=False).resource_interval is None
    with pytest.raises(ConfigError, match="resource_interval"):
        MonitoringOptions(resource_interval=0)
