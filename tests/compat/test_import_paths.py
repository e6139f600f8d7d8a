"""Every module path a Parsl script commonly imports works under ``parsl_nb``."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import parsl_nb as parsl

PATHS = [
    ("app.app", ["python_app", "bash_app", "join_app"]),
    ("app.bash", ["BashApp"]),
    ("app.python", ["PythonApp"]),
    ("app.errors", ["BashExitFailure", "AppTimeout", "AppException", "BadStdStreamFile", "MissingOutputs"]),
    ("app.futures", ["DataFuture"]),
    ("config", ["Config"]),
    ("configs.local_threads", ["config"]),
    ("data_provider.files", ["File"]),
    ("dataflow.dflow", ["DataFlowKernel", "DataFlowKernelLoader"]),
    ("dataflow.errors", ["DependencyError", "JoinError", "PropagatedException", "DataFlowException",
                         "BadCheckpoint"]),
    ("dataflow.futures", ["AppFuture"]),
    ("dataflow.memoization", ["id_for_memo", "BasicMemoizer"]),
    ("dataflow.states", ["States", "FINAL_STATES"]),
    ("errors", ["ParslError", "ConfigurationError", "NoDataFlowKernelError", "InternalConsistencyError",
                "OptionalModuleMissing"]),
    ("executors", ["ThreadPoolExecutor", "HighThroughputExecutor"]),
    ("executors.threads", ["ThreadPoolExecutor"]),
    ("executors.errors", ["ExecutorError", "UnsupportedFeatureError", "InvalidResourceSpecification"]),
    ("executors.high_throughput.executor", ["HighThroughputExecutor"]),
    ("providers", ["LocalProvider", "SlurmProvider", "PBSProProvider", "CondorProvider"]),
    ("providers.slurm.slurm", ["SlurmProvider"]),
    ("providers.local.local", ["LocalProvider"]),
    ("providers.pbspro.pbspro", ["PBSProProvider"]),
    ("providers.grid_engine.grid_engine", ["GridEngineProvider"]),
    ("providers.lsf.lsf", ["LSFProvider"]),
    ("providers.condor.condor", ["CondorProvider"]),
    ("providers.torque.torque", ["TorqueProvider"]),
    ("providers.errors", ["SubmitException"]),
    ("launchers", ["SrunLauncher", "SingleNodeLauncher", "SimpleLauncher", "MpiExecLauncher", "WrappedLauncher"]),
    ("jobs.states", ["JobState", "JobStatus"]),
    ("addresses", ["address_by_hostname", "address_by_interface", "address_by_route", "get_all_addresses"]),
    ("log_utils", ["set_stream_logger", "set_file_logger"]),
    ("utils", ["get_all_checkpoints", "get_last_checkpoint"]),
    ("version", ["VERSION"]),
    ("monitoring", ["MonitoringHub"]),
]


@pytest.mark.parametrize("path, names", PATHS, ids=[p for p, _ in PATHS])
def test_parsl_module_path_resolves(path, names):
    mod = importlib.import_module(f"parsl_nb.{path}")
    for name in names:
        assert getattr(mod, name) is not None, f"parsl_nb.{path}.{name}"


PROVIDER_PATHS = [
    ("slurm.slurm", "SlurmProvider"), ("local.local", "LocalProvider"), ("pbspro.pbspro", "PBSProProvider"),
    ("grid_engine.grid_engine", "GridEngineProvider"), ("lsf.lsf", "LSFProvider"),
    ("condor.condor", "CondorProvider"), ("torque.torque", "TorqueProvider"),
]


@pytest.mark.parametrize("path, name", PROVIDER_PATHS, ids=[p for p, _ in PROVIDER_PATHS])
def test_parsl_provider_path_in_a_fresh_interpreter_is_the_same_class(path, name):
    # a script's first import may be the Parsl path itself, in every spelling Python offers
    code = (
        f"from parsl_nb.providers.{path} import {name} as by_from\n"
        f"import parsl_nb.providers.{path} as by_alias\n"
        f"import parsl_nb.providers.{path}\n"
        "import parsl_nb.providers\n"
        f"assert by_from is by_alias.{name} is parsl_nb.providers.{path}.{name} is parsl_nb.providers.{name}\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_htex_module_path_is_the_engine_executor():
    from parsl_nb.executors import HighThroughputExecutor
    from parsl_nb.executors.high_throughput.executor import HighThroughputExecutor as by_path

    assert by_path is HighThroughputExecutor


def test_provider_submit_exception_is_what_providers_raise():
    from parsl_nb.providers import SubmitError
    from parsl_nb.providers.errors import SubmitException

    assert SubmitException is SubmitError
    with pytest.raises(SubmitException):
        raise SubmitError("block-0", "sbatch said no", stderr="invalid partition", returncode=1)


def test_thread_pool_raises_parsls_invalid_resource_specification(run_dir):
    from parsl_nb.errors import UnsupportedFeatureError
    from parsl_nb.executors.errors import InvalidResourceSpecification

    @parsl.python_app
    def heavy(parsl_resource_specification=None):
        return 1

    parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(label="pool")], run_dir=run_dir))
    try:
        fut = heavy(parsl_resource_specification={"cores": 2, "memory": 1000})
        with pytest.raises(InvalidResourceSpecification) as info:
            fut.result(timeout=10)
    finally:
        parsl.clear()
    err = info.value
    assert isinstance(err, UnsupportedFeatureError)  # what parsl_nb code already catches
    assert err.invalid_keys == {"cores", "memory"}
    assert err.executor == "pool"
    assert "{'cores': 2, 'memory': 1000}" in str(err) and "send the app to an engine executor" in str(err)


def test_top_level_parsl_names():
    assert parsl.VERSION == parsl.__version__
    from parsl_nb.monitoring import MonitoringHub

    assert parsl.MonitoringHub is MonitoringHub
    from parsl_nb.executors import HighThroughputExecutor

    assert parsl.HighThroughputExecutor is HighThroughputExecutor


def test_htex_local_config_is_parsl_shaped():
    from parsl_nb.configs.htex_local import config
    from parsl_nb.executors import HighThroughputExecutor

    (executor,) = config.executors
    assert isinstance(executor, HighThroughputExecutor)
    assert executor.label == "htex_local"


def test_error_classes_keep_parsl_hierarchy():
    from parsl_nb.app.errors import AppException, BashAppNoReturn
    from parsl_nb.dataflow.errors import DataFlowException, DependencyError, JoinError, PropagatedException
    from parsl_nb.errors import ParslError

    assert issubclass(DependencyError, PropagatedException)
    assert issubclass(JoinError, PropagatedException)
    assert not issubclass(JoinError, DependencyError)
    assert issubclass(PropagatedException, DataFlowException) and issubclass(DataFlowException, ParslError)
    assert issubclass(AppException, ParslError)
    # Parsl raises ValueError when a bash app's body returns no string
    assert issubclass(BashAppNoReturn, ValueError)


def test_wrapped_launcher_prefixes_the_engine_command():
    from parsl_nb.launchers import WrappedLauncher

    assert WrappedLauncher("apptainer exec img.sif")("ipengine", 1, 1) == "apptainer exec img.sif ipengine"
    several = WrappedLauncher("time")("ipengine", 2, 1)
    assert "time ipengine &" in several and "seq 0 $((2 - 1))" in several


def test_addresses():
    from parsl_nb.addresses import address_by_hostname, address_by_interface, get_all_addresses

    assert address_by_interface("lo") == "127.0.0.1"
    assert "127.0.0.1" in get_all_addresses()
    assert address_by_hostname() in get_all_addresses()
    with pytest.raises(ValueError, match="no IPv4 address"):
        address_by_interface("no-such-interface0")


def test_set_stream_logger_accepts_parsls_logger_name():
    import logging

    from parsl_nb.log_utils import set_stream_logger

    handler = set_stream_logger("parsl.dataflow", level=logging.INFO)
    try:
        assert handler in logging.getLogger("parsl_nb.dataflow").handlers
    finally:
        logging.getLogger("parsl_nb.dataflow").removeHandler(handler)
        logging.getLogger("parsl_nb.dataflow").setLevel(logging.NOTSET)
