"""Bash apps, retries and retry handlers, memoization and checkpoints, as the Parsl docs describe them."""

from __future__ import annotations

import os
import sys

import pytest

import parsl_nb as parsl
from parsl_nb.app.app import bash_app, python_app
from parsl_nb.app.errors import BashExitFailure
from parsl_nb.config import Config
from parsl_nb.data_provider.files import File
from parsl_nb.dataflow.memoization import BasicMemoizer, id_for_memo
from parsl_nb.executors import ThreadPoolExecutor
from parsl_nb.utils import get_all_checkpoints


@bash_app
def exit_with(code):
    return f"exit {code}"


@bash_app
def echo(name, stdout=parsl.AUTO_LOGNAME, label=None):
    return f'echo "Hello, {name}!"'


def test_bash_exit_code_is_on_the_exception(threads):
    with pytest.raises(BashExitFailure) as info:
        exit_with(3).result()
    assert info.value.exitcode == 3
    assert str(info.value) == "bash_app exit_with failed with unix exit code 3"
    assert exit_with(0).result() == 0


def test_bash_body_must_return_a_string(threads):
    @bash_app
    def nothing():
        return None

    with pytest.raises(ValueError):
        nothing().result()


def test_auto_logname_holds_stdout_and_appends_the_label(threads):
    future = echo("user")
    future.result()
    with open(future.stdout) as f:
        assert f.read() == "Hello, user!\n"
    assert os.path.basename(future.stdout) == f"task_{future.tid:04d}_echo.stdout"
    labelled = echo("again", label="greeting")
    labelled.result()
    assert os.path.basename(labelled.stdout) == f"task_{labelled.tid:04d}_echo_greeting.stdout"
    assert os.path.dirname(labelled.stdout).startswith(os.path.join(threads.run_dir, "task_logs"))


def test_retry_handler_from_the_docs(run_dir, tmp_path):
    def example_retry_handler(exception, task_record):
        if isinstance(exception, BashExitFailure) and exception.exitcode == 9:
            return 100
        return 1

    @bash_app
    def count_and_fail(path, code):
        return f"echo x >> {path}; exit {code}"

    parsl.load(Config(executors=[ThreadPoolExecutor()], retries=2, retry_handler=example_retry_handler,
                      run_dir=run_dir))
    try:
        hopeless, transient = tmp_path / "nine", tmp_path / "one"
        with pytest.raises(BashExitFailure):
            count_and_fail(str(hopeless), 9).result()
        with pytest.raises(BashExitFailure):
            count_and_fail(str(transient), 1).result()
        assert hopeless.read_text().count("x") == 1
        assert transient.read_text().count("x") == 3
    finally:
        parsl.clear()


calls: list[object] = []


@python_app(cache=True)
def slow_double(x):
    calls.append(x)
    return x * 2


def test_checkpoint_with_basic_memoizer_and_resume(run_dir):
    calls.clear()
    parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=run_dir,
                      memoizer=BasicMemoizer(checkpoint_mode="task_exit")))
    try:
        assert [slow_double(i).result() for i in range(3)] == [0, 2, 4]
    finally:
        parsl.clear()
    parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=run_dir,
                      checkpoint_files=get_all_checkpoints(run_dir)))
    try:
        again = [slow_double(i) for i in range(3)]
        assert [f.result() for f in again] == [0, 2, 4]
        assert [f.task_status() for f in again] == ["memo_done"] * 3
        assert calls == [0, 1, 2]
    finally:
        parsl.clear()


def test_checkpoint_mode_set_on_the_config_object(run_dir):
    # the Parsl docs configure checkpoints by setting attributes of a loaded-from-module config
    config = Config(executors=[ThreadPoolExecutor()], run_dir=run_dir)
    config.checkpoint_mode = "task_exit"
    parsl.load(config)
    try:
        slow_double(21).result()
    finally:
        parsl.clear()
    assert len(get_all_checkpoints(run_dir)) == 1


def test_memoizer_turns_caching_off(run_dir):
    calls.clear()
    parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=run_dir, memoizer=BasicMemoizer(memoize=False)))
    try:
        slow_double(5).result()
        slow_double(5).result()
        assert calls == [5, 5]
    finally:
        parsl.clear()


def test_memoizer_and_direct_options_conflict():
    from parsl_nb.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="one place"):
        Config(memoizer=BasicMemoizer(checkpoint_mode="task_exit"), checkpoint_mode="manual")


class Point:
    def __init__(self, x):
        self.x = x


@id_for_memo.register(Point)
def _point_id(p, output_ref=False):
    return id_for_memo(p.x, output_ref=output_ref)


class Exploding:
    pass


@id_for_memo.register(Exploding)
def _explode(obj, output_ref=False):
    raise RuntimeError("this id_for_memo is broken")


def test_id_for_memo_registration(threads):
    seen = []

    @python_app(cache=True)
    def use(p):
        seen.append(p.x)
        return p.x

    assert [use(Point(1)).result(), use(Point(1)).result(), use(Point(2)).result()] == [1, 1, 2]
    assert seen == [1, 2]


class Unmemoizable:
    """No id_for_memo is registered for it, as in Parsl's test_memoize_bad_id_for_memo."""


@python_app(cache=True)
def noop(x, label=None, inputs=()):
    return "ran"


def test_an_unregistered_argument_type_fails_the_task_not_the_call(threads):
    fut = noop(Unmemoizable())  # as in Parsl: the call returns a future; the task fails
    with pytest.raises(ValueError) as info:
        fut.result(timeout=10)
    msg = str(info.value)
    assert "positional argument 0 ('x')" in msg and "Unmemoizable" in msg
    assert "@id_for_memo.register(Unmemoizable)" in msg
    assert "pass it as x=... and list it in ignore_for_cache=['x']" in msg
    assert fut.task_status() == "failed"
    assert noop(1).result(timeout=10) == "ran"  # other tasks go on, cached as before
    assert noop(1).task_status() == "memo_done"


def test_an_unregistered_keyword_or_nested_value_is_named(threads):
    fut = noop(1, label=[1, Unmemoizable()])
    with pytest.raises(ValueError) as info:
        fut.result(timeout=10)
    msg = str(info.value)
    assert "keyword argument 'label' (a list) holds a value that is of type" in msg
    assert "Unmemoizable" in msg and "ignore_for_cache=['label']" in msg


def test_ignore_for_cache_lets_an_unregistered_type_through(threads):
    @python_app(cache=True, ignore_for_cache=["handle"])
    def use(x, handle=None):
        return x

    assert use(3, handle=Unmemoizable()).result(timeout=10) == 3
    again = use(3, handle=Unmemoizable())
    assert again.result(timeout=10) == 3 and again.task_status() == "memo_done"


def test_an_unregistered_type_after_a_dependency_fails_too(threads):
    fut = noop(Unmemoizable(), inputs=[noop(1)])
    with pytest.raises(ValueError, match="Unmemoizable"):
        fut.result(timeout=10)


def test_without_cache_any_argument_type_runs(threads):
    @python_app
    def plain(x):
        return "ran"

    assert plain(Unmemoizable()).result(timeout=10) == "ran"


def test_app_cache_off_ignores_unregistered_types(run_dir):
    parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=run_dir, app_cache=False))
    try:
        assert noop(Unmemoizable()).result(timeout=10) == "ran"
    finally:
        parsl.clear()


def test_a_failing_id_for_memo_fails_the_task_with_its_error(threads):
    @python_app(cache=True)
    def take(obj):
        return "ran"

    fut = take(Exploding())
    with pytest.raises(RuntimeError, match="this id_for_memo is broken") as info:
        fut.result(timeout=10)
    if sys.version_info >= (3, 11):  # notes exist from 3.11 on
        assert "id_for_memo for positional argument 0 ('obj') of task" in info.value.__notes__[0]
    assert fut.task_status() == "failed"
    assert take("fine").result(timeout=10) == "ran"


@pytest.mark.parametrize("value", ["s", 1, 2.5, True, None, b"raw", [1, "a"], (1, 2), {"k": [1]}, {1, 2},
                                   frozenset({3}), File("data.csv")], ids=repr)
def test_supported_types_are_served_from_the_cache(threads, value):
    @python_app(cache=True)
    def echo_back(x):
        return "ran"

    echo_back(value).result(timeout=10)
    again = echo_back(value)
    assert again.result(timeout=10) == "ran" and again.task_status() == "memo_done"


def _helper_a(x):
    return x


def _helper_b(x):
    return x


def test_a_function_argument_is_keyed_by_the_function(threads):
    @python_app(cache=True)
    def apply(f, x):
        return f(x)

    assert apply(_helper_a, 1).result(timeout=10) == 1
    assert apply(_helper_a, 1).task_status() == "memo_done"
    other = apply(_helper_b, 1)
    assert other.result(timeout=10) == 1 and other.task_status() == "exec_done"
