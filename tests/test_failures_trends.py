"""Failure trend labels, the filter options of ``tracelab failures`` / ``tracelab chart``, and
the weekly report's default week and empty-week handling, on the real samples
(``../shared/samples``, read in place)."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from click.testing import CliRunner
from conftest import SAMPLES

from tracelab.cli import cli
from tracelab.failures import api
from tracelab.failures.behaviour import FAMILIES
from tracelab.ingest.registry import ADAPTER_MODULES
from tracelab.reports.data import assemble
from tracelab.reports.weeks import IsoWeek

UTC = dt.UTC


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    from tracelab.pipeline import ingest

    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES} (set TRACELAB_SHARED)")
    wh = tmp_path_factory.mktemp("trends") / "wh"
    s = ingest([str(SAMPLES / d) for d in ("claude-code", "codex", "pi")], wh, jobs=1)
    assert s.files_failed == 0, s.errors
    return wh


@pytest.fixture(scope="module")
def f(wh):
    return api.load(wh)


def _d(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=UTC)


def _expected(n_cur: int, n_prev: int, n_before: int) -> str:
    """The documented rules, written out independently of the Polars expression."""
    if n_cur and not n_before:
        return "new"
    if n_cur and not n_prev:
        return "returning"
    if n_cur >= api.MIN_GROWING and n_cur >= api.GROWTH * n_prev:
        return "growing"
    if n_cur and n_prev >= api.GROWTH * n_cur:
        return "shrinking"
    if not n_cur and n_prev:
        return "gone"
    if not n_cur and not n_prev:
        return "dormant"
    return "steady"


WINDOWS = [
    (None, None),
    ("2025-11-17", "2025-11-24"),  # the reviewer's case: steady 4/0 before the fix
    ("2025-11-24", "2025-12-01"),
    ("2025-12-01", "2025-12-15"),
    ("2026-01-01", None),
    (None, "2026-02-01"),
    ("2025-07-01", "2025-12-31"),
]


def test_trend_labels_follow_the_documented_rules(f):
    members = f.members
    seen: set[str] = set()
    for since, until in WINDOWS:
        df = api.clusters(f, since=since, until=until)
        assert df.height, (since, until)
        t_since, t_until = df.get_column("trend_since")[0], df.get_column("trend_until")[0]
        span = t_until - t_since
        if since is None and until is None:
            # the default window: the 7 days up to the latest failure, not up to today
            assert t_until - dt.timedelta(milliseconds=1) == members.get_column("ts").max() and span == dt.timedelta(days=7)
        for r in df.iter_rows(named=True):
            ts = members.filter(pl.col("cluster_id") == r["cluster_id"]).get_column("ts")
            n_cur = int(((ts >= t_since) & (ts < t_until)).sum())
            n_prev = int(((ts >= t_since - span) & (ts < t_since)).sum())
            n_before = int((ts < t_since).sum())
            assert (r["n_current"], r["n_previous"]) == (n_cur, n_prev), r["cluster_id"]
            assert r["trend"] == _expected(n_cur, n_prev, n_before), (since, until, r["cluster_id"], n_cur, n_prev, n_before)
            seen.add(r["trend"])
    assert set(api.TRENDS) >= seen >= {"new", "returning", "shrinking", "gone", "dormant"}


def test_reviewed_window_has_no_steady_without_previous_events(f):
    df = api.clusters(f, since="2025-11-17", until="2025-11-24")
    assert df.filter((pl.col("trend") == "steady") & (pl.col("n_previous") == 0)).height == 0
    ret = df.filter(pl.col("trend") == "returning")
    assert ret.height >= 1 and (ret.get_column("n_previous") == 0).all() and (ret.get_column("n_current") > 0).all()
    # returning clusters were seen before the previous window; new ones never before the window
    first = f.members.group_by("cluster_id").agg(pl.col("ts").min().alias("first"))
    j = df.join(first, on="cluster_id")
    assert (j.filter(pl.col("trend") == "returning").get_column("first") < _d("2025-11-10")).all()
    assert (j.filter(pl.col("trend") == "new").get_column("first") >= _d("2025-11-17")).all()


def test_help_documents_the_labels_and_the_default_window():
    out = CliRunner().invoke(cli, ["failures", "--help"]).output
    for label in api.TRENDS:
        assert f"\n    {label} " in out or f"  {label}  " in out, label
    assert "last 7 days" not in out and "latest failure matching the filters" in out
    for label in api.TRENDS:
        assert f"``{label}``" in api.clusters.__doc__


# ------------------------------------------------------------------------------ filters


def test_failures_agent_is_a_choice(wh):
    r = CliRunner().invoke(cli, ["failures", "-w", str(wh), "--agent", "cladue"])
    assert r.exit_code == 2 and "unknown agent 'cladue'" in r.output and "claude, codex, pi" in r.output
    # comma lists and repeats still work, and mean the same
    runner = CliRunner()
    a = json.loads(runner.invoke(cli, ["failures", "-w", str(wh), "--agent", "claude,pi", "--json"]).stdout)
    b = json.loads(runner.invoke(cli, ["failures", "-w", str(wh), "--agent", "claude", "--agent", "pi", "--json"]).stdout)
    assert a == b and a and {x for r in a for x in r["agents"]} <= {"claude", "pi"}
    assert {"claude", "codex", "pi"} <= set(ADAPTER_MODULES)


def test_failures_unknown_family_lists_the_valid_ones(wh, f):
    r = CliRunner().invoke(cli, ["failures", "-w", str(wh), "--family", "loop,tool_eror"])
    assert r.exit_code == 2 and "'tool_eror'" in r.output
    assert all(fam in r.output for fam in FAMILIES)
    with pytest.raises(api.FailuresError, match="valid: tool_error"):
        api.clusters(f, family="tool_eror")
    ok = CliRunner().invoke(cli, ["failures", "-w", str(wh), "--family", "loop", "--json"])
    assert ok.exit_code == 0 and {r["family"] for r in json.loads(ok.stdout)} == {"loop"}


def test_failures_unknown_model_warns_with_the_models_present(wh, f):
    present = api.models_present(f)
    assert "gpt-5.4" in present and "claude-sonnet-4-5-20250929" in present
    r = CliRunner().invoke(cli, ["failures", "-w", str(wh), "--model", "gpt-9,gpt-5.4"])
    assert r.exit_code == 0
    assert "warning: no model 'gpt-9'" in r.stderr and "gpt-5.4" in r.stderr.split("models present:")[1]
    assert "'gpt-5.4'" not in r.stderr.split("models present:")[0]
    r = CliRunner().invoke(cli, ["failures", "-w", str(wh), "--model", "nothing-like-it"])
    assert r.exit_code == 0 and "no failure clusters match" in r.stdout and "nothing-like-it" in r.stderr
    quiet = CliRunner().invoke(cli, ["failures", "-w", str(wh), "--model", "gpt-5.4"])
    assert quiet.exit_code == 0 and quiet.stderr.count("warning") == 0


def test_chart_agent_choice_and_model_warning(wh, tmp_path):
    runner = CliRunner()
    r = runner.invoke(cli, ["chart", "tokens", "-w", str(wh), "--agent", "cladue", "-o", str(tmp_path / "a.svg")])
    assert r.exit_code == 2 and "'cladue' is not one of 'claude', 'codex', 'pi'" in r.output
    r = runner.invoke(cli, ["chart", "tokens", "-w", str(wh), "--model", "gpt-9", "-o", str(tmp_path / "b.svg")])
    assert "warning: no model 'gpt-9'" in r.stderr and "gpt-5.4" in r.stderr
    r = runner.invoke(cli, ["chart", "tokens", "-w", str(wh), "--agent", "codex", "--model", "gpt-5.4", "-o", str(tmp_path / "c.svg")])
    assert r.exit_code == 0 and "warning" not in r.stderr and (tmp_path / "c.svg").stat().st_size > 0


# ------------------------------------------------------------------------------ weekly report


def test_default_week_is_the_latest_week_with_events(wh, tmp_path):
    # the samples end on Monday 2026-08-03 after an empty W31: the default is W32, marked incomplete
    data = assemble(wh)
    assert data.last_day == dt.date(2026, 8, 3) and data.week == IsoWeek(2026, 32)
    assert data.events > 0 and data.warnings == ["2026-W32 is incomplete: the data ends on Mon 2026-08-03 (figures cover 2026-08-03 to 2026-08-03)."]

    r = CliRunner().invoke(cli, ["report", "weekly", "-w", str(wh), "--out", str(tmp_path), "-f", "html,md", "--md-images", "svg"])
    assert r.exit_code == 0, r.output
    assert "weekly report 2026-W32" in r.stdout and "no sessions in this week" not in r.stdout
    assert r.stderr.startswith("warning: 2026-W32 is incomplete")
    md = (tmp_path / "weekly-2026-W32.md").read_text()
    assert "No sessions in this week" not in md and "2026-W32 is incomplete" in md


def test_empty_week_is_reported_as_such(wh, tmp_path):
    data = assemble(wh, "2026-W31")
    assert data.events == 0 and len(data.warnings) == 1
    w = data.warnings[0]
    assert "No sessions in this week" in w and "2026-W31" in w and "--week 2026-W23" in w and "2026-W32 (incomplete)" in w
    r = CliRunner().invoke(cli, ["report", "weekly", "-w", str(wh), "--week", "2026-W31", "--out", str(tmp_path), "-f", "html,md", "--md-images", "svg"])
    assert r.exit_code == 0, r.output
    assert "weekly report 2026-W31" in r.stdout and "no sessions in this week" in r.stdout
    assert r.stderr.startswith("warning: No sessions in this week")
    md = (tmp_path / "weekly-2026-W31.md").read_text()
    assert "No sessions in this week" in md and "No regressions flagged this week" not in md
    assert "No regression met the thresholds" not in md
    html = (tmp_path / "weekly-2026-W31.html").read_text()
    assert 'data-warnings="1"' in html and "No sessions in this week" in html and "No regressions flagged this week" not in html


def test_chosen_week_with_and_without_events(wh, tmp_path):
    runner = CliRunner()
    r = runner.invoke(cli, ["report", "weekly", "-w", str(wh), "--week", "2026-W23", "--out", str(tmp_path), "-f", "md", "--json"])
    out = json.loads(r.stdout)
    assert r.exit_code == 0 and out["events"] > 0 and out["warnings"] == [] and "warning" not in r.stderr
    assert "No sessions in this week" not in (tmp_path / "weekly-2026-W23.md").read_text()
    r = runner.invoke(cli, ["report", "weekly", "-w", str(wh), "--week", "2020-W01", "--out", str(tmp_path), "-f", "md", "--json"])
    out = json.loads(r.stdout)
    assert r.exit_code == 0 and out["events"] == 0 and "before the data starts" in out["warnings"][0]
    assert "--week 2025-W24" in r.stderr and (tmp_path / "weekly-2020-W01.md").is_file()


def test_data_inside_one_week_defaults_to_that_week(tmp_path):
    from tracelab.pipeline import ingest

    src = SAMPLES / "pi" / "pi-mono__large-session.jsonl"
    if not src.is_file():
        pytest.skip(f"{src} not found")
    ingest([str(src)], tmp_path / "wh", jobs=1)  # events on Thu 2025-11-20 and Fri 2025-11-21 only
    data = assemble(tmp_path / "wh")
    assert data.week == IsoWeek(2025, 47) and data.events > 0
    r = CliRunner().invoke(cli, ["report", "weekly", "-w", str(tmp_path / "wh"), "--out", str(tmp_path / "r"), "-f", "md"])
    assert r.exit_code == 0 and "2025-W47 is incomplete: the data ends on Fri 2025-11-21" in r.stderr
