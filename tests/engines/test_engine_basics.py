"""Results, notebook-style functions, numpy, errors and files on real ipyparallel engines."""

from __future__ import annotations

import os
import stat
import threading

import numpy as np
import pytest

import parsl_nb as parsl
from parsl_nb.errors import InvalidResourceSpecification, SerializationError, UnsupportedFeatureError

pytestmark = pytest.mark.engines


@parsl.python_app
def add(a, b):
    return a + b


@parsl.python_app
def where():
    import os
    return os.getpid()


@parsl.python_app
def double_array(x):
    x *= 2  # received arrays are writable
    return x


@parsl.python_app
def fail(msg):
    raise KeyError(msg)


@parsl.bash_app
def echo(word, stdout=None):
    return f"echo {word}"


def test_results_closures_lambdas_and_dependencies(engines_dfk):
    engines_dfk()
    k = 10

    @parsl.python_app
    def closure(x):
        return x + k

    lam = parsl.python_app(lambda x: x * 3)
    assert add(1, 2).result(timeout=30) == 3
    assert closure(add(1, 2)).result(timeout=10) == 13
    assert lam(4).result(timeout=10) == 12
    assert [f.result(timeout=20) for f in [add(i, i) for i in range(200)]] == [2 * i for i in range(200)]
    assert where().result(timeout=10) != os.getpid()


def test_numpy_arrays_travel_and_come_back(engines_dfk):
    engines_dfk()
    a = np.arange(1_000_000, dtype=np.float64)
    out = double_array(a).result(timeout=30)
    assert isinstance(out, np.ndarray) and out[-1] == 2 * a[-1]
    assert a[-1] == 999_999  # the caller's array is untouched


def test_bash_app_runs_on_an_engine(engines_dfk, tmp_path):
    engines_dfk()
    out = tmp_path / "echo.out"
    assert echo("hello", stdout=str(out)).result(timeout=30) == 0
    assert out.read_text().strip() == "hello"


def test_exception_keeps_type_and_remote_traceback(engines_dfk):
    engines_dfk()
    with pytest.raises(KeyError) as info:
        fail("missing").result(timeout=30)
    notes = "".join(getattr(info.value, "__notes__", []))
    assert "Remote traceback" in notes and "in fail" in notes


def test_unpicklable_argument_fails_that_task_only(engines_dfk):
    engines_dfk()

    @parsl.python_app
    def use(data, lock):
        return data

    with pytest.raises(SerializationError, match="argument 'lock'"):
        use(1, threading.Lock()).result(timeout=30)
    assert add(2, 2).result(timeout=10) == 4


def test_unpicklable_result_is_a_serialization_error(engines_dfk):
    engines_dfk()

    @parsl.python_app
    def make_lock():
        import threading
        return threading.Lock()

    with pytest.raises(SerializationError, match="result"):
        make_lock().result(timeout=30)
    assert add(1, 1).result(timeout=10) == 2


def test_resource_specification_is_refused_clearly(engines_dfk):
    engines_dfk()

    @parsl.python_app
    def spec(parsl_resource_specification=None):
        return 1

    with pytest.raises(UnsupportedFeatureError, match="engines") as info:  # Parsl's class is a subclass
        spec(parsl_resource_specification={"cores": 2}).result(timeout=10)
    assert isinstance(info.value, InvalidResourceSpecification) and info.value.invalid_keys == {"cores"}


def test_connection_files_are_private(engines_dfk):
    dfk, ex = engines_dfk()
    add(1, 1).result(timeout=30)
    sec = ex.controller.security_dir
    names = os.listdir(sec)
    assert any(n.endswith("-engine.json") for n in names)
    for name in names:
        assert stat.S_IMODE(os.stat(os.path.join(sec, name)).st_mode) == 0o600, name
    assert stat.S_IMODE(os.stat(ex.controller.profile_dir).st_mode) == 0o700
    config = os.path.join(ex.controller.profile_dir, "ipcontroller_config.py")
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    assert ex.controller.root.startswith(dfk.run_dir)


def test_htex_names_run_unchanged(tmp_path):
    from parsl_nb.executors import HighThroughputExecutor
    from parsl_nb.providers import LocalProvider

    htex = HighThroughputExecutor(label="htex", max_workers_per_node=1, worker_debug=True,
                                  cores_per_worker=1, provider=LocalProvider(init_blocks=1, max_blocks=1))
    assert htex.engines_per_node == 1
    with parsl.load(parsl.Config(executors=[htex], run_dir=str(tmp_path / "runinfo"))):
        assert add(3, 4).result(timeout=30) == 7
    with pytest.raises(TypeError, match="max_wokers_per_node"):
        HighThroughputExecutor(max_wokers_per_node=2)


def test_walltime_interrupts_a_blocking_call_on_an_engine(engines_dfk):
    from parsl_nb.errors import AppTimeout

    engines_dfk(engines_per_node=1)

    @parsl.python_app
    def nap(walltime=None):
        import time
        time.sleep(30)

    with pytest.raises(AppTimeout):
        nap(walltime=0.5).result(timeout=20)
    assert add(1, 1).result(timeout=10) == 2
