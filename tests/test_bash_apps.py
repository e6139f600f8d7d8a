"""Bash apps: command lines, exit codes, std streams, output files, walltime."""

from __future__ import annotations

import os

import psutil
import pytest

from parsl_nb import AUTO_LOGNAME, File, bash_app, python_app
from parsl_nb.errors import (
    AppTimeout,
    BadStdStreamFile,
    BashAppNoReturn,
    BashExitFailure,
    MissingOutputs,
)

from .conftest import wait_until


@bash_app
def echo(message, stdout=None, stderr=None):
    return f"echo {message}; echo to-err-{message} >&2"


def test_bash_app_writes_stdout_and_stderr(dfk, tmp_path):
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    fut = echo("hello", stdout=str(out), stderr=str(err))
    assert fut.result(timeout=10) == 0
    assert fut.task_status() == "exec_done"
    assert out.read_text() == "hello\n"
    assert "to-err-hello" in err.read_text()
    assert fut.stdout == str(out) and fut.stderr == str(err)


def test_std_stream_modes_and_file_objects(dfk, tmp_path):
    target = tmp_path / "log.txt"
    target.write_text("old\n")
    echo("appended", stdout=(str(target), "a")).result(timeout=10)
    assert target.read_text() == "old\nappended\n"
    echo("fresh", stdout=(str(target), "w")).result(timeout=10)
    assert target.read_text() == "fresh\n"
    echo("as-file", stdout=File(str(tmp_path / "f.txt"))).result(timeout=10)
    assert (tmp_path / "f.txt").read_text() == "as-file\n"


def test_bad_std_stream_is_refused_at_call(dfk):
    with pytest.raises(BadStdStreamFile, match="mode"):
        echo("x", stdout=("out.txt", "r"))
    with pytest.raises(BadStdStreamFile):
        echo("x", stdout=42)


def test_auto_logname_goes_under_the_run_dir(dfk):
    fut = echo("auto", stdout=AUTO_LOGNAME, stderr=AUTO_LOGNAME)
    fut.result(timeout=10)
    assert fut.stdout.startswith(os.path.join(dfk.run_dir, "task_logs"))
    assert fut.stdout.endswith(".stdout") and fut.stderr.endswith(".stderr")
    assert f"task_{fut.tid:04d}_echo" in os.path.basename(fut.stdout)
    with open(fut.stdout) as f:
        assert f.read() == "auto\n"
    with open(fut.stderr) as f:
        assert "to-err-auto" in f.read()


def test_nonzero_exit_raises_bash_exit_failure(dfk):
    @bash_app
    def fail(code):
        return f"exit {code}"

    fut = fail(3)
    with pytest.raises(BashExitFailure) as info:
        fut.result(timeout=10)
    assert info.value.exitcode == 3
    assert info.value.app_name == "fail"
    assert "3" in str(info.value)
    assert fut.task_status() == "failed"


def test_body_must_return_a_string(dfk):
    @bash_app
    def forgot():
        pass

    with pytest.raises(BashAppNoReturn, match="NoneType"):
        forgot().result(timeout=10)


def test_outputs_become_data_futures(dfk, tmp_path):
    @bash_app
    def write(text, outputs=()):
        return f"echo {text} > {outputs[0]}"

    @python_app
    def read(inputs=()):
        with open(inputs[0]) as f:
            return f.read().strip()

    target = File(str(tmp_path / "written.txt"))
    fut = write("content", outputs=[target])
    assert len(fut.outputs) == 1
    data = fut.outputs[0]
    assert data.filepath == target.filepath and data.tid == fut.tid
    assert read(inputs=[data]).result(timeout=10) == "content"
    assert data.result() == target
    assert os.fspath(data) == target.filepath


def test_missing_output_raises_missing_outputs(dfk, tmp_path):
    @bash_app
    def lazy(outputs=()):
        return "true"

    missing = File(str(tmp_path / "never.txt"))
    fut = lazy(outputs=[missing])
    with pytest.raises(MissingOutputs) as info:
        fut.result(timeout=10)
    assert [f.filepath for f in info.value.outputs] == [missing.filepath]
    with pytest.raises(MissingOutputs):
        fut.outputs[0].result(timeout=10)


def test_walltime_kills_the_whole_process_group(dfk, tmp_path):
    pidfile = tmp_path / "child.pid"

    @bash_app
    def stubborn(pidfile):
        # a child that outlives a plain kill of the shell, and a shell that ignores SIGTERM
        return f"trap '' TERM; sleep 60 & echo $! > {pidfile}; wait"

    fut = stubborn(str(pidfile), walltime=0.5)
    with pytest.raises(AppTimeout):
        fut.result(timeout=20)
    assert fut.task_status() == "failed"
    child = int(pidfile.read_text())

    def gone():
        try:
            return psutil.Process(child).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait_until(gone, timeout=5)


def test_walltime_not_reached(dfk):
    @bash_app
    def quick():
        return "sleep 0.01"

    assert quick(walltime=10).result(timeout=10) == 0


def test_body_sees_the_auto_logname_path_and_memo_ignores_it(dfk):
    @bash_app(cache=True)
    def where(stdout=AUTO_LOGNAME):
        return f"echo {stdout}"

    first = where()
    first.result(timeout=10)
    with open(first.stdout) as f:
        assert f.read().strip() == first.stdout
    again = where()
    again.result(timeout=10)
    assert again.task_status() == "memo_done"


def test_std_autopath_from_config(make_config, tmp_path):
    import parsl_nb as parsl

    def autopath(record, kind):
        return str(tmp_path / f"custom_{record.tid}.{kind}")

    parsl.load(make_config(std_autopath=autopath))
    fut = echo("custom", stdout=AUTO_LOGNAME)
    fut.result(timeout=10)
    assert fut.stdout == str(tmp_path / f"custom_{fut.tid}.stdout")
    assert (tmp_path / f"custom_{fut.tid}.stdout").read_text() == "custom\n"


def test_unopenable_std_stream_fails_the_task(dfk, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    fut = echo("x", stdout=str(blocker / "out.txt"))
    with pytest.raises(BadStdStreamFile, match="writable"):
        fut.result(timeout=10)
    assert fut.task_status() == "failed"
