"""The public surface: names, docstrings, picklable errors, cheap import, Parsl scripts."""

from __future__ import annotations

import inspect
import os
import pickle
import subprocess
import sys

import pytest

import parsl_nb
from parsl_nb import errors
from parsl_nb.data.files import File

HERE = os.path.dirname(os.path.abspath(__file__))


def _engines_missing() -> bool:
    import importlib.util

    return importlib.util.find_spec("parsl_nb.executors.engines") is None


_ENGINE_NAMES = {"HighThroughputExecutor", "EngineExecutor"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(
            _engines_missing(), reason="parsl_nb.executors.engines is still being written", strict=True))
        if n in _ENGINE_NAMES else n
        for n in parsl_nb.__all__
    ],
)
def test_public_name_imports_and_is_documented(name):
    obj = getattr(parsl_nb, name)
    if name == "AUTO_LOGNAME":
        assert repr(obj) == "AUTO_LOGNAME"
        return
    assert inspect.getdoc(obj), f"parsl_nb.{name} has no docstring"


def test_errors_all_lists_every_exception_class():
    classes = {n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, BaseException)
               and v.__module__ == errors.__name__}
    assert classes <= set(errors.__all__)


def _examples():
    zero = ZeroDivisionError("division by zero")
    root = errors.DependencyError([(zero, 1)], 3)
    return {
        "AppBadFormatting": errors.AppBadFormatting("bad format"),
        "AppException": errors.AppException("app broke"),
        "AppTimeout": errors.AppTimeout("app f exceeded its walltime of 1.0 s"),
        "BadCheckpoint": errors.BadCheckpoint("checkpoint/tasks.pkl is truncated"),
        "BadStdStreamFile": errors.BadStdStreamFile("out.txt", "cannot open"),
        "BashAppNoReturn": errors.BashAppNoReturn("returned None"),
        "BashExitFailure": errors.BashExitFailure("cmd", 3),
        "ConfigError": errors.ConfigError("retries must be >= 0"),
        "ConfigurationError": errors.ConfigurationError("same class"),
        "DataFlowException": errors.DataFlowException("kernel broke"),
        "DependencyError": errors.DependencyError([(root, 3)], 7),
        "ExecutorError": errors.ExecutorError("threads", "shut down"),
        "InternalConsistencyError": errors.InternalConsistencyError("task in two states"),
        "InvalidResourceSpecification": errors.InvalidResourceSpecification({"cores"}, "use engines", "threads"),
        "JoinError": errors.JoinError([(zero, 4), (KeyError("k"), 5)], 6),
        "MissingOutputs": errors.MissingOutputs("app f", [File("a.txt"), File("b.txt")]),
        "NoDataFlowKernelError": errors.NoDataFlowKernelError("load first"),
        "OptionalModuleMissing": errors.OptionalModuleMissing(["globus_sdk"], "Globus staging needs it"),
        "ParslError": errors.ParslError("base"),
        "PropagatedException": errors.PropagatedException([(zero, "task 2")], 5),
        "SerializationError": errors.SerializationError("argument 'x'", "cannot pickle lock"),
        "StagingError": errors.StagingError("http://x/y", "404"),
        "UnsupportedFeatureError": errors.UnsupportedFeatureError("gpus", "threads", "use engines"),
        "WorkerLost": errors.WorkerLost("engine 3 (block 0)", "heartbeat missed"),
    }


def test_every_public_exception_has_an_example():
    assert set(_examples()) == set(errors.__all__)


def _public_state(exc):
    return {k: v for k, v in vars(exc).items() if not k.startswith("_")}


def _same(a, b):
    if isinstance(a, BaseException):
        return type(a) is type(b) and str(a) == str(b) and a.args.__class__ is b.args.__class__
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("name", errors.__all__)
def test_exception_survives_pickle(name):
    exc = _examples()[name]
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc)
    assert str(back) == str(exc)
    state = _public_state(exc)
    assert state.keys() == _public_state(back).keys()
    for key, value in state.items():
        assert _same(value, getattr(back, key)), key
    assert _same(exc.__cause__, back.__cause__)


def test_dependency_error_message_after_pickle():
    zero = ZeroDivisionError("division by zero")
    err = errors.DependencyError([(errors.DependencyError([(zero, 1)], 3), 3)], 7)
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == ("Dependency failure for task 7: task 7 <- task 3 <- task 1 failed: "
                         "ZeroDivisionError: division by zero")
    assert isinstance(back.__cause__, ZeroDivisionError)


def test_import_is_cheap():
    code = (
        "import sys, parsl_nb\n"
        "from parsl_nb.executors import ThreadPoolExecutor\n"
        "heavy = [m for m in ('matplotlib', 'ipywidgets', 'ipyparallel', 'anywidget', 'zmq') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""


def test_plain_parsl_script_runs_unchanged(tmp_path):
    script = os.path.join(HERE, "data", "parsl_script.py")
    out = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines == [
        "double: 42",
        "sum of squares: 285",
        "file: hello parsl",
        "join: [0, 2, 4, 6]",
        "exit code: 3",
        "dependency failure: DependencyError",
        "states: exec_done dep_fail",
        "done",
    ]
    assert os.path.exists(tmp_path / "runinfo" / "000" / "parsl.log")


@pytest.mark.parametrize(
    "module, names",
    [
        ("parsl_nb.app.app", ["python_app", "bash_app", "join_app"]),
        ("parsl_nb.app.errors", ["BashExitFailure", "AppTimeout", "MissingOutputs", "BashAppNoReturn"]),
        ("parsl_nb.app.futures", ["DataFuture"]),
        ("parsl_nb.dataflow.errors", ["DependencyError", "JoinError"]),
        ("parsl_nb.dataflow.futures", ["AppFuture"]),
        ("parsl_nb.dataflow.dflow", ["DataFlowKernel", "DataFlowKernelLoader"]),
        ("parsl_nb.dataflow.states", ["States"]),
        ("parsl_nb.data_provider.files", ["File"]),
        ("parsl_nb.executors.threads", ["ThreadPoolExecutor"]),
        ("parsl_nb.config", ["Config"]),
        ("parsl_nb.dataflow.memoization", ["id_for_memo"]),
        ("parsl_nb.configs.local_threads", ["config"]),
    ],
)
def test_parsl_module_paths(module, names):
    import importlib

    mod = importlib.import_module(module)
    for name in names:
        obj = getattr(mod, name)
        if name in parsl_nb.__all__:
            assert obj is getattr(parsl_nb, name)


def test_ready_made_local_threads_config_loads_twice(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from parsl_nb.configs.local_threads import config

    for _ in range(2):
        with parsl_nb.load(config):
            assert parsl_nb.python_app(abs)(-3).result(timeout=10) == 3
