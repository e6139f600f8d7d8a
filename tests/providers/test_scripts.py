"""Every provider's block script, checked for each option it accepts."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from parsl_nb.errors import ConfigError
from parsl_nb.launchers import (
    AprunLauncher,
    JsrunLauncher,
    MpiExecLauncher,
    MpiRunLauncher,
    SimpleLauncher,
    SrunLauncher,
)
from parsl_nb.providers.condor import CondorProvider
from parsl_nb.providers.gridengine import GridEngineProvider
from parsl_nb.providers.lsf import LSFProvider
from parsl_nb.providers.pbspro import PBSProProvider
from parsl_nb.providers.slurm import SlurmProvider
from parsl_nb.providers.torque import TorqueProvider
from tests.providers.fakes import FakeRunner

COMMON = {"scheduler_options": "#EXTRA line", "worker_init": "module load python", "walltime": "01:02:03"}


def script(provider, tasks_per_node: int = 2) -> str:
    return provider.render_script("ipengine --x", tasks_per_node, "blk", "/r/blk.sh", "/r/blk.out", "/r/blk.err")


def every_common_option(text: str, directives_here: bool = True) -> None:
    assert text.startswith("#!/bin/bash\n")
    for needle in ("#EXTRA line", "/r/blk.out", "/r/blk.err"):
        assert (needle in text) is directives_here, needle
    for needle in ("module load python", "ipengine --x", "blk",
                   "export PARSL_NB_SCRIPT_DIR=/r"):
        assert needle in text, needle
    assert "{{" not in text and "\n\n\n" not in text


SLURM_OPTIONS = [
    ({"partition": "debug"}, "#SBATCH --partition=debug"), ({"account": "proj7"}, "#SBATCH --account=proj7"),
    ({"qos": "high"}, "#SBATCH --qos=high"), ({"constraint": "knl"}, "#SBATCH --constraint=knl"),
    ({"clusters": "c2"}, "#SBATCH --clusters=c2"), ({"exclusive": True}, "#SBATCH --exclusive"),
    ({"cores_per_node": 8}, "#SBATCH --cpus-per-task=4"), ({"cores_per_node": 8}, "export PARSL_CORES=4"),
    ({"mem_per_node": 16}, "#SBATCH --mem=16g"), ({"mem_per_node": 16}, "export PARSL_MEMORY_GB=16"),
    ({"gpus_per_node": 2}, "#SBATCH --gpus-per-node=2"), ({"gres": "gpu:a100:1"}, "#SBATCH --gres=gpu:a100:1"),
    ({"nodes_per_block": 3}, "#SBATCH --nodes=3"), ({}, "#SBATCH --ntasks-per-node=2"),
    ({}, "#SBATCH --time=01:02:03"), ({}, "#SBATCH --job-name=blk"),
]


@pytest.mark.parametrize(("options", "line"), SLURM_OPTIONS)
def test_slurm_script_option(options, line) -> None:
    text = script(SlurmProvider(**COMMON, **options, launcher=SimpleLauncher()))
    every_common_option(text)
    assert line in text.splitlines()


def test_slurm_options_left_out_when_unset() -> None:
    text = script(SlurmProvider(exclusive=False, launcher=SimpleLauncher()))
    for flag in ("--partition", "--account", "--qos", "--constraint", "--exclusive", "--mem", "--gpus", "--cpus"):
        assert flag not in text


def test_slurm_directives_come_before_any_command() -> None:
    lines = script(SlurmProvider(**COMMON, partition="p")).splitlines()
    first_command = next(i for i, line in enumerate(lines) if line and not line.startswith("#"))
    assert max(i for i, line in enumerate(lines) if line.startswith("#SBATCH")) < first_command


@pytest.mark.parametrize(("options", "line"), [
    ({"queue": "all.q"}, "#$ -q all.q"), ({}, "#$ -l h_rt=01:02:03"), ({}, "#$ -N blk"), ({}, "#$ -S /bin/bash"),
])
def test_gridengine_script_option(options, line) -> None:
    text = script(GridEngineProvider(**COMMON, **options))
    every_common_option(text)
    assert line in text.splitlines()


@pytest.mark.parametrize(("options", "line"), [
    ({"queue": "debug"}, "#PBS -q debug"), ({"account": "A1"}, "#PBS -A A1"),
    ({"nodes_per_block": 2, "cpus_per_node": 32}, "#PBS -l select=2:ncpus=32"),
    ({"cpus_per_node": 4, "select_options": "mem=64gb:ngpus=1"}, "#PBS -l select=1:ncpus=4:mem=64gb:ngpus=1"),
    ({}, "#PBS -l walltime=01:02:03"),
])
def test_pbspro_script_option(options, line) -> None:
    text = script(PBSProProvider(**COMMON, **options))
    every_common_option(text)
    assert line in text.splitlines()


@pytest.mark.parametrize(("options", "line"), [
    ({"queue": "batch"}, "#PBS -q batch"), ({"account": "A1"}, "#PBS -A A1"),
    ({"nodes_per_block": 2}, "#PBS -l nodes=2:ppn=2"), ({}, "#PBS -l walltime=01:02:03"),
])
def test_torque_script_option(options, line) -> None:
    text = script(TorqueProvider(**COMMON, **options))
    every_common_option(text)
    assert line in text.splitlines()


@pytest.mark.parametrize(("options", "line"), [
    ({"queue": "batch"}, "#BSUB -q batch"), ({"project": "ABC"}, "#BSUB -P ABC"),
    ({"nodes_per_block": 4}, "#BSUB -nnodes 4"),
    ({"request_by_nodes": False, "cores_per_block": 8, "cores_per_node": 4}, "#BSUB -n 8"),
    ({"request_by_nodes": False, "cores_per_block": 8, "cores_per_node": 4}, '#BSUB -R "span[ptile=4]"'),
    ({}, "#BSUB -W 63"), ({}, "#BSUB -J blk"),
])
def test_lsf_script_option(options, line) -> None:
    text = script(LSFProvider(**COMMON, **options))
    every_common_option(text)
    assert line in text.splitlines()


@pytest.mark.parametrize(("options", "line"), [
    ({"cores_per_slot": 4}, "request_cpus = 4"), ({"mem_per_slot": 2}, "request_memory = 2048"),
    ({"project": "p1"}, '+ProjectName = "p1"'),
    ({"requirements": "OpSysMajorVer == 9"}, "requirements = OpSysMajorVer == 9"),
    ({"transfer_input_files": ["a.txt", "b.txt"]}, "transfer_input_files = a.txt, b.txt"),
    ({"environment": {"A": "1"}}, "environment = \"A='1'\""), ({}, "executable = /r/blk.sh"),
    ({}, "#EXTRA line"), ({}, "periodic_remove = (JobStatus == 2) && (time() - EnteredCurrentStatus > 3723)"),
])
def test_condor_submit_description_option(options, line) -> None:
    provider = CondorProvider(**COMMON, **options)
    every_common_option(script(provider), directives_here=False)  # in the submit description
    assert line in provider.render_submit("/r/blk.sh").splitlines()


@pytest.mark.parametrize(("launcher", "expected"), [
    (SrunLauncher(overrides="--cpu-bind=none"),
     'srun --ntasks=6 --ntasks-per-node=2 --nodes=3 --cpu-bind=none bash "$CMD_FILE"'),
    (MpiExecLauncher(), 'mpiexec -n 6 -ppn 2 bash "$CMD_FILE"'),
    (MpiRunLauncher(), 'mpirun -np 6 /bin/bash "$CMD_FILE"'),
    (AprunLauncher(), 'aprun -n 6 -N 2 /bin/bash "$CMD_FILE"'),
    (JsrunLauncher(overrides="-g 1"), 'jsrun -n 6 -r 2 -a 1 -g 1 /bin/bash "$CMD_FILE"'),
])
def test_launcher_lines(launcher, expected) -> None:
    text = launcher("ipengine --x", 2, 3)
    assert expected in text.splitlines()
    assert "ipengine --x" in text and "export PARSL_NB_TASKS_PER_NODE=2" in text


def test_script_written_to_script_dir_owner_only(tmp_path: Path) -> None:
    runner = FakeRunner().add("sbatch", 0, "Submitted batch job 9\n")
    provider = SlurmProvider(runner=runner, partition="debug")
    provider.script_dir = str(tmp_path)
    provider.submit("echo hi", 1, job_name="nb")
    (path,) = tmp_path.glob("nb.*.slurm.sh")
    assert "#SBATCH --partition=debug" in path.read_text()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert runner.calls[0][0] == ("sbatch", str(path))


@pytest.mark.parametrize("kwargs", [{"walltime": "10 minutes"}, {"walltime": "00:61:00"},
                                    {"min_blocks": 3, "max_blocks": 1}, {"nodes_per_block": 0}, {"parallelism": 2}])
def test_bad_options_say_what_to_change(kwargs) -> None:
    with pytest.raises((ConfigError, ValueError)) as info:
        SlurmProvider(**kwargs)
    assert any(k in str(info.value) for k in kwargs)
