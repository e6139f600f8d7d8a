"""Bash apps, retries and retry handlers, memoization and checkpoints, as the Parsl docs describe them."""

from __future__ import annotations

import os

import pytest

import parsl_nb as parsl
from parsl_nb.app.app import bash_app, python_app
from parsl_nb.app.errors import BashExitFailure
from parsl_nb.config import Config
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


def test_a_failing_id_for_memo_does_not_strand_the_task(threads):
    @python_app(cache=True)
    def take(obj):
        return "ran"

    fut = take(Exploding())
    assert fut.result(timeout=10) == "ran"
