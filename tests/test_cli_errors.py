"""Every command turns every fault into one line on stderr and a non-zero exit, never a traceback.

The commands are enumerated from the root click group (recursively), so a command added later is
covered without touching this file: required arguments and options are filled in from their
types (an existing file for a path that must exist, a fresh directory for an output directory,
the first choice of a choice, 1 for a number), with a few overrides where a command needs a
specific value to get as far as opening the warehouse.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tracelab.cli import cli
from tracelab.cli._errors import one_line, report
from tracelab.errors import TracelabError, WarehouseCorrupt, WarehouseLocked, WarehouseMissing

#: arguments a command needs beyond the generic fill to reach the warehouse
OVERRIDES: dict[str, list[str]] = {
    "sql": ["select 1"],
    "search": ["needle"],
    "query run": ["tool_error_rates"],
    "query compare": ["tool_error"],
    "chart": ["tool-error-rates", "--out", "{tmp}/chart.svg"],
    "evals export": ["--top", "1", "--out", "{tmp}/evals"],
    "label add": ["session:abc", "--label", "x"],
    "failures show": ["te-0000"],
    "verify": ["--against-clean"],
}
#: commands that do not read a warehouse, or (ingest) that create it when it is missing
NO_WAREHOUSE_READ = {"ingest", "demo"}
#: commands whose output is the report of a damaged warehouse (on stdout, with a non-zero exit)
REPORTERS = {("doctor",)}


def _leaf_commands(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        path = (*prefix, name)
        if isinstance(cmd, click.Group):
            if cmd.invoke_without_command:
                out.append((path, cmd))
            out += _leaf_commands(cmd, click.Context(cmd, parent=ctx), path)
        else:
            out.append((path, cmd))
    return out


COMMANDS = _leaf_commands(cli, click.Context(cli))
IDS = [" ".join(p) for p, _ in COMMANDS]
WAREHOUSE_COMMANDS = [(p, c) for p, c in COMMANDS if any(x.name == "warehouse" for x in c.params) and " ".join(p) not in NO_WAREHOUSE_READ]


def _fill(path: tuple[str, ...], cmd: click.Command, tmp: Path) -> list[str]:
    """Arguments that satisfy ``cmd``'s required parameters."""
    key = " ".join(path)
    if key in OVERRIDES:
        args = [a.replace("{tmp}", str(tmp)) for a in OVERRIDES[key]]
        given = set(args)
    else:
        args, given = [], set()
    some_file = tmp / "input.jsonl"
    some_file.write_text('{"target_type": "session", "target_key": "abc", "label": "x"}\n')  # valid for `label import`
    for p in cmd.params:
        if not p.required or (isinstance(p, click.Option) and any(o in given for o in p.opts)):
            continue
        if isinstance(p, click.Argument) and key in OVERRIDES:
            continue
        t = p.type
        if isinstance(t, click.Path):
            value = str(some_file) if t.exists or not t.dir_okay else str(tmp / f"out-{p.name}")
        elif isinstance(t, click.Choice):
            value = str(t.choices[0])
        elif isinstance(t, (click.types.IntParamType, click.types.FloatParamType)):
            value = "1"
        else:
            value = "x"
        args += [value] if isinstance(p, click.Argument) else [p.opts[0], value]
    return args


def _bad_value(cmd: click.Command) -> list[str] | None:
    """An option of ``cmd`` given a value its type refuses, if it has a typed option."""
    for p in cmd.params:
        if not isinstance(p, click.Option) or p.is_flag or p.name in ("warehouse",):
            continue
        t = p.type
        if isinstance(t, (click.Choice, click.types.IntParamType, click.types.FloatParamType)) or getattr(t, "name", "") in ("DATE",):
            return [p.opts[0], "not-a-valid-value"]
    return None


def _invoke(args: list[str]):
    return CliRunner().invoke(cli, args, catch_exceptions=True)


def _assert_one_line(res, args) -> str:
    where = f"tracelab {' '.join(args)}: exit {res.exit_code}, stdout {res.stdout!r}, stderr {res.stderr!r}"
    assert res.exit_code not in (0, None), where
    assert isinstance(res.exception, SystemExit) or res.exception is None, where  # nothing escaped the top
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout, where
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracelab: "), where
    return lines[0]


def test_every_command_is_enumerated():
    names = set(IDS)
    # a sample of what must be there: top-level commands, subcommands, and a group that runs itself
    assert {"sql", "info", "ingest", "query run", "usage daily", "failures", "failures show", "label add", "report weekly"} <= names


@pytest.mark.parametrize(("path", "cmd"), WAREHOUSE_COMMANDS, ids=[" ".join(p) for p, _ in WAREHOUSE_COMMANDS])
def test_missing_warehouse_is_one_line(path, cmd, tmp_path):
    wh = tmp_path / "no-warehouse-here"
    args = [*path, *_fill(path, cmd, tmp_path), "--warehouse", str(wh)]
    line = _assert_one_line(_invoke(args), args)
    assert "warehouse" in line.lower(), line
    assert not wh.exists(), f"{' '.join(path)} created the missing warehouse"


CORRUPT_COMMANDS = WAREHOUSE_COMMANDS + [(p, c) for p, c in COMMANDS if p == ("ingest",)]


@pytest.mark.parametrize(("path", "cmd"), CORRUPT_COMMANDS, ids=[" ".join(p) for p, _ in CORRUPT_COMMANDS])
def test_corrupt_snapshot_is_one_line(path, cmd, tmp_path):
    wh = tmp_path / "wh"
    wh.mkdir()
    (wh / "_snapshot.json").write_text('{"version": 3, "tables": {"events": ["events/month=2026-01/pa')
    args = [*path, *_fill(path, cmd, tmp_path), "--warehouse", str(wh)]
    res = _invoke(args)
    if path in REPORTERS:  # its report of the problem is its output
        assert res.exit_code == WarehouseCorrupt.exit_code and "_snapshot.json" in res.stdout and not res.stderr, res.output
        return
    line = _assert_one_line(res, args)
    assert "_snapshot.json" in line, line
    assert res.exit_code == WarehouseCorrupt.exit_code, line


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=IDS)
def test_unknown_option_is_one_line(path, cmd, tmp_path):
    args = [*path, "--no-such-option"]
    res = _invoke(args)
    line = _assert_one_line(res, args)
    assert res.exit_code == 2 and "--no-such-option" in line and "-h" in line, line


@pytest.mark.parametrize(("path", "cmd"), [(p, c) for p, c in COMMANDS if _bad_value(c)], ids=[i for i, (_, c) in zip(IDS, COMMANDS) if _bad_value(c)])
def test_bad_option_value_is_one_line(path, cmd, tmp_path):
    bad = _bad_value(cmd)
    assert bad is not None
    args = [*path, *_fill(path, cmd, tmp_path), *bad, "--warehouse", str(tmp_path / "wh")] if any(x.name == "warehouse" for x in cmd.params) else [*path, *bad]
    res = _invoke(args)
    line = _assert_one_line(res, args)
    assert res.exit_code == 2 and "not-a-valid-value" in line, line


@pytest.mark.parametrize(("week", "message"), [("garbage", "not an ISO week: 'garbage'"), ("2026-W54", "2026 has no ISO week 54")])
def test_report_bad_week_is_a_bad_option(claude_wh, tmp_path, week, message):
    out = tmp_path / "r"
    res = _invoke(["report", "weekly", "--week", week, "-w", str(claude_wh), "-o", str(out)])
    line = _assert_one_line(res, ["report", "weekly"])
    assert res.exit_code == 2 and message in line and "--week" in line, line
    assert not out.exists()


def test_sql_error_is_one_line(claude_wh):
    res = _invoke(["sql", "select * from no_such_table", "-w", str(claude_wh)])
    line = _assert_one_line(res, ["sql"])
    assert "SQL error" in line and "no_such_table" in line


def test_unexpected_error_writes_the_traceback_to_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TRACELAB_DEBUG", raising=False)
    import tracelab.info

    def boom(*a, **k):
        raise RuntimeError("something odd\nsecond line")

    monkeypatch.setattr(tracelab.info, "warehouse_info", boom)
    res = _invoke(["info", "-w", str(tmp_path)])
    line = _assert_one_line(res, ["info"])
    assert res.exit_code == 1 and "RuntimeError: something odd second line" in line and "--debug" in line
    crash = list((tmp_path / "cache" / "tracelab").glob("crash-*.txt"))
    assert len(crash) == 1 and str(crash[0]) in line
    text = crash[0].read_text()
    assert "Traceback" in text and "RuntimeError: something odd" in text and "info -w" in text
    debug = _invoke(["--debug", "info", "-w", str(tmp_path)])
    assert debug.exit_code == 1 and "Traceback" in debug.stderr and debug.stderr.rstrip().splitlines()[-1].startswith("tracelab: internal error")


def test_keyboard_interrupt_is_aborted_130(tmp_path, monkeypatch):
    import tracelab.info

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(tracelab.info, "warehouse_info", interrupted)
    res = _invoke(["info", "-w", str(tmp_path)])
    assert res.exit_code == 130 and res.stderr.strip().splitlines()[-1] == "tracelab: Aborted"


@pytest.mark.parametrize(
    ("exc", "code"),
    [(WarehouseMissing("no warehouse at /x", path="/x"), 3), (WarehouseLocked("locked by pid 7"), 4), (TracelabError("plain"), 1)],
)
def test_report_uses_the_class_exit_code(exc, code):
    import io

    err = io.StringIO()
    assert report(exc, err=err) == code
    assert err.getvalue() == f"tracelab: {exc}\n"


def test_one_line_drops_duckdb_context():
    msg = 'Parser Error: syntax error at or near "selec"\n\nLINE 1: selec 1\n        ^'
    assert one_line(msg) == 'Parser Error: syntax error at or near "selec"'


def test_console_script_reports_in_one_line(tmp_path):
    """The real entry point (a fresh process), including the ingest fast path."""
    wh = tmp_path / "wh"
    wh.mkdir()
    (wh / "_snapshot.json").write_text("{not json")
    for args in (["info", "-w", str(wh)], ["ingest", str(tmp_path / "nothing"), "-w", str(wh), "-q"]):
        proc = subprocess.run([sys.executable, "-m", "tracelab", *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode != 0 and proc.stderr.count("\n") == 1 and proc.stderr.startswith("tracelab: "), (args, proc.stderr)
