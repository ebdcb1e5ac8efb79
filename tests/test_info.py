"""``tracelab info`` / ``tracelab.info.warehouse_info`` on the real samples, checked against the
sample directories and direct counts over the warehouse tables."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_queries import SAMPLES, build_samples_wh

from tracelab.catalog import connect
from tracelab.cli import cli
from tracelab.info import warehouse_info
from tracelab.store.warehouse import Warehouse


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    return build_samples_wh(tmp_path_factory)


def test_info_counts_match_the_samples_and_the_tables(wh):
    info = warehouse_info(wh)
    by_agent = {a["agent"]: a for a in info["agents"]}
    assert set(by_agent) == {"claude", "codex", "pi"}
    con = connect(wh)
    try:

        def one(sql, *params):
            return con.execute(sql, list(params)).fetchone()[0]

        for agent, a in by_agent.items():
            assert a["lines_total"] == a["lines_ingested"] + a["lines_duplicate"] + a["lines_rejected"]
            assert a["sessions"] + a["subagent_sessions"] == one("SELECT count(*) FROM sessions WHERE agent = ?", agent)
            assert a["events"] == one("SELECT count(*) FROM events WHERE agent = ?", agent)
            assert a["llm_calls"] == one("SELECT count(*) FROM llm_calls WHERE agent = ?", agent)
            assert a["first_ts"] == one("SELECT min(ts) FROM events WHERE agent = ?", agent)
        assert sum(r["lines"] for r in info["rejects"]) == one("SELECT count(*) FROM rejects")
        assert sum(n for t in info["unknown_types"].values() for n in t.values()) == one("SELECT count(*) FROM events WHERE kind = 'unknown'")
    finally:
        con.close()
    # every sample file of an agent's directory is one manifest row (files of no agent are skipped)
    dirs = {"claude": "claude-code", "codex": "codex", "pi": "pi"}
    for agent, d in dirs.items():
        assert by_agent[agent]["files"] == len([p for p in (SAMPLES / d).rglob("*.jsonl")])
    snap = Warehouse(wh).snapshot()
    for table, st in info["storage"].items():
        assert st["parts"] == len(snap.tables[table])
        assert st["bytes"] == sum((Warehouse(wh).root / r).stat().st_size for r in snap.tables[table])


def test_info_command_text_json_and_errors(wh, tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["info", "-w", str(wh)], env={"COLUMNS": "120"})
    assert res.exit_code == 0, res.output
    assert "snapshot   version" in res.stdout and "subagent sessions" in res.stdout
    assert "unknown    " in res.stdout and "kept as kind 'unknown'" in res.stdout
    res = runner.invoke(cli, ["info", "-w", str(wh), "--json"])
    assert json.loads(res.stdout)["warehouse"] == str(Warehouse(wh).root)
    res = runner.invoke(cli, ["info", "-w", str(tmp_path / "nope")])
    assert res.exit_code == 3 and "no tracelab warehouse at" in res.stderr  # WarehouseMissing
    (tmp_path / "in").mkdir()
    runner.invoke(cli, ["ingest", str(tmp_path / "in"), "-w", str(tmp_path / "empty"), "-q"])
    res = runner.invoke(cli, ["info", "-w", str(tmp_path / "empty")])
    assert res.exit_code == 0 and "nothing ingested yet" in res.stdout
