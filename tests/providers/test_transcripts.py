"""Providers against their schedulers' documented command output (fake runner, no scheduler).

Transcripts follow each scheduler's manual: PBS Pro `qstat -x -f -F json`, Torque `qstat`,
LSF `bsub`/`bjobs -o`, HTCondor `condor_submit`/`condor_q -af:jr`, Slurm `squeue`, SGE `qstat`.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from parsl_nb.launchers import SimpleLauncher
from parsl_nb.providers.base import JobState
from parsl_nb.providers.commands import CommandFailed, SubmitError
from parsl_nb.providers.condor import CondorProvider
from parsl_nb.providers.gridengine import GridEngineProvider
from parsl_nb.providers.lsf import LSFProvider
from parsl_nb.providers.pbspro import PBSProProvider
from parsl_nb.providers.slurm import SlurmProvider
from parsl_nb.providers.torque import TorqueProvider
from tests.providers.fakes import FakeRunner

PBS_SUBMIT = "4521.pbs01.cluster.example\n"
TORQUE_TABLE = """\
Job ID                    Name             User            Time Use S Queue
------------------------- ---------------- --------------- -------- - -----
{rows}"""


def make(cls, runner: FakeRunner, tmp_path: Path, **kw):
    provider = cls(runner=runner, launcher=SimpleLauncher(), **kw)
    provider.script_dir = str(tmp_path)
    return provider


def pbs_json(**jobs: dict) -> str:
    return json.dumps({"timestamp": 1700000000, "pbs_version": "2022.1.3", "pbs_server": "pbs01",
                       "Jobs": {f"{k.lstrip('j')}.pbs01": v for k, v in jobs.items()}})


# -- PBS Pro --------------------------------------------------------------------------------

@pytest.mark.parametrize(("job_state", "exit_status", "expected"), [
    ("Q", None, JobState.PENDING), ("W", None, JobState.PENDING), ("T", None, JobState.PENDING),
    ("H", None, JobState.HELD), ("S", None, JobState.HELD), ("U", None, JobState.HELD),
    ("R", None, JobState.RUNNING), ("B", None, JobState.RUNNING), ("E", None, JobState.RUNNING),
    ("F", 0, JobState.COMPLETED), ("F", 1, JobState.FAILED), ("F", -29, JobState.TIMEOUT),
    ("F", 271, JobState.CANCELLED), ("X", None, JobState.COMPLETED),
])
def test_pbspro_every_state(tmp_path, job_state, exit_status, expected) -> None:
    attrs = {"Job_Name": "parsl_nb.block", "job_state": job_state}
    if exit_status is not None:
        attrs["Exit_status"] = exit_status
    runner = FakeRunner().add("qsub", 0, PBS_SUBMIT).add("qstat", 0, pbs_json(j4521=attrs))
    provider = make(PBSProProvider, runner, tmp_path)
    job_id = provider.submit("echo hi", 1)
    assert job_id == "4521.pbs01.cluster.example"
    assert provider.status([job_id])[0].state is expected
    assert runner.calls[1][0] == ("qstat", "-x", "-f", "-F", "json", job_id)


def test_pbspro_status_of_many_jobs_is_one_call_and_survives_an_unknown_id(tmp_path) -> None:
    runner = FakeRunner().add("qsub", 0, "1.pbs01\n").add("qsub", 0, "2.pbs01\n").add("qsub", 0, "3.pbs01\n")
    provider = make(PBSProProvider, runner, tmp_path)
    ids = [provider.submit("true", 1) for _ in range(3)]
    runner.add("qstat", 153, pbs_json(j1={"job_state": "R"}, j2={"job_state": "Q"}),
               "qstat: Unknown Job Id 3.pbs01\n")
    states = [s.state for s in provider.status(ids)]
    assert states == [JobState.RUNNING, JobState.PENDING, JobState.PENDING]  # 3: just submitted
    assert runner.programs().count("qstat") == 1


def test_pbspro_submit_error_names_the_option(tmp_path) -> None:
    runner = FakeRunner().add("qsub", 170, "", "qsub: Unknown queue\n")
    provider = make(PBSProProvider, runner, tmp_path, queue="nope")
    with pytest.raises(SubmitError) as info:
        provider.submit("true", 1)
    assert "queue" in info.value.message and "qsub: Unknown queue" in str(info.value)
    assert info.value.stderr == "qsub: Unknown queue\n" and info.value.returncode == 170
    assert Path(info.value.script_path).exists()
    copy = pickle.loads(pickle.dumps(info.value))
    assert str(copy) == str(info.value)


@pytest.mark.parametrize(("rc", "stderr"), [(0, ""), (35, "qdel: Job has finished 1.pbs01"),
                                            (153, "qdel: Unknown Job Id 1.pbs01")])
def test_pbspro_cancel_of_running_or_finished_job_succeeds(tmp_path, rc, stderr) -> None:
    runner = FakeRunner().add("qsub", 0, "1.pbs01\n").add("qdel", rc, "", stderr)
    provider = make(PBSProProvider, runner, tmp_path)
    job_id = provider.submit("true", 1)
    assert provider.cancel([job_id]) == [True]
    assert provider.status([job_id])[0].state is JobState.CANCELLED


def test_pbspro_cancel_refused(tmp_path) -> None:
    runner = FakeRunner().add("qsub", 0, "1.pbs01\n").add("qdel", 159, "", "qdel: Unauthorized Request  1.pbs01")
    provider = make(PBSProProvider, runner, tmp_path)
    job_id = provider.submit("true", 1)
    assert provider.cancel([job_id]) == [False]
    assert provider.resources[job_id].status.state is JobState.PENDING


# -- Torque ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "expected"), [
    ("Q", JobState.PENDING), ("W", JobState.PENDING), ("T", JobState.PENDING), ("H", JobState.HELD),
    ("S", JobState.HELD), ("R", JobState.RUNNING), ("E", JobState.RUNNING), ("C", JobState.COMPLETED),
])
def test_torque_every_state(tmp_path, code, expected) -> None:
    row = f"77.torque-server            parsl_nb.block   alice           00:00:01 {code} batch"
    runner = FakeRunner().add("qsub", 0, "77.torque-server.example.org\n")
    runner.add("qstat", 0, TORQUE_TABLE.format(rows=row))
    provider = make(TorqueProvider, runner, tmp_path)
    job_id = provider.submit("true", 1)
    assert provider.status([job_id])[0].state is expected


def test_torque_job_purged_after_completion_is_completed_once_seen(tmp_path) -> None:
    row = "77.torque-server            parsl_nb.block   alice           00:00:01 R batch"
    runner = FakeRunner().add("qsub", 0, "77.torque-server\n").add("qstat", 0, TORQUE_TABLE.format(rows=row))
    runner.add("qstat", 153, "", "qstat: Unknown Job Id Error 77.torque-server\n")
    provider = make(TorqueProvider, runner, tmp_path)
    job_id = provider.submit("true", 1)
    assert provider.status([job_id])[0].state is JobState.RUNNING
    assert provider.status([job_id])[0].state is JobState.COMPLETED


def test_torque_cancel_completed_job_is_not_an_error(tmp_path) -> None:
    runner = FakeRunner().add("qsub", 0, "77.torque-server\n")
    runner.add("qdel", 168, "", "qdel: Invalid state for job - COMPLETE 77.torque-server\n")
    provider = make(TorqueProvider, runner, tmp_path)
    assert provider.cancel([provider.submit("true", 1)]) == [True]


def test_torque_submit_error(tmp_path) -> None:
    runner = FakeRunner().add("qsub", 188, "", "qsub: submit error (Job exceeds queue resource limits MSG=cannot "
                                               "satisfy queue max walltime requirement)\n")
    provider = make(TorqueProvider, runner, tmp_path, walltime="99:00:00")
    with pytest.raises(SubmitError, match="walltime"):
        provider.submit("true", 1)


def test_torque_failed_status_query_keeps_last_state(tmp_path) -> None:
    row = "77.torque-server            parsl_nb.block   alice           00:00:01 R batch"
    runner = FakeRunner().add("qsub", 0, "77.torque-server\n").add("qstat", 0, TORQUE_TABLE.format(rows=row))
    runner.add("qstat", 1, "", "Communication failure.\n").fail("qstat", "no answer within 120 s")
    provider = make(TorqueProvider, runner, tmp_path)
    job_id = provider.submit("true", 1)
    for _ in range(3):
        assert provider.status([job_id])[0].state is JobState.RUNNING


# -- LSF ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("stat", "expected"), [
    ("PEND", JobState.PENDING), ("WAIT", JobState.PENDING), ("RUN", JobState.RUNNING),
    ("PSUSP", JobState.HELD), ("USUSP", JobState.HELD), ("SSUSP", JobState.HELD),
    ("DONE", JobState.COMPLETED), ("EXIT", JobState.FAILED), ("UNKWN", JobState.UNKNOWN),
])
def test_lsf_every_state(tmp_path, stat, expected) -> None:
    runner = FakeRunner().add("bsub", 0, "Job <8812> is submitted to queue <normal>.\n")
    runner.add("bjobs", 0, f"8812 {stat}\n")
    provider = make(LSFProvider, runner, tmp_path, queue="normal")
    job_id = provider.submit("true", 1)
    assert job_id == "8812"
    assert provider.status([job_id])[0].state is expected
    (argv, stdin) = runner.calls[0]
    assert argv == ("bsub",) and stdin is not None and "#BSUB -q normal" in stdin  # bsub < script


def test_lsf_unknown_id_among_others(tmp_path) -> None:
    runner = FakeRunner().add("bsub", 0, "Job <1> is submitted to default queue <normal>.\n")
    runner.add("bsub", 0, "Job <2> is submitted to default queue <normal>.\n")
    provider = make(LSFProvider, runner, tmp_path)
    ids = [provider.submit("true", 1), provider.submit("true", 1)]
    runner.add("bjobs", 255, "1 RUN\n", "Job <2> is not found\n")
    assert [s.state for s in provider.status(ids)] == [JobState.RUNNING, JobState.PENDING]


@pytest.mark.parametrize(("rc", "out"), [(0, "Job <1> is being terminated\n"),
                                         (255, "Job <1>: Job has already finished\n"),
                                         (255, "Job <1>: No matching job found\n")])
def test_lsf_cancel(tmp_path, rc, out) -> None:
    runner = FakeRunner().add("bsub", 0, "Job <1> is submitted to queue <normal>.\n").add("bkill", rc, "", out)
    provider = make(LSFProvider, runner, tmp_path)
    job_id = provider.submit("true", 1)
    assert provider.cancel([job_id]) == [True]
    runner.add("bjobs", 0, "1 EXIT\n")
    assert provider.status([job_id])[0].state is JobState.CANCELLED


def test_lsf_submit_error(tmp_path) -> None:
    runner = FakeRunner().add("bsub", 255, "", "nope: No such queue. Job not submitted.\n")
    provider = make(LSFProvider, runner, tmp_path, queue="nope")
    with pytest.raises(SubmitError, match="queue option"):
        provider.submit("true", 1)


# -- HTCondor -------------------------------------------------------------------------------

CONDOR_SUBMIT = "Submitting job(s).\n1 job(s) submitted to cluster 3046.\n"


@pytest.mark.parametrize(("code", "expected"), [
    ("1", JobState.PENDING), ("2", JobState.RUNNING), ("3", JobState.CANCELLED), ("4", JobState.COMPLETED),
    ("5", JobState.HELD), ("6", JobState.RUNNING), ("7", JobState.HELD),
])
def test_condor_every_state(tmp_path, code, expected) -> None:
    runner = FakeRunner().add("condor_submit", 0, CONDOR_SUBMIT).add("condor_q", 0, f"3046.0 {code} undefined\n")
    provider = make(CondorProvider, runner, tmp_path)
    job_id = provider.submit("true", 1)
    assert job_id == "3046"
    assert provider.status([job_id])[0].state is expected


def test_condor_held_job_says_why(tmp_path) -> None:
    runner = FakeRunner().add("condor_submit", 0, CONDOR_SUBMIT)
    runner.add("condor_q", 0, '3046.0 5 "Error from slot1@node: Failed to execute script"\n')
    provider = make(CondorProvider, runner, tmp_path)
    status = provider.status([provider.submit("true", 1)])[0]
    assert status.state is JobState.HELD and "Failed to execute" in status.message


@pytest.mark.parametrize(("rc", "out"), [(0, "All jobs in cluster 3046 have been marked for removal\n"),
                                         (1, "Couldn't find/remove all jobs in cluster 3046\n")])
def test_condor_cancel(tmp_path, rc, out) -> None:
    runner = FakeRunner().add("condor_submit", 0, CONDOR_SUBMIT).add("condor_rm", rc, out)
    provider = make(CondorProvider, runner, tmp_path)
    assert provider.cancel([provider.submit("true", 1)]) == [True]


def test_condor_submit_error(tmp_path) -> None:
    runner = FakeRunner().add("condor_submit", 1, "Submitting job(s)\n",
                              "ERROR: Parse error in expression: \n\tRequirements = (OpSys ==\n")
    provider = make(CondorProvider, runner, tmp_path, requirements="(OpSys ==")
    with pytest.raises(SubmitError, match="requirements"):
        provider.submit("true", 1)


# -- Slurm and Grid Engine (fake; the real ones are in test_real_schedulers.py) -------------

def test_slurm_missing_right_after_submit_is_pending_then_completed(tmp_path, monkeypatch) -> None:
    runner = FakeRunner().add("sbatch", 0, "Submitted batch job 42\n").add("squeue", 0, "").add("squeue", 0, "")
    provider = make(SlurmProvider, runner, tmp_path)
    job_id = provider.submit("true", 1)
    assert provider.status([job_id])[0].state is JobState.PENDING
    provider.missing_grace = 0.0
    assert provider.status([job_id])[0].state is JobState.COMPLETED


def test_slurm_hopeless_pending_reason_names_the_option(tmp_path) -> None:
    runner = FakeRunner().add("sbatch", 0, "Submitted batch job 42\n").add("squeue", 0, "42|PENDING|BadConstraints\n")
    provider = make(SlurmProvider, runner, tmp_path, constraint="gpu")
    status = provider.status([provider.submit("true", 1)])[0]
    assert status.state is JobState.PENDING and "check constraint" in status.message


def test_slurm_completing_job_has_ended(tmp_path) -> None:
    # scancel by hand: squeue says COMPLETING (not CANCELLED) until Slurm has ended every process
    runner = FakeRunner().add("sbatch", 0, "Submitted batch job 42\n").add("squeue", 0, "42|COMPLETING|None\n")
    provider = make(SlurmProvider, runner, tmp_path)
    status = provider.status([provider.submit("true", 1)])[0]
    assert status.terminal and "the job ended" in status.message


def test_gridengine_states(tmp_path) -> None:
    table = ("job-ID  prior   name       user         state submit/start at     queue         slots ja-task-ID\n"
             "-----------------------------------------------------------------------------------------------\n"
             "      5 0.55500 blk        alice        r     11/26/2026 15:17:02 all.q@vm          1\n"
             "      6 0.55500 blk        alice        qw    11/26/2026 15:17:02                   1\n"
             "      7 0.55500 blk        alice        Eqw   11/26/2026 15:17:02                   1\n"
             "      8 0.55500 blk        alice        hqw   11/26/2026 15:17:02                   1\n"
             "      9 0.55500 blk        alice        dr    11/26/2026 15:17:02 all.q@vm          1\n")
    runner = FakeRunner()
    for i in range(5, 10):
        runner.add("qsub", 0, f"{i}\n")
    runner.add("qstat", 0, table)
    provider = make(GridEngineProvider, runner, tmp_path)
    ids = [provider.submit("true", 1) for _ in range(5)]
    assert [s.state for s in provider.status(ids)] == [JobState.RUNNING, JobState.PENDING, JobState.FAILED,
                                                       JobState.HELD, JobState.CANCELLED]


def test_command_that_cannot_run_becomes_a_submit_error(tmp_path) -> None:
    runner = FakeRunner().fail("sbatch", "sbatch is not on PATH; run the notebook where the scheduler's commands exist")
    provider = make(SlurmProvider, runner, tmp_path)
    with pytest.raises(SubmitError, match="not on PATH"):
        provider.submit("true", 1)
    assert pickle.loads(pickle.dumps(CommandFailed("x", "y"))).reason == "y"
