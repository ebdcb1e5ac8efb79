"""``tracelab sql`` takes SQL from an argument, ``-f FILE`` or stdin, treats a leading ``--``
comment as SQL, and refuses empty input in one line; the command path stays light (no pandas);
help texts are plain text."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tracelab.cli import cli

REPO_QUERY = "queries/tool_error_rates.sql"
REPO = Path(__file__).resolve().parents[1]


def _run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def _rows(res) -> list:
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_sql_from_argument_file_and_stdin(claude_wh, tmp_path):
    wh = str(claude_wh)
    q = "SELECT count(*) AS n FROM sessions"
    want = _rows(_run("sql", q, "-w", wh, "--json"))
    assert want[0]["n"] > 0
    f = tmp_path / "q.sql"
    f.write_text(f"-- how many sessions\n{q};\n")
    assert _rows(_run("sql", "-f", str(f), "-w", wh, "--json")) == want
    assert _rows(_run("sql", "--file", str(f), "-w", wh, "-f", "json")) == want  # -f FILE and -f FORMAT together
    assert _rows(_run("sql", "-w", wh, "--json", input=q)) == want  # piped, no argument
    assert _rows(_run("sql", "-", "-w", wh, "--json", input=q)) == want
    assert _rows(_run("sql", "-f", "-", "-w", wh, "--json", input=q)) == want


def test_a_file_named_like_a_format_is_read_with_file_and_f_format_never_depends_on_files(claude_wh, tmp_path, monkeypatch):
    """``-f csv`` is the output format whether or not a file ``csv`` exists; ``--file csv`` and
    ``-f ./csv`` read that file."""
    wh = str(claude_wh)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "csv").write_text("SELECT 7 AS from_the_file")
    as_format = _run("sql", "SELECT 1 AS x", "-w", wh, "-f", "csv")
    assert as_format.exit_code == 0 and as_format.stdout.splitlines() == ["x", "1"], as_format.output
    assert _rows(_run("sql", "--file", "csv", "-w", wh, "--json")) == [{"from_the_file": 7}]
    assert _rows(_run("sql", "-f", "./csv", "-w", wh, "--json")) == [{"from_the_file": 7}]
    assert _rows(_run("sql", "--file", "csv", "-f", "json", "-w", wh)) == [{"from_the_file": 7}]
    # -f csv is a format, so it is no SQL source: with none given the error says how to give one
    res = _run("sql", "-f", "csv", "-w", wh, input="")
    assert res.exit_code == 2 and "no SQL" in res.stderr


@pytest.mark.parametrize("sql", ["-- just a comment\nSELECT 42 AS x", "--comment\nSELECT 42 AS x", "-- a\n-- b\nSELECT 42 AS x;"])
def test_leading_comment_is_sql_not_an_option(claude_wh, sql):
    assert _rows(_run("sql", sql, "-w", str(claude_wh), "--json")) == [{"x": 42}]
    assert _rows(_run("sql", "-w", str(claude_wh), sql, "--json")) == [{"x": 42}]  # before or after the options


def test_a_pasted_query_file_runs_with_its_declared_defaults(claude_wh):
    """A queries/*.sql file pasted (or given with -f) runs with the defaults its header
    declares, -p overrides them, and the rows equal the named query's."""
    from tracelab.library import query

    wh = str(claude_wh)
    path = REPO / REPO_QUERY
    pasted = _rows(_run("sql", path.read_text(), "-w", wh, "--format", "json"))
    assert pasted == _rows(_run("sql", "-f", str(path), "-w", wh, "--format", "json"))
    assert len(pasted) == query(path.stem, warehouse=wh).height > 0
    by_agent = _rows(_run("sql", "-f", str(path), "-p", "agent=no-such-agent", "-w", wh, "--format", "json"))
    assert by_agent == []


def test_params_bind_plain_sql_and_unknown_ones_are_one_line(claude_wh):
    wh = str(claude_wh)
    assert _rows(_run("sql", "SELECT $x::INTEGER + 1 AS y", "-p", "x=41", "-w", wh, "--json")) == [{"y": 42}]
    res = _run("sql", "SELECT 1", "-p", "x=1", "-w", wh)
    assert res.exit_code == 2 and res.stderr.strip() == "tracelab: --param x: the SQL has no $x"
    res = _run("sql", "-f", str(REPO / REPO_QUERY), "-p", "bogus=1", "-w", wh)
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "bogus" in res.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["sql", ""], None, "no SQL: the argument is empty"),
        (["sql", "   \n\t"], None, "no SQL: the argument is empty"),
        (["sql"], "", "no SQL: stdin is empty"),
        (["sql", "-"], "  \n", "no SQL: stdin is empty"),
        (["sql", "-- only a comment"], None, "only comments"),
        (["sql", "select 1", "-f", "q.sql"], None, "not both"),
        (["sql", "-f", "/no/such/file.sql"], None, "cannot read SQL from /no/such/file.sql"),
        (["sql", "-f", "a.sql", "--file", "b.sql"], None, "the SQL file given twice: a.sql, b.sql"),
        (["sql", "select 1", "-f", "csv", "-f", "json"], None, "-f given two formats: csv, json"),
    ],
)
def test_bad_sql_input_is_one_line(claude_wh, args, stdin, message):
    res = _run(*args, "-w", str(claude_wh), input=stdin)
    assert res.exit_code == 2 and res.stderr.startswith("tracelab: ") and res.stderr.count("\n") == 1 and message in res.stderr, res.stderr
    assert "Traceback" not in res.output


def test_sql_command_imports_no_pandas_polars_or_altair(claude_wh):
    code = (
        "import sys\n"
        "from tracelab.__main__ import main\n"
        f"sys.argv = ['tracelab', 'sql', 'select count(*) from sessions', '-w', {str(claude_wh)!r}, '--json']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(sorted(m for m in ('pandas', 'polars', 'altair', 'ibis', 'tracelab.failures', 'tracelab.reports') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def _commands(group: click.Group, ctx: click.Context, prefix=()):
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        yield (*prefix, name)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, click.Context(cmd, parent=ctx), (*prefix, name))


def test_help_texts_are_plain_text():
    paths = [(), *_commands(cli, click.Context(cli))]
    for path in paths:
        res = _run(*path, "--help")
        assert res.exit_code == 0, path
        for mark in ("``", ":class:", ":func:", ":mod:", ":meth:"):
            assert mark not in res.output, (path, mark)
