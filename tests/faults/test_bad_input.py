"""The bad-input catalogue: what a hurried user types, and what they are told.

Each case checks the exception class, that the message shows the offending
value, and that it says what to do instead; and that a task running beside
the mistake is untouched (``bystander``). Engine-only cases (serialisation)
are in ``test_bad_input_engines.py``; a provider option the real Slurm
rejects is in ``test_faults_slurm.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import parsl_nb as parsl
from parsl_nb import Config, File, bash_app, join_app, python_app
from parsl_nb.errors import (
    BadStdStreamFile,
    BashAppNoReturn,
    ConfigError,
    NoDataFlowKernelError,
    StagingError,
    UnsupportedFeatureError,
)
from parsl_nb.executors import EngineExecutor, ThreadPoolExecutor
from parsl_nb.jupyter.cellapp import MagicUsageError, parse_line
from parsl_nb.providers import LocalProvider
from parsl_nb.providers.gridengine import GridEngineProvider
from parsl_nb.providers.slurm import SlurmProvider


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[], Any]  # raises, or returns a future that fails
    exc: type[BaseException] | tuple[type[BaseException], ...]
    says: tuple[str, ...]  # the value, and the fix, as they appear in the message


@python_app
def ok(x=1, outputs=(), walltime=None):
    return x


@python_app
def bystander_app(seconds):
    import time
    time.sleep(seconds)
    return "bystander done"


@bash_app
def bash_returns_int():
    return 42


@bash_app
def bash_returns_none():
    pass


@bash_app
def bash_returns_list():
    return ["echo", "hi"]


@join_app
def join_returns_int():
    return 5


@join_app
def join_returns_mixed():
    return [ok(1), 3]


@python_app
def returns_int():
    return 3


def _gen():
    yield 1


async def _coro():
    return 1


def _raising_handler(exc, record):
    raise ValueError("handler bug")


def _flaky():
    raise RuntimeError("first failure")


def _config(**kw):
    return lambda: parsl.DataFlowKernel(Config(**kw))


def _call(app, *args, **kw):
    return lambda: app(*args, **kw)


CASES = [
    # decorators
    Case("decorate-int", lambda: python_app(42), TypeError, ("got int: 42", "decorate a def")),
    Case("decorate-str", lambda: python_app("square"), TypeError, ("'square'", "decorate a def")),
    Case("decorate-generator", lambda: python_app(_gen), TypeError, ("'_gen'", "return a list instead")),
    Case("bash-decorate-generator", lambda: bash_app(_gen), TypeError, ("'_gen'", "return a list instead")),
    Case("decorate-async", lambda: join_app(_coro), TypeError, ("'_coro'", "make it a plain def")),
    Case("executors-empty-list", lambda: python_app(len, executors=[]), TypeError,
         ("executors=[]", "executors=['threads']")),
    Case("executors-not-labels", lambda: python_app(len, executors=[1]), TypeError,
         ("executors=[1]", "executors=['threads']")),
    Case("unknown-executor-label", _call(python_app(len, executors=["gpu"]), "x"), ConfigError,
         ("'gpu'", "add that executor to the Config")),
    # call options
    Case("outputs-a-string", _call(ok, outputs="a.txt"), TypeError, ("'a.txt'", "outputs=['a.txt']")),
    Case("outputs-not-files", _call(ok, outputs=["a.txt"]), TypeError, ("'a.txt'", "outputs=[File('a.txt')]")),
    Case("inputs-a-string", _call(ok, inputs="a.txt"), TypeError, ("'a.txt'", "inputs=['a.txt']")),
    Case("walltime-zero", _call(ok, walltime=0), ValueError, ("walltime=0", "walltime=60")),
    Case("walltime-negative", _call(ok, walltime=-5), ValueError, ("walltime=-5", "walltime=60")),
    Case("walltime-string", _call(ok, walltime="10"), ValueError, ("walltime='10'", "walltime=60")),
    Case("stdout-int", _call(ok, stdout=123), BadStdStreamFile, ("123", "must be a path")),
    Case("stdout-read-mode", _call(ok, stdout=("f.txt", "r")), BadStdStreamFile, ("'r'", "one of ('w'")),
    Case("resource-spec-string", _call(ok, parsl_resource_specification="cores=2"), TypeError,
         ("'cores=2'", "{'cores': 2}")),
    Case("resource-spec-on-threads", _call(ok, parsl_resource_specification={"cores": 2}),
         UnsupportedFeatureError, ("{'cores': 2}", "send the app to an engine executor")),
    # what apps return
    Case("bash-returns-int", _call(bash_returns_int), BashAppNoReturn, ("int: 42", "as a str")),
    Case("bash-returns-none", _call(bash_returns_none), BashAppNoReturn, ("NoneType: None", "as a str")),
    Case("bash-returns-list", _call(bash_returns_list), BashAppNoReturn, ("['echo', 'hi']", "as a str")),
    Case("join-returns-int", _call(join_returns_int), TypeError, ("int: 5", "return their futures")),
    Case("join-returns-mixed-list", _call(join_returns_mixed), TypeError, (", 3]", "return their futures")),
    Case("future-index-on-int", lambda: returns_int()[0], TypeError, ("int 3", "index only futures")),
    Case("future-attr-typo", lambda: returns_int().real_part, AttributeError, ("'real_part'", "check the name")),
    # files
    Case("file-unknown-scheme", _call(ok, inputs=[File("gopher://host/data.csv")]), StagingError,
         ("gopher://host/data.csv", "storage_access=[")),
    Case("file-unknown-scheme-out", _call(ok, outputs=[File("gopher://host/out.csv")]), StagingError,
         ("gopher://host/out.csv", "storage_access=[")),
    Case("file-int", lambda: File(123), TypeError, ("int: 123", "path or URL string")),
    Case("file-bad-checksum", lambda: File("a.csv", checksum="md6:00"), ValueError,
         ("'md6:00'", "'sha256:<hex digest>'")),
    Case("file-remote-filepath", lambda: File("https://example.org/a.csv").filepath, ValueError,
         ("https://example.org/a.csv", "pass it in inputs=")),
    # Config
    Case("config-negative-retries", _config(retries=-1), ConfigError, ("retries=-1", "retries=0")),
    Case("config-fractional-retries", _config(retries=1.5), ConfigError, ("retries=1.5", "whole number")),
    Case("config-string-retries", _config(retries="3"), ConfigError, ("retries='3'", "whole number")),
    Case("config-retry-handler-not-callable", _config(retry_handler="skip"), ConfigError,
         ("'skip'", "callable(exception, task_record)")),
    Case("config-unknown-strategy", _config(strategy="fast"), ConfigError, ("strategy='fast'", "'simple'")),
    Case("config-unknown-checkpoint-mode", _config(checkpoint_mode="always"), ConfigError,
         ("'always'", "'task_exit'")),
    Case("config-unknown-exit-mode", _config(exit_mode="quit"), ConfigError, ("'quit'", "'cleanup'")),
    Case("config-periodic-without-period", _config(checkpoint_mode="periodic"), ConfigError,
         ("checkpoint_mode='periodic'", "checkpoint_period='00:10:00'")),
    Case("config-period-in-words", _config(checkpoint_mode="periodic", checkpoint_period="ten minutes"),
         ConfigError, ("'ten minutes'", "'00:10:00'")),
    Case("config-missing-checkpoint-files", _config(checkpoint_files=["/no/such/checkpoint"]), ConfigError,
         ("/no/such/checkpoint", "get_all_checkpoints()")),
    Case("config-zero-strategy-period", _config(strategy_period=0), ConfigError,
         ("strategy_period=0", "positive number")),
    Case("config-negative-idletime", _config(max_idletime=-5), ConfigError, ("max_idletime=-5", "positive number")),
    Case("config-no-executors", _config(executors=[]), ConfigError, ("executors=[...]", "ThreadPoolExecutor()")),
    Case("config-executor-names", _config(executors=["threads"]), ConfigError,
         ("'threads'", "executor objects such as ThreadPoolExecutor()")),
    Case("config-duplicate-labels", _config(executors=[ThreadPoolExecutor(label="a"), ThreadPoolExecutor(label="a")]),
         ConfigError, ("'a'", "unique label")),
    Case("config-reserved-label", _config(executors=[ThreadPoolExecutor(label="_parsl_mine")]), ConfigError,
         ("'_parsl_mine'", "choose another label")),
    Case("config-run-dir-int", _config(run_dir=123), ConfigError, ("run_dir=123", "run_dir='runinfo'")),
    Case("kernel-given-a-string", lambda: parsl.DataFlowKernel("threads"), ConfigError, ("str", "parsl_nb.Config")),
    Case("load-twice", lambda: parsl.load(Config()), ConfigError, ("already loaded", "parsl_nb.clear()")),
    # executors and providers
    Case("threads-zero", lambda: ThreadPoolExecutor(max_threads=0), ConfigError, ("max_threads=0", "int >= 1")),
    Case("engines-zero-per-node", lambda: EngineExecutor(engines_per_node=0), ConfigError,
         ("engines_per_node=0", "int >= 1")),
    Case("engines-max-below-min", lambda: EngineExecutor(min_blocks=2, max_blocks=1), ConfigError,
         ("min_blocks=2", "max_blocks=1")),
    Case("engines-unknown-strategy", lambda: EngineExecutor(strategy="fast"), ConfigError,
         ("strategy='fast'", "'simple' or 'none'")),
    Case("local-max-below-min", lambda: LocalProvider(min_blocks=3, max_blocks=1), ConfigError,
         ("min_blocks=3", "max_blocks=1")),
    Case("local-init-above-max", lambda: LocalProvider(init_blocks=5, max_blocks=1), ConfigError,
         ("init_blocks=5", "between 0 and max_blocks")),
    Case("local-two-nodes", lambda: LocalProvider(nodes_per_block=2), ConfigError,
         ("got 2", "use a batch provider")),
    Case("slurm-zero-nodes", lambda: SlurmProvider(nodes_per_block=0), ConfigError, ("got 0", "nodes_per_block")),
    Case("slurm-parallelism-above-one", lambda: SlurmProvider(parallelism=2), ConfigError,
         ("got 2", "between 0 and 1")),
    Case("slurm-walltime-words", lambda: SlurmProvider(walltime="ten minutes"), ValueError,
         ("'ten minutes'", "walltime='00:30:00'")),
    Case("slurm-walltime-zero", lambda: SlurmProvider(walltime="00:00:00"), ConfigError,
         ("walltime='00:00:00'", "walltime='00:30:00'")),
    Case("slurm-walltime-seconds-over-59", lambda: SlurmProvider(walltime="00:10:75"), ValueError,
         ("'00:10:75'", "below 60")),
    Case("slurm-zero-cmd-timeout", lambda: SlurmProvider(cmd_timeout=0), ConfigError,
         ("cmd_timeout=0", "cmd_timeout=30")),
    Case("gridengine-walltime-zero", lambda: GridEngineProvider(walltime="0:00:00"), ConfigError,
         ("walltime='0:00:00'", "walltime='00:30:00'")),
    # %%parsl_app lines
    Case("cellmagic-unclosed", lambda: parse_line("square(x"), MagicUsageError,
         ("square(x", "usage: %%parsl_app")),
    Case("cellmagic-no-name", lambda: parse_line("--bash"), MagicUsageError,
         ("give the app a name", "%%parsl_app square(x)")),
    Case("cellmagic-unknown-option", lambda: parse_line("--gpu square(x)"), MagicUsageError,
         ("--gpu", "usage: %%parsl_app")),
    Case("cellmagic-bad-name", lambda: parse_line("1st(x)"), MagicUsageError, ("'1st(x)'", "usage: %%parsl_app")),
    Case("cellmagic-bad-signature", lambda: parse_line("square(x,,)"), MagicUsageError,
         ("square(x,,)", "square(x, y=2)")),
    Case("cellmagic-stray-word", lambda: parse_line("square(x) now"), MagicUsageError,
         ("'now'", "usage: %%parsl_app")),
    Case("cellmagic-join-with-executors", lambda: parse_line("--join --executors engines f()"), MagicUsageError,
         ("--executors", "drop --executors")),
]


def _raised(make: Callable[[], Any]) -> BaseException:
    try:
        out = make()
    except BaseException as e:  # noqa: B036 - what the user sees, whatever it is
        return e
    if hasattr(out, "exception"):
        exc = out.exception(timeout=15)
        if exc is not None:
            return exc
    pytest.fail(f"no error: got {out!r}", pytrace=False)


@pytest.fixture
def bystander(run_dir):
    parsl.load(Config(executors=[ThreadPoolExecutor(label="threads", max_threads=4)], run_dir=run_dir))
    fut = bystander_app(0.1)
    yield fut
    assert fut.result(timeout=15) == "bystander done"  # the mistake did not touch it
    assert ok(7).result(timeout=15) == 7  # and the kernel takes new work


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, bystander):
    err = _raised(case.make)
    assert isinstance(err, case.exc), f"{type(err).__name__}: {err}"
    message = str(err)
    for part in case.says:
        assert part in message, f"{part!r} not in the message: {message}"


def test_retry_handler_that_raises_names_itself_and_the_task(bystander, run_dir):
    parsl.clear()
    parsl.load(Config(executors=[ThreadPoolExecutor(label="threads")], retries=2, retry_handler=_raising_handler,
                      run_dir=run_dir))
    fut = python_app(_flaky)()
    err = fut.exception(timeout=15)
    assert isinstance(err, ValueError) and str(err) == "handler bug"
    note = "\n".join(getattr(err, "__notes__", []))
    assert "retry_handler=_raising_handler" in note and f"task {fut.tid} (_flaky)" in note
    assert "RuntimeError: first failure" in note and "fix the handler" in note
    assert isinstance(err.__cause__, RuntimeError)
    bystander_app(0).result(timeout=10)


def test_app_called_before_load():
    parsl.clear()
    with pytest.raises(NoDataFlowKernelError, match=r"call parsl_nb.load\(\)"):
        ok(1)


def test_every_case_is_distinct():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
