"""Apps, futures, files and failures, as in the Parsl user guide's examples."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future

import pytest

import parsl_nb as parsl
from parsl_nb.app.app import bash_app, join_app, python_app
from parsl_nb.data_provider.files import File
from parsl_nb.dataflow.errors import DependencyError, JoinError
from parsl_nb.dataflow.states import States
from tests.conftest import wait_until


@python_app
def double(x):
    return x * 2


@python_app
def bad_divide(x):
    return 6 / x


@python_app
def add(a, b):
    return a + b


def test_app_future_basics(threads):
    doubled = double(10)
    assert doubled.result() == 20
    assert doubled.done()
    assert isinstance(doubled.tid, int)
    assert doubled.task_status() == "exec_done"
    assert doubled.outputs == []
    assert parsl.dfk() is threads


def test_exception_reaches_result(threads):
    with pytest.raises(ZeroDivisionError):
        bad_divide(0).result()


def test_dependency_error_names_the_failed_task_parsl_style(threads):
    failed = bad_divide(0)
    dependant = add(failed, 1)
    with pytest.raises(DependencyError) as info:
        dependant.result()
    err = info.value
    assert err.task_id == dependant.tid
    assert err.dependent_exceptions_tids[0][1] == f"task {failed.tid}"
    assert isinstance(err.dependent_exceptions_tids[0][0], ZeroDivisionError)
    assert isinstance(err.__cause__, ZeroDivisionError)
    assert dependant.task_status() == "dep_fail"


def test_dependency_on_a_plain_future_names_it(threads):
    plain: Future[int] = Future()
    plain.set_exception(ValueError("plain failure"))
    with pytest.raises(DependencyError) as info:
        add(plain, 1).result()
    assert repr(plain) in str(info.value)
    assert info.value.dependent_exceptions_tids[0][1] == repr(plain)


def test_dependency_on_a_failed_file_names_the_producer(threads, tmp_path):
    @python_app
    def write(outputs=()):
        raise OSError("disk full")

    @python_app
    def read(inputs=()):
        return open(inputs[0]).read()

    made = write(outputs=[File(str(tmp_path / "x.txt"))])
    with pytest.raises(DependencyError) as info:
        read(inputs=[made.outputs[0]]).result()
    assert info.value.dependent_exceptions_tids[0][1] == f"DataFuture from task {made.tid}"
    assert str(made.tid) in str(info.value)


@join_app
def fan_out(n):
    return [double(i) for i in range(n)]


@join_app
def join_failing():
    return bad_divide(0)


def test_join_app(threads):
    assert fan_out(3).result() == [0, 2, 4]


def test_join_error_is_parsl_shaped(threads):
    fut = join_failing()
    with pytest.raises(JoinError) as info:
        fut.result()
    assert info.value.dependent_exceptions_tids[0][1].startswith("task ")
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_outputs_and_data_futures(threads, tmp_path):
    @bash_app
    def echo(message, outputs=()):
        return 'echo {} &> {}'.format(message, outputs[0])  # noqa: UP032 -- as the Parsl docs write it

    target = str(tmp_path / "hello1.txt")
    hello = echo("Hello World!", outputs=[File(target)])
    (out,) = hello.outputs
    assert out.tid == hello.tid
    assert out.file_obj.filepath == target and out.filepath == target
    with open(out.result().filepath) as f:
        assert f.read() == "Hello World!\n"


def test_file_attributes():
    f = File("file:///tmp/data/a.txt")
    assert (f.url, f.scheme, f.netloc, f.path, f.filename) == ("file:///tmp/data/a.txt", "file", "", "/tmp/data/a.txt",
                                                               "a.txt")
    assert f.filepath == "/tmp/data/a.txt" and f.local_path is None
    rel = File("rel/x.txt")
    assert (rel.scheme, rel.path, rel.filepath, str(rel), os.fspath(rel)) == ("file", "rel/x.txt", "rel/x.txt",
                                                                               "rel/x.txt", "rel/x.txt")
    remote = File("https://example.org/data/x.csv")
    assert (remote.scheme, remote.netloc, remote.path, remote.filename) == ("https", "example.org", "/data/x.csv",
                                                                            "x.csv")
    with pytest.raises(ValueError):
        remote.filepath  # noqa: B018 -- a remote file has no local path until staged in


def test_executors_by_label(run_dir):
    import threading

    from parsl_nb.config import Config
    from parsl_nb.executors import ThreadPoolExecutor

    @python_app(executors=["b"])
    def where():
        return threading.current_thread().name

    parsl.load(Config(executors=[ThreadPoolExecutor(label="a"), ThreadPoolExecutor(label="b")], run_dir=run_dir))
    try:
        fut = where()
        assert "-b_" in fut.result()
        assert fut.task_record["executor"] == "b"
    finally:
        parsl.clear()


def test_load_dfk_clear(run_dir):
    from parsl_nb.config import Config
    from parsl_nb.errors import ConfigurationError, NoDataFlowKernelError

    dfk = parsl.load(Config(run_dir=run_dir))
    assert parsl.dfk() is dfk
    with pytest.raises(ConfigurationError):
        parsl.load(Config(run_dir=run_dir))
    parsl.clear()
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()
    with pytest.raises(NoDataFlowKernelError):
        double(1)


def test_task_state_counts_as_parsls_tests_read_them(threads):
    counts = parsl.dfk().task_state_counts
    assert counts[States.failed] == 0 and counts[States.exec_done] == 0
    with pytest.raises(ZeroDivisionError):
        bad_divide(0).result()
    assert parsl.dfk().task_state_counts[States.failed] == 1
    assert counts[States.failed] == 1  # the same object stays current
    assert double(2).result() == 4
    assert counts[States.exec_done] == 1


def test_task_count_is_the_number_of_tasks_submitted(threads):
    assert threads.task_count == 0
    futures = [double(i) for i in range(5)]
    assert threads.task_count == 5
    [f.result() for f in futures]
    assert threads.task_count == 5  # finished tasks still count, as in Parsl


def test_task_state_counts_follow_a_task_through_its_states(threads):
    counts = threads.task_state_counts
    gate = threading.Event()

    @python_app
    def wait_for_gate():
        gate.wait(10)
        return 1

    running = wait_for_gate()
    waiting = add(running, 1)
    wait_until(lambda: counts[States.running] == 1)
    assert counts[States.pending] == 1  # `waiting` waits for `running`
    gate.set()
    assert waiting.result(timeout=10) == 2
    assert counts[States.running] == 0 and counts[States.pending] == 0 and counts[States.exec_done] == 2
    assert dict(counts) == {state: (2 if state is States.exec_done else 0) for state in States}
    assert sum(counts.values()) == len(threads.tasks)
    assert threads.task_counts() == {"exec_done": 2}
