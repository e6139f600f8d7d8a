"""Bad input that only engines meet: values that do not serialise, resources they cannot reserve.

One engine kernel for the module (starting one costs seconds); each case
checks the exception class, that the message names the value and the fix,
and that a task running beside it on the same engines is untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

import parsl_nb as parsl
from parsl_nb.errors import SerializationError, UnsupportedFeatureError

pytestmark = pytest.mark.engines


@pytest.fixture(autouse=True)
def _no_kernel_leaks() -> Iterator[None]:
    """Overrides the suite's per-test clear: this module shares one engine kernel."""
    yield


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> Iterator[None]:
    from parsl_nb.executors import EngineExecutor

    parsl.clear()
    dfk = parsl.load(parsl.Config(executors=[EngineExecutor(engines_per_node=2)],
                                  run_dir=str(tmp_path_factory.mktemp("bad-engines"))))
    yield
    dfk.cleanup()
    parsl.clear()


@parsl.python_app
def echo(x=None, **kw):
    return "ran"


@parsl.python_app
def slow(seconds):
    import time
    time.sleep(seconds)
    return "bystander done"


@parsl.python_app
def make_lock():
    import threading
    return threading.Lock()


@parsl.python_app
def raise_unpicklable():
    import threading

    class Bad(Exception):
        def __init__(self):
            super().__init__("bad")
            self.lock = threading.Lock()

    raise Bad()


@parsl.python_app
def ask_cores(parsl_resource_specification=None):
    return 1


def _gen():
    yield 1


CASES = {
    "unpicklable-argument": (lambda: echo(threading.Lock()), SerializationError, ("argument", "lock", "pickles")),
    "unpicklable-keyword": (lambda: echo(data=threading.Lock()), SerializationError, ("'data'", "pickles")),
    "generator-argument": (lambda: echo(_gen()), SerializationError, ("generator", "pickles")),
    "unpicklable-result": (make_lock, SerializationError, ("result", "lock", "pickles")),
    "unpicklable-exception": (raise_unpicklable, SerializationError, ("exception", "pickles")),
    "resource-spec-on-engines": (lambda: ask_cores(parsl_resource_specification={"cores": 2}),
                                 UnsupportedFeatureError, ("{'cores': 2}", "engines_per_node")),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_on_engines(engines, name):
    make, exc_type, says = CASES[name]
    beside = slow(0.2)
    try:
        fut = make()
    except BaseException as e:  # noqa: B036
        err = e
    else:
        err = fut.exception(timeout=30)
    assert isinstance(err, exc_type), f"{type(err).__name__}: {err}"
    for part in says:
        assert part in str(err), f"{part!r} not in: {err}"
    assert beside.result(timeout=30) == "bystander done"
    assert echo(1).result(timeout=30) == "ran"


@pytest.mark.parametrize(("option", "value", "words"), [
    ("heartbeat_ms", 0, "heartbeat_ms=0"),
    ("prefetch", 0, "prefetch=0"),
    ("lost_after", -1, "lost_after=-1"),
    ("kernel_timeout", 0, "kernel_timeout=0"),
    ("max_block_failures", 0, "max_block_failures=0"),
    ("strategy_period", 0, "strategy_period=0"),
    ("label", "", "label=''"),
])
def test_engine_executor_refuses_nonsense_tuning(option, value, words):
    """A tuning value that could only hang or spin the executor is refused when it is made."""
    from parsl_nb.errors import ConfigError
    from parsl_nb.executors import EngineExecutor

    with pytest.raises(ConfigError) as info:
        EngineExecutor(**{option: value})
    msg = str(info.value)
    assert words in msg and ("default" in msg or "such as" in msg), msg
