"""``--project`` on every command that filters (info, failures, chart, report, search, usage,
query parameters): only that project's sessions count, and an unknown name draws a warning
listing the closest names; ``--session`` takes a unique prefix of a session id or key."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import tracelab
from tracelab.cli import cli


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def project(claude_wh) -> str:
    """The project with the most failure events among those with at least two sessions."""
    con = tracelab.connect(claude_wh)
    try:
        return con.execute(
            """SELECT s.project FROM sessions s JOIN failure_members m USING (session_key)
               WHERE s.project IS NOT NULL GROUP BY 1 HAVING count(DISTINCT s.session_key) >= 2 ORDER BY count(*) DESC, 1 LIMIT 1"""
        ).fetchone()[0]
    finally:
        con.close()


def _one(claude_wh, sql: str, *params):
    con = tracelab.connect(claude_wh)
    try:
        return con.execute(sql, list(params)).fetchone()[0]
    finally:
        con.close()


def test_info_counts_only_the_project(claude_wh, project):
    res = _run("info", "-w", str(claude_wh), "--project", project, "--json")
    assert res.exit_code == 0 and not res.stderr
    info = json.loads(res.stdout)
    want = _one(claude_wh, "SELECT count(*) FROM sessions WHERE project = ?", project)
    assert info["project"] == project and sum(a["sessions"] + a["subagent_sessions"] for a in info["agents"]) == want
    assert sum(a["events"] for a in info["agents"]) == _one(
        claude_wh, "SELECT count(*) FROM events WHERE session_key IN (SELECT session_key FROM sessions WHERE project = ?)", project
    )


def test_unknown_project_warns_with_the_closest_names(claude_wh, project):
    typo = project[:-1] + ("x" if project[-1] != "x" else "y")
    for args in (
        ["info"],
        ["failures"],
        ["search", "error"],
        ["usage", "daily"],
        ["sessions"],
        ["sessions", "--json"],
        ["query", "run", "session_stats", "-p", f"project={typo}"],
    ):
        extra = [] if args[0] == "query" else ["--project", typo]
        res = _run(*args, "-w", str(claude_wh), *extra)
        assert res.exit_code == 0, (args, res.output)
        warning = [ln for ln in res.stderr.splitlines() if ln.startswith("warning: no project")]
        assert warning and f"'{typo}'" in warning[0] and "closest: " in warning[0] and project in warning[0].split("closest: ")[1], (args, res.stderr)


def test_sessions_warns_on_an_unknown_model_and_not_on_a_known_one(claude_wh):
    model = _one(claude_wh, "SELECT model FROM llm_calls WHERE model IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    typo = model + "x"
    res = _run("sessions", "-w", str(claude_wh), "--model", typo)
    assert res.exit_code == 0, res.output
    warning = [ln for ln in res.stderr.splitlines() if ln.startswith("warning: no model")]
    assert warning and f"'{typo}'" in warning[0] and model in warning[0].split("closest: ")[1], res.stderr
    # a known model with no session in the window: no warning
    res = _run("sessions", "-w", str(claude_wh), "--model", model, "--since", "2100-01-01")
    assert res.exit_code == 0 and "warning" not in res.stderr, res.output


def test_info_and_report_name_an_unknown_project_instead_of_an_empty_warehouse(claude_wh, project, tmp_path):
    typo = project[:-1] + ("x" if project[-1] != "x" else "y")
    res = _run("info", "-w", str(claude_wh), "--project", typo)
    assert res.exit_code == 0, res.output
    assert "nothing ingested" not in res.stdout
    assert f"agents     none: no sessions of project '{typo}'" in res.stdout.splitlines()
    res = _run("report", "weekly", "-w", str(claude_wh), "--project", typo, "-o", str(tmp_path / "r"))
    assert res.exit_code != 0
    warning = [ln for ln in res.stderr.splitlines() if ln.startswith("warning: no project")]
    assert warning and project in warning[0].split("closest: ")[1], res.stderr
    assert res.stderr.splitlines()[-1] == f"tracelab: no sessions of project '{typo}' in this warehouse: nothing to report"
    assert "no timestamped events" not in res.stderr and not (tmp_path / "r").exists()


def test_failures_of_one_project(claude_wh, project):
    res = _run("failures", "-w", str(claude_wh), "--project", project, "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    sessions = _one(claude_wh, "SELECT count(*) FROM sessions WHERE project = ?", project)
    every = json.loads(_run("failures", "-w", str(claude_wh), "--json").stdout)
    assert rows and all(r["n_sessions"] <= sessions for r in rows)
    assert 0 < sum(r["n_events"] for r in rows) < sum(r["n_events"] for r in every)
    # the share is of the project's sessions
    assert all(r["share_sessions"] == pytest.approx(r["n_sessions"] / sessions) for r in rows if r["share_sessions"] is not None)


def test_chart_and_report_of_one_project(claude_wh, project, tmp_path):
    res = _run("chart", "tokens", "-w", str(claude_wh), "--project", project, "-o", str(tmp_path / "t.json"), "--json")
    assert res.exit_code == 0, res.output
    assert f"project {project}" in json.loads(res.stdout)["filters"]
    res = _run("report", "weekly", "-w", str(claude_wh), "--project", project, "-o", str(tmp_path / "r"), "-f", "md", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["project"] == project
    week_events = _one(
        claude_wh,
        "SELECT count(*) FROM events WHERE ts >= ? AND ts < ? AND session_key IN (SELECT session_key FROM sessions WHERE project = ?)",
        out["since"],
        out["until"],
        project,
    )
    assert out["events"] == week_events


def test_session_prefix(claude_wh):
    sid = _one(claude_wh, "SELECT session_id FROM sessions WHERE session_id IS NOT NULL ORDER BY session_id LIMIT 1")
    n = 4
    while (
        _one(claude_wh, "SELECT count(DISTINCT session_key) FROM sessions WHERE starts_with(session_id, ?) OR starts_with(session_key, ?)", sid[:n], sid[:n])
        > 1
    ):
        n += 1
    full = _run("search", "e", "-w", str(claude_wh), "--session", sid, "--json")
    short = _run("search", "e", "-w", str(claude_wh), "--session", sid[:n], "--json")
    assert full.exit_code == 0 and short.exit_code == 0 and json.loads(full.stdout) == json.loads(short.stdout) != []
    assert _one(claude_wh, "SELECT count(DISTINCT session_key) FROM sessions WHERE starts_with(session_id, ?)", sid[:1]) > 1
    amb = _run("search", "e", "-w", str(claude_wh), "--session", sid[:1])
    assert amb.exit_code == 2 and "ambiguous" in amb.stderr and amb.stderr.count("\n") == 1
    none = _run("search", "e", "-w", str(claude_wh), "--session", "zz-no-such-session")
    assert none.exit_code == 1 and "no session 'zz-no-such-session'" in none.stderr
