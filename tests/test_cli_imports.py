"""What the warehouse commands import: opening a warehouse and printing a small table loads
DuckDB and click, not the Arrow/dataframe/chart stacks (each costs a large share of a command's
start-up; ``benchmarks/startup_bench.py`` measures the time, this checks the cause)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pyarrow", "numpy", "pandas", "polars", "altair", "rich", "ibis", "jinja2")

_RUN = """
import json, sys
from tracelab.__main__ import main
args, watched = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
sys.argv = ["tracelab", *args]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stdout.flush()
heavy = sorted({m.split(".")[0] for m in sys.modules} & watched)
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def _imports(args: list[str]) -> tuple[dict, str]:
    r = subprocess.run([sys.executable, "-c", _RUN, json.dumps(args), json.dumps(HEAVY)], capture_output=True, text=True, timeout=120)
    return json.loads(r.stderr.strip().splitlines()[-1]), r.stdout


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["sql", "select 1"], id="sql-select-1"),
        pytest.param(["sql", "SELECT agent, count(*) AS n FROM sessions GROUP BY 1 ORDER BY 1"], id="sql-sessions"),
        pytest.param(["info"], id="info"),
    ],
)
def test_warehouse_commands_import_no_arrow_dataframe_or_rich(claude_wh, args):
    got, out = _imports([*args, "-w", str(claude_wh)])
    assert got["code"] == 0, out
    assert got["heavy"] == [], f"tracelab {' '.join(args)} imported {got['heavy']}"
    assert out.strip()  # it printed its answer


def test_session_imports_no_arrow_or_dataframe(claude_wh):
    """``tracelab session ID`` fetches its rows from DuckDB directly."""
    from tracelab.store import Store

    with Store(claude_wh) as store:
        sid = store.con.execute("SELECT session_id FROM sessions WHERE NOT coalesce(is_subagent, false) ORDER BY n_events DESC LIMIT 1").fetchone()[0]
    got, out = _imports(["session", sid, "-w", str(claude_wh)])
    assert got["code"] == 0, out
    # to a pipe (no colour) the timeline is written without rich, as the bytes rich would print
    assert got["heavy"] == [], f"tracelab session imported {got['heavy']}"
    assert out.startswith("session ")
    assert "steps" in out


def test_info_loads_no_duckdb_where_the_part_counts_cover_the_snapshot(claude_wh):
    """``tracelab info`` sums the counts each commit keeps per part (``_part_stats.json``): it
    reads no Parquet, so it does not import DuckDB at all."""
    got, out = _imports(["info", "-w", str(claude_wh)])
    assert got["code"] == 0, out
    r = subprocess.run(
        [sys.executable, "-c", _RUN, json.dumps(["info", "-w", str(claude_wh)]), json.dumps(["duckdb", "_duckdb"])], capture_output=True, text=True, timeout=120
    )
    assert json.loads(r.stderr.strip().splitlines()[-1]) == {"code": 0, "heavy": []}, r.stderr[-2000:]
    assert "events" in r.stdout


def test_sql_select_1_prints_the_table(claude_wh):
    got, out = _imports(["sql", "select 1", "-w", str(claude_wh)])
    assert out == "┏━━━┓\n┃ 1 ┃\n┡━━━┩\n│ 1 │\n└───┘\n1 row\n"


def test_help_imports_no_command_module():
    """``tracelab --help`` lists every command with its one-line help without importing the
    commands' modules (nor anything heavy)."""
    code = (
        "import sys\nfrom tracelab.cli import cli\ntry:\n    cli(['--help'], prog_name='tracelab')\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('tracelab.cli.') and not m.split('.')[-1].startswith('_')), file=sys.stderr)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})), file=sys.stderr)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    modules, heavy = r.stderr.strip().splitlines()[-2:]
    assert modules == "[]" and heavy == "[]"
    assert "Commands:" in r.stdout and "sql" in r.stdout


def test_help_lists_what_the_command_modules_declare():
    """The command list ``--help`` reads from the modules' source is the one the imported
    modules give: every command, with the same name, short help and visibility."""
    from pathlib import Path

    import click

    import tracelab.cli as cli_package
    from tracelab.cli import _declared_command, cli

    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):  # imports every command module
        real = cli.get_command(ctx, name)
        module = Path(cli_package.__path__[0]) / f"{sys.modules[real.callback.__module__].__name__.rsplit('.', 1)[-1]}.py"
        stub = _declared_command(module)
        assert stub is not None, module
        assert (stub.name, stub.hidden, stub.get_short_help_str(60)) == (real.name, real.hidden, real.get_short_help_str(60))
    lazy = subprocess.run([sys.executable, "-m", "tracelab", "--help"], capture_output=True, text=True, timeout=120, check=True).stdout
    eager = subprocess.run(
        [sys.executable, "-c", "import click\nfrom tracelab.cli import cli\ncli.list_commands(click.Context(cli))\ncli(['--help'], prog_name='tracelab')"],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert lazy == eager and lazy.count("\n") > 20


def test_session_loads_only_the_duckdb_engine_and_prints_the_same(samples_wh):
    """``tracelab session`` connects through DuckDB's compiled engine (``_duckdb``) without the
    ``duckdb`` package's Python layer (``tracelab.store.engine``); what it prints, text and JSON,
    is byte for byte what it prints when the package is loaded first (and the connection comes
    from the package): for the main session of each agent with the most subagents, then events."""
    pytest.importorskip("_duckdb")
    from tracelab.store import Store

    sql = (
        "SELECT arg_max(session_id, (n_subagents, n_events)) FROM sessions"
        " WHERE NOT coalesce(is_subagent, false) AND agent IN ('claude', 'codex', 'pi') GROUP BY agent ORDER BY agent"
    )
    with Store(samples_wh) as store:
        ids = [r[0] for r in store.con.execute(sql).fetchall()]
    assert len(ids) == 3
    for sid in ids:
        for extra in ([], ["--json"], ["--depth", "0"]):
            args = ["session", sid, *extra, "-w", str(samples_wh)]
            bare = subprocess.run([sys.executable, "-c", _RUN, json.dumps(args), json.dumps(["duckdb"])], capture_output=True, text=True, timeout=120)
            assert json.loads(bare.stderr.strip().splitlines()[-1]) == {"code": 0, "heavy": []}, bare.stderr[-2000:]
            full = subprocess.run(
                [sys.executable, "-c", "import duckdb\n" + _RUN, json.dumps(args), json.dumps(["duckdb"])], capture_output=True, text=True, timeout=120
            )
            assert json.loads(full.stderr.strip().splitlines()[-1]) == {"code": 0, "heavy": ["duckdb"]}, full.stderr[-2000:]
            assert bare.stdout == full.stdout, args
            assert bare.stdout.strip()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["chart", "--list"], "tool-error-rates", id="list"),
        pytest.param(["chart", "no-such-chart", "--out", "x.svg"], "'no-such-chart' is not a chart", id="unknown-name"),
        pytest.param(["chart", "tool-error-rates"], "give --out FILE", id="no-out"),
        pytest.param(["chart", "tool-error-rates", "--out", "x.txt"], "cannot tell the format of 'x.txt'", id="bad-suffix"),
    ],
)
def test_chart_list_and_bad_arguments_answer_before_the_chart_stack(args, message):
    """``chart --list`` and a wrong name, a missing --out or an unknown suffix answer from the
    chart names alone: no Altair, Polars, pandas or Arrow import (seconds of start-up) first."""
    r = subprocess.run([sys.executable, "-c", _RUN, json.dumps(args), json.dumps(HEAVY)], capture_output=True, text=True, timeout=120)
    *said, last = r.stderr.strip().splitlines()
    got = json.loads(last)
    assert got["code"] == (0 if "--list" in args else 2) and message in r.stdout + "\n".join(said), r.stdout + r.stderr
    assert got["heavy"] == [], f"tracelab {' '.join(args)} imported {got['heavy']}"


def test_chart_names_and_formats_equal_the_chart_stack():
    from tracelab.charts.export import FORMATS
    from tracelab.reports import chart_names
    from tracelab.reports.named_charts import NAMED_CHARTS

    assert chart_names.CHARTS == {c.name: c.description for c in NAMED_CHARTS.values()}
    assert set(chart_names.FORMATS) == set(FORMATS)
