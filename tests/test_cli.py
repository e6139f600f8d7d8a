"""The README's first command: ``parsl-nb demo`` runs a real workflow and prints a table."""

import re
import subprocess
import sys

import pytest


def _run_demo(tmp_path, *extra):
    # The README's form: ``python -m parsl_nb`` (the ``parsl-nb`` script runs the same main()).
    return subprocess.run([sys.executable, "-m", "parsl_nb", "demo", "--run-dir", str(tmp_path / "runinfo"), *extra],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_demo_on_threads_prints_summary_and_right_answer(tmp_path):
    proc = _run_demo(tmp_path, "--executor", "threads", "--numbers", "1000", "--chunks", "4")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # 168 primes below 1000: the fan-out and the reduce really ran
    assert "primes up to 1000: 168" in out
    for app in ("generate", "count_primes", "total", "report", "read_back"):
        assert app in out
    assert re.search(r"^count_primes\s+4\s+exec_done 4", out, re.M), out
    assert (tmp_path / "runinfo" / "000" / "parsl.log").exists()


def test_version_flag():
    from parsl_nb.cli import main

    assert main(["--version"]) == 0


@pytest.mark.parametrize("argv", [["demo", "--executor", "nope"], ["demo", "--chunks"]])
def test_bad_arguments_give_usage_not_traceback(argv, capsys):
    from parsl_nb.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err
