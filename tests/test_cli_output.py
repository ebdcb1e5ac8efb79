"""Result output of `tracelab sql` / `tracelab query run`: the table is for reading (real width,
whole header names, rounded floats, a visible NULL, a row-count footer, a record layout when
too wide); csv / json / parquet stay machine-readable at full precision; `sql` takes the same
output options as `query run`."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelab.cli import _common as _C
from tracelab.cli import cli
from tracelab.cli._common import NULL_MARK, emit_rows, format_float, output_width, render_table


def _table(columns, rows, width=None) -> str:
    buf = io.StringIO()
    render_table(columns, rows, buf, width=width)
    return buf.getvalue()


def _run(*args, columns: int | None = None):
    env = {"COLUMNS": str(columns)} if columns else {"COLUMNS": None}
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


# -- the renderer ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.022417491450056667, "0.02242"),
        (0.3684210526315789, "0.3684"),
        (0.16817922405261623, "0.1682"),
        (1.23456, "1.235"),
        (12.3456, "12.35"),
        (1123.456, "1123.46"),
        (225.0, "225.0"),
        (0.0, "0.0"),
        (-2.5, "-2.5"),
        (1.2e-7, "1.2e-07"),
        (1.2345e16, "1.234e+16"),
        (float("nan"), "nan"),
    ],
)
def test_floats_are_compact(value, text):
    assert format_float(value) == text


def test_table_rounds_floats_but_csv_and_json_keep_full_precision():
    cols, rows = ["name", "rate", "n"], [("a", 0.022417491450056667, 12345), ("b", 1123.456789, 7)]
    table = _table(cols, rows, width=80)
    assert "0.02242" in table and "1123.46" in table and "12345" in table
    assert "0.0224174914" not in table and "1123.456789" not in table
    js, cs = io.StringIO(), io.StringIO()
    emit_rows(cols, rows, "json", js)
    emit_rows(cols, rows, "csv", cs)
    assert json.loads(js.getvalue()) == [dict(zip(cols, r)) for r in rows]
    assert list(csv.reader(io.StringIO(cs.getvalue()))) == [cols, ["a", "0.022417491450056667", "12345"], ["b", "1123.456789", "7"]]


def test_null_is_visible_and_distinct_from_an_empty_string():
    out = _table(["a", "b"], [(None, ""), ("", None)], width=60)
    body = [line for line in out.splitlines() if line.startswith("│")]
    assert [line.count(NULL_MARK) for line in body] == [1, 1]
    assert re.match(rf"│ {NULL_MARK}\s+│\s+│", body[0]) and re.match(rf"│\s+│ {NULL_MARK}\s+│", body[1])
    js = io.StringIO()
    emit_rows(["a", "b"], [(None, "")], "json", js)
    assert json.loads(js.getvalue()) == [{"a": None, "b": ""}]


def test_footer_counts_rows():
    assert _table(["x"], [], width=60).rstrip().endswith("no rows")
    assert _table(["x"], [(1,)], width=60).rstrip().endswith("1 row")
    assert _table(["x"], [(1,), (2,), (3,)], width=60).rstrip().endswith("3 rows")
    assert _table([], [], width=60).strip() == "no rows"  # a statement without a result set


def test_cell_text_is_not_rich_markup():
    out = _table(["s"], [("[bold]x[/bold] [red]",)], width=60)
    assert "[bold]x[/bold] [red]" in out


def test_long_text_wraps_inside_the_width_and_headers_stay_whole():
    text = "Could not find the exact text in /some/long/path/to/a/file.ts; the old text must match exactly"
    cols = ["agent", "tool_name", "calls", "error_message"]
    out = _table(cols, [("pi", "edit", 271, text), ("claude", "Read", 3, "short")], width=60)
    lines = out.splitlines()
    assert all(len(line) <= 60 for line in lines)
    header = next(line for line in lines if line.startswith("┃") and "agent" in line)
    assert [h.strip() for h in header.strip("┃").split("┃")] == cols
    cells = "".join(line.split("│")[4].strip() for line in lines if line.startswith("│") and len(line.split("│")) > 4)
    assert text.replace(" ", "") in cells.replace(" ", "")  # every character is there, wrapped
    assert "271" in out and out.rstrip().endswith("2 rows")


def test_too_wide_for_a_table_becomes_one_record_per_row():
    cols = [f"a_rather_long_column_name_{i}" for i in range(12)]
    rows = [tuple(range(i, i + 12)) for i in range(3)] + [tuple([None] * 12)]
    out = _table(cols, rows, width=80)
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert [line for line in lines if line.startswith("-[ RECORD")][-1].startswith("-[ RECORD 4 ]")
    for c in cols:
        assert sum(1 for line in lines if re.match(rf"{c}\s+│ ", line)) == 4
    assert re.search(rf"^a_rather_long_column_name_0\s+│ {NULL_MARK}$", out, re.M)
    assert lines[-1] == "4 rows, shown as records: 12 columns do not fit in 80 characters"


def test_width_follows_columns_then_the_terminal_else_wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "97")
    assert output_width(io.StringIO()) == 97
    monkeypatch.delenv("COLUMNS")
    assert output_width(io.StringIO()) == 200  # a pipe or a file

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback=None: os.terminal_size((133, 40)))
    assert output_width(Tty()) == 133


# -- commands on a warehouse -------------------------------------------------------------------


def test_session_stats_at_120_columns_is_legible(claude_wh):
    """27 columns: every header whole at the start of a line, nothing past 120 characters,
    floats rounded, and a row count."""
    res = _run("query", "run", "session_stats", "-w", claude_wh, columns=120)
    assert res.exit_code == 0, res.output
    rows = json.loads(_run("query", "run", "session_stats", "-w", claude_wh, "--json").stdout)
    assert rows and len(rows[0]) == 27
    lines = res.stdout.splitlines()
    assert all(len(line) <= 120 for line in lines)
    for name in rows[0]:
        assert sum(1 for line in lines if re.match(rf"{name}\s+│", line)) == len(rows), name
    assert lines[-1].startswith(f"{len(rows)} row")
    floats = [v for r in rows for v in r.values() if isinstance(v, float) and len(repr(v)) > 10]
    assert floats and not any(repr(v) in res.stdout for v in floats)
    assert any(format_float(v) in res.stdout for v in floats)


def test_a_narrow_result_is_a_table_at_the_terminal_width(claude_wh):
    res = _run(
        "sql", "SELECT tool_name, count(*) AS n, avg(latency_ms) AS mean_ms FROM tool_calls GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3", "-w", claude_wh, columns=70
    )
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].startswith("┏") and all(len(line) <= 70 for line in lines)
    assert [h.strip() for h in lines[1].strip("┃").split("┃")] == ["tool_name", "n", "mean_ms"]
    assert lines[-1] == "3 rows"


def test_sql_json_flag_is_format_json_and_matches_duckdb(claude_wh):
    from tracelab.catalog import connect

    q = "SELECT session_key, agent, n_llm_calls, started_at FROM sessions ORDER BY session_key LIMIT 5"
    a = _run("sql", q, "-w", claude_wh, "--json")
    b = _run("sql", q, "--warehouse", claude_wh, "--format", "json")
    assert a.exit_code == b.exit_code == 0
    assert a.stdout == b.stdout
    con = connect(claude_wh)
    try:
        cur = con.execute(q)
        cols = [d[0] for d in cur.description]
        want = [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        con.close()
    got = json.loads(a.stdout)
    assert [{k: v for k, v in r.items() if k != "started_at"} for r in got] == [{k: v for k, v in r.items() if k != "started_at"} for r in want]
    assert [r["started_at"] for r in got] == [None if r["started_at"] is None else r["started_at"].isoformat() for r in want]


def test_sql_writes_parquet_csv_and_json_files(claude_wh, tmp_path):
    import pyarrow.parquet as pq

    q = "SELECT tool_name, count(*) AS n, avg(latency_ms) AS mean_ms FROM tool_calls GROUP BY 1 ORDER BY 1"
    rows = json.loads(_run("sql", q, "-w", claude_wh, "-f", "json").stdout)
    assert rows
    pq_out = tmp_path / "x.parquet"
    res = _run("sql", q, "-w", claude_wh, "-o", pq_out, "-f", "parquet")
    assert res.exit_code == 0 and res.stdout == ""
    assert pq.read_table(pq_out).to_pylist() == rows
    csv_out = tmp_path / "x.csv"
    assert _run("sql", q, "-w", claude_wh, "--out", csv_out, "--format", "csv").stdout == ""
    got = list(csv.DictReader(csv_out.open(encoding="utf-8")))
    assert [r["tool_name"] for r in got] == [r["tool_name"] for r in rows]
    assert [float(r["mean_ms"]) if r["mean_ms"] else None for r in got] == [r["mean_ms"] for r in rows]
    json_out = tmp_path / "x.json"
    assert _run("sql", q, "-w", claude_wh, "--json", "-o", json_out).stdout == ""
    assert json.loads(json_out.read_text(encoding="utf-8")) == rows


def test_out_into_a_missing_folder_is_written_and_an_unwritable_one_is_one_line(claude_wh, tmp_path):
    for fmt, name in (("csv", "x.csv"), ("parquet", "x.parquet"), ("json", "x.json")):
        out = tmp_path / "new" / fmt / name
        res = _run("sql", "SELECT count(*) AS n FROM sessions", "-w", claude_wh, "-f", fmt, "-o", out)
        assert res.exit_code == 0 and out.stat().st_size > 0, res.output
    res = _run("sessions", "-w", claude_wh, "--json", "-o", tmp_path / "more" / "s.json")
    assert res.exit_code == 0 and json.loads((tmp_path / "more" / "s.json").read_text(encoding="utf-8")), res.output
    blocker = tmp_path / "a_file"
    blocker.write_text("")  # a regular file where the output's folder should be
    for fmt in ("csv", "parquet"):
        res = _run("sql", "SELECT 1", "-w", claude_wh, "-f", fmt, "-o", blocker / "x")
        assert res.exit_code == 1 and res.stderr.strip() == f"tracelab: cannot write {blocker / 'x'}: File exists", res.output


def test_parquet_needs_a_file_and_sql_errors_still_fail(claude_wh):
    for cmd in (["sql", "SELECT 1"], ["query", "run", "session_stats"]):
        res = _run(*cmd, "-w", claude_wh, "-f", "parquet")
        assert res.exit_code == 2 and "--format parquet needs --out FILE" in res.output, cmd  # a ParameterError
    res = _run("sql", "SELECT nope FROM sessions", "-w", claude_wh, "--json")
    assert res.exit_code == 1 and "SQL error" in res.output


def test_sql_help_lists_every_catalog_view():
    from tracelab.catalog import known_schemas

    res = _run("sql", "--help", columns=200)
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    for name in known_schemas():
        assert re.search(rf"\b{name}\b", text), name
    for opt in ("--json", "--out", "parquet"):
        assert opt in text


def test_an_empty_result_names_filter_values_the_warehouse_lacks(claude_wh):
    """A typo in a filter is the usual reason for an empty result: say so, listing the values."""
    runner = CliRunner()
    res = runner.invoke(cli, ["query", "run", "tool_error_rates", "-w", str(claude_wh), "-p", "agent=cladue", "-p", "tool=Bash"])
    assert res.exit_code == 0 and "no rows" in res.stdout
    assert "warning: no agent 'cladue' in this warehouse (names are exact); agents present: claude" in res.stderr
    assert "tool 'Bash'" not in res.stderr  # Bash is there: only the missing value is named
    # empty for another reason (a window with no data): no warning
    res = runner.invoke(cli, ["query", "run", "tool_error_rates", "-w", str(claude_wh), "-p", "agent=claude", "-p", "since=2099-01-01"])
    assert res.exit_code == 0 and "no rows" in res.stdout and "warning" not in res.stderr


@pytest.mark.parametrize("command", [["failures"], ["usage", "daily"], ["search", "x"], ["chart", "tokens", "-o", "x.svg"]])
def test_a_bad_date_is_refused_naming_its_option(claude_wh, command):
    res = CliRunner().invoke(cli, [*command, "-w", str(claude_wh), "--since", "2025-13-01"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "Invalid value for '--since': '2025-13-01' is not an ISO date or time" in res.stderr


# -- the table without rich --------------------------------------------------------------------

_CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12),
    st.text(max_size=6),  # anything: wide characters, newlines, control characters (rich draws those)
)


@settings(max_examples=150, deadline=None)
@given(
    columns=st.lists(st.text(alphabet="abc_XY 1", min_size=1, max_size=8), max_size=4),
    data=st.data(),
    width=st.integers(min_value=20, max_value=90),
)
def test_the_plain_table_is_what_rich_draws(columns, data, width):
    """A table drawn without rich (plain ASCII that fits, to a file) is character for character
    the one rich draws; whatever it declines, rich draws."""
    rows = data.draw(st.lists(st.tuples(*[_CELL] * len(columns)), max_size=4))
    cells = [[_C._display(v) for v in r] for r in rows]
    plain, rich = io.StringIO(), io.StringIO()
    drawn = _C._plain_table(list(columns), cells, plain, width)
    _C._rich_table(list(columns), cells, rich, width)
    if drawn:
        assert plain.getvalue() == rich.getvalue()
    else:
        assert plain.getvalue() == ""
    buf = io.StringIO()
    render_table(columns, rows, buf, width=width)
    assert buf.getvalue() == rich.getvalue()


def test_the_plain_table_is_used_for_files_only(monkeypatch):
    # the conditions that make rich draw colours anyway are off here (another test in this
    # process may have imported IPython, e.g. the notebook runner)
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)

    class Tty(io.StringIO):
        def isatty(self):
            return True

    cells = [[_C._display(1)]]
    assert _C._plain_table(["x"], cells, io.StringIO(), 80)
    assert not _C._plain_table(["x"], cells, Tty(), 80)
    assert not _C._plain_table(["x"], [[_C._display("日本")]], io.StringIO(), 80)
    assert not _C._plain_table(["x"], [[_C._display("y" * 100)]], io.StringIO(), 80)
