"""Parsing the %%parsl_app line and building apps from cell bodies, without a kernel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import parsl_nb as parsl
from parsl_nb import Config, ThreadPoolExecutor
from parsl_nb.errors import AppBadFormatting
from parsl_nb.jupyter.cellapp import CellSyntaxError, MagicUsageError, build_app, format_command, parse_line


@pytest.mark.parametrize(("line", "name", "params", "kind"), [
    ("square(x, y=2)", "square", "x, y=2", "python"),
    ('--bash count(path, stdout="n (1).txt")', "count", 'path, stdout="n (1).txt"', "bash"),
    ("--join fan(n) --cache", "fan", "n", "join"),
    ("hello", "hello", "", "python"),
    ("f(x, *rest, key=(1, 2), **kw)", "f", "x, *rest, key=(1, 2), **kw", "python"),
])
def test_parse_line(line: str, name: str, params: str, kind: str) -> None:
    spec = parse_line(line)
    assert (spec.name, spec.params, spec.kind) == (name, params, kind)


def test_parse_options() -> None:
    spec = parse_line("--executors a,b --cache --ignore-for-cache seed f(x, seed=0)")
    assert spec.executors == ["a", "b"] and spec.cache and spec.ignore_for_cache == ["seed"]
    assert parse_line("f(x)").executors == "all"


@pytest.mark.parametrize(("line", "says"), [
    ("", "give the app a name"),
    ("--bogus f(x)", "unrecognized arguments"),
    ("f(x", "closing parenthesis"),
    ("f(x y)", "not a valid signature"),
    ("--bash --join f(x)", "not allowed with"),
    ("--join --executors e f(x)", "drop --executors"),
    ("f(x) g", "unexpected 'g'"),
])
def test_bad_lines_give_usage(line: str, says: str) -> None:
    with pytest.raises(MagicUsageError) as info:
        parse_line(line)
    assert says in str(info.value) and "usage:" in str(info.value)


@pytest.fixture
def dfk(tmp_path: Path):
    k = parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=str(tmp_path / "runinfo")))
    yield k
    parsl.clear()


def test_build_python_app_into_namespace(dfk) -> None:
    ns: dict[str, Any] = {"__name__": "__main__", "OFFSET": 10}
    app = build_app(parse_line("add(x, y=1)"), "z = x + y\nreturn z + OFFSET\n", ns)
    assert ns["add"] is app and app(1).result() == 12
    assert app.func.__module__ == "__main__"


def test_strings_in_the_body_keep_their_content(dfk) -> None:
    ns: dict[str, Any] = {"__name__": "__main__"}
    app = build_app(parse_line("text()"), 'return """a\nb"""\n', ns)
    assert app().result() == "a\nb"


def test_traceback_line_numbers_are_cell_lines(dfk) -> None:
    ns: dict[str, Any] = {"__name__": "__main__"}
    app = build_app(parse_line("boom(x)"), "y = 1\n\nreturn x / 0\n", ns)
    exc = app(1).exception()
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert tb.tb_lineno == 4  # line 1 is the magic line, the body starts at line 2


def test_syntax_error_is_located_in_the_cell() -> None:
    with pytest.raises(CellSyntaxError) as info:
        build_app(parse_line("f(x)"), "a = 1\nb = = 2\n", {}, location="Cell In[3]")
    err = info.value
    assert err.lineno == 3 and "b = = 2" in err.text
    rendered = "\n".join(err._render_traceback_())
    assert "Cell In[3], line 3" in rendered and "SyntaxError" in rendered


def test_changed_body_changes_the_function_hash() -> None:
    a = build_app(parse_line("--cache f(x)"), "return x + 1\n", {"__name__": "__main__"})
    b = build_app(parse_line("--cache f(x)"), "return x + 2\n", {"__name__": "__main__"})
    c = build_app(parse_line("--cache f(x)"), "return x + 1\n", {"__name__": "__main__"})
    assert a.func_hash != b.func_hash and a.func_hash == c.func_hash


def test_bash_template_and_varkw(dfk, tmp_path: Path) -> None:
    ns: dict[str, Any] = {"__name__": "__main__"}
    app = build_app(parse_line("--bash show(name, **opts)"), "echo {name} {mode}\n", ns)
    assert app.func("x", mode="fast") == "echo x fast"


def test_format_command_names_the_missing_argument() -> None:
    with pytest.raises(AppBadFormatting, match=r"uses \{missing\} but the arguments are a"):
        format_command("app", "echo {missing}", {"a": 1})
    assert format_command("app", "awk '{{print $1}}' {f}", {"f": "x"}) == "awk '{print $1}' x"
