"""The weekly quality report against a generated corpus whose truth is known.

``tracelab.synth`` plants one regression: in the last week one (agent, model, tool) error rate
jumps. The report for that week must show the jump with the exact realised counts and flag it
(and only with thresholds that allow it); every other number checked here is compared with the
generator's ``truth.json``. Rendering is checked component by component (KPI card, flagged
table row), and the HTML file is opened in headless Chromium with network access made
observable: it must render every section, log no console error and request nothing.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from tracelab.cli import cli
from tracelab.reports import fmt, render, sections
from tracelab.reports.config import ThresholdsError, defaults, load_thresholds
from tracelab.reports.data import ReportDataError, assemble, report_query, report_query_names, resolve_week
from tracelab.reports.weekly import write_report, write_weekly_report
from tracelab.reports.weeks import IsoWeek, latest_week

pytestmark = pytest.mark.xdist_group("synth_report")

SESSIONS, SEED = 30, 11
SECTION_IDS = ["summary", "tool-errors", "latency", "usage", "failures", "models", "data-quality"]


def synth_warehouse(tmp_path_factory, sessions: int = SESSIONS, seed: int = SEED) -> tuple[Path, dict]:
    """A generated corpus ingested once per test run and shared by the report and notebook
    tests (a file lock makes xdist workers build it once)."""
    from tracelab.pipeline import ingest
    from tracelab.synth import GENERATOR_VERSION, generate

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    d = root / f"report-synth-v{GENERATOR_VERSION}-{sessions}-{seed}"
    with open(root / f"{d.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (d / "done").exists():
            shutil.rmtree(d, ignore_errors=True)
            generate(d / "corpus", sessions=sessions, seed=seed, jobs=1)
            s = ingest([str(d / "corpus" / a) for a in ("claude", "codex", "pi")], d / "wh", jobs=1)
            assert s.files_failed == 0, s.errors
            (d / "done").write_text("ok")
    return d / "wh", json.loads((d / "corpus" / "truth.json").read_text())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return synth_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def wh(corpus):
    return corpus[0]


@pytest.fixture(scope="module")
def truth(corpus):
    return corpus[1]


@pytest.fixture(scope="module")
def planted(truth):
    return truth["planted_regression"]


@pytest.fixture(scope="module")
def week(planted):
    return IsoWeek.of(dt.date.fromisoformat(planted["week_start"]))


@pytest.fixture(scope="module")
def data(wh, week):
    return assemble(wh, week)


@pytest.fixture(scope="module")
def written(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("weekly")
    return write_report(data, out, generated_at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC))


def _week_index(truth, week: IsoWeek) -> str:
    return str(next(w["week"] for w in truth["window"]["weeks"] if w["start"] == week.start.isoformat()))


def _truth_tool_counts(truth, week: IsoWeek) -> dict[tuple[str, str, str], tuple[int, int]]:
    idx = _week_index(truth, week)
    out = {}
    for agent, a in truth["agents"].items():
        for model, tools in a["weekly"].get(idx, {}).items():
            for tool, v in tools.items():
                if v["completed"]:
                    out[(agent, model, tool)] = (v["completed"], v["errors"])
    return out


# ------------------------------------------------------------------------------ weeks


def test_iso_weeks():
    w = IsoWeek.parse("2026-W47")
    assert (w.start, w.end) == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
    assert w.since == dt.datetime(2026, 11, 16, tzinfo=dt.UTC) and w.until == dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    assert str(w.previous) == "2026-W46" and str(IsoWeek.parse("2027w1").previous) == "2026-W53"
    assert IsoWeek.of(dt.date(2027, 1, 1)) == IsoWeek(2026, 53)
    for bad in ("2026-47", "2025-W53", "W47"):
        with pytest.raises(ValueError):
            IsoWeek.parse(bad)


def test_latest_week_rule():
    # the week of the last day with events, whatever weekday that is
    friday, sunday, monday = dt.date(2026, 10, 30), dt.date(2026, 11, 1), dt.date(2026, 11, 2)
    assert str(latest_week(friday)) == "2026-W44" and str(latest_week(sunday)) == "2026-W44"
    assert str(latest_week(monday)) == "2026-W45"
    # the samples' data ends on Monday 2026-08-03: W32, not the empty W31 before it
    assert str(latest_week(dt.date(2026, 8, 3))) == "2026-W32"


def test_default_week_is_the_latest_week_with_events(wh, week):
    from tracelab.catalog import connect

    con = connect(wh)
    try:
        w, first, last = resolve_week(con, None)
        # the generated corpus ends inside the planted (last) week: that is the default
        assert IsoWeek.of(last) == week and w == week and first <= w.start
        assert resolve_week(con, "2026-W40")[0] == IsoWeek(2026, 40)
        with pytest.raises(ReportDataError, match="ISO week"):
            resolve_week(con, "next week")
    finally:
        con.close()


# ------------------------------------------------------------------------------ numbers vs truth


def test_tool_error_counts_equal_truth_for_both_weeks(data, truth, week):
    cur, prev = _truth_tool_counts(truth, week), _truth_tool_counts(truth, week.previous)
    got_cur = {(r["agent"], r["model"], r["tool_name"]): (r["completed"], r["errors"]) for r in data.error_changes.to_dicts() if r["completed"]}
    got_prev = {
        (r["agent"], r["model"], r["tool_name"]): (r["previous_completed"], r["previous_errors"])
        for r in data.error_changes.to_dicts()
        if r["previous_completed"]
    }
    assert got_cur == cur
    assert got_prev == prev
    overall = data.overall_error.row(0, named=True)
    assert (overall["completed"], overall["errors"]) == tuple(map(sum, zip(*cur.values())))


def test_planted_regression_shows_the_jump_and_is_flagged(data, planted):
    key = (planted["agent"], planted["model"], planted["tool"])
    rows = {(r["agent"], r["model"], r["tool_name"]): r for r in data.error_changes.to_dicts()}
    r = rows[key]
    realised = planted["realized"]["last_week"]
    assert (r["completed"], r["errors"]) == (realised["completed"], realised["errors"])
    assert r["error_rate"] == pytest.approx(realised["rate"], abs=1e-6)
    assert r["ci_low"] < r["error_rate"] < r["ci_high"]
    assert r["previous_ci_high"] < r["ci_low"]  # the intervals do not even overlap
    th = data.thresholds.tool_error_rate
    assert r["delta_pp"] >= th.min_increase_pp and r["p_adjusted"] < th.alpha and r["tested"]
    assert r["regression"] is True
    flagged = data.error_changes.filter(pl.col("regression"))
    assert key in {(f["agent"], f["model"], f["tool_name"]) for f in flagged.to_dicts()}
    for f in flagged.to_dicts():  # every flag meets every threshold
        assert f["delta_pp"] >= th.min_increase_pp and f["p_adjusted"] < th.alpha
        assert f["completed"] >= th.min_calls and f["previous_completed"] >= th.min_calls_previous
    assert any(key[2] in g.text and key[1] in g.text for g in sections.regressions_of(data))


def test_no_flag_for_the_planted_pair_the_week_before(wh, planted, week):
    before = assemble(wh, week.previous)
    row = before.error_changes.filter((pl.col("model") == planted["model"]) & (pl.col("tool_name") == planted["tool"]) & (pl.col("agent") == planted["agent"]))
    assert row.height == 1 and row.get_column("regression").to_list() == [False]


def test_thresholds_decide_the_flag(wh, week, planted):
    jump = 100 * (planted["realized"]["last_week"]["rate"])
    strict = assemble(wh, week, load_thresholds(tool_error_rate__min_increase_pp=jump + 1))
    assert strict.error_changes.filter(pl.col("regression")).height == 0
    too_few = assemble(wh, week, load_thresholds(tool_error_rate__min_calls=planted["realized"]["last_week"]["completed"] + 1))
    key = (pl.col("model") == planted["model"]) & (pl.col("tool_name") == planted["tool"])
    row = too_few.error_changes.filter(key).row(0, named=True)
    assert row["tested"] is False and row["p_adjusted"] is None and row["regression"] is False


def test_multiple_testing_adjustment(data, wh, week):
    tested = data.error_changes.filter(pl.col("tested")).sort("p_value")
    m = tested.height
    assert m >= 5
    p = tested.get_column("p_value").to_list()
    # Benjamini-Hochberg by hand
    bh = [min(1.0, min(p[j] * m / (j + 1) for j in range(i, m))) for i in range(m)]
    assert tested.get_column("p_adjusted").to_list() == pytest.approx(bh)
    holm = assemble(wh, week, load_thresholds(tool_error_rate__correction="holm")).error_changes.filter(pl.col("tested")).sort("p_value")
    expect = []
    for i in range(m):
        expect.append(max([min(1.0, (m - j) * p[j]) for j in range(i + 1)]))
    assert holm.get_column("p_adjusted").to_list() == pytest.approx(expect)
    raw = assemble(wh, week, load_thresholds(tool_error_rate__correction="none")).error_changes.filter(pl.col("tested")).sort("p_value")
    assert raw.get_column("p_adjusted").to_list() == pytest.approx(p)
    assert all(a <= b + 1e-12 for a, b in zip(raw.get_column("p_adjusted"), holm.get_column("p_adjusted")))


def test_kpis_equal_truth_and_raw_tables(data, truth, week, wh):
    from tracelab.catalog import connect

    cur = data.kpi("current")
    tokens = calls = 0
    for a in truth["agents"].values():
        for day, models in a["tokens"]["canonical"].items():
            if week.start.isoformat() <= day <= week.end.isoformat():
                for v in models.values():
                    tokens += v["input_tokens"] + v["output_tokens"] + v["cache_read_tokens"] + v["cache_write_tokens"]
                    calls += v["llm_calls"]
    assert (cur["total_tokens"], cur["llm_calls"]) == (tokens, calls)
    con = connect(wh)
    try:
        lat = con.sql(
            "SELECT latency_ms FROM llm_calls WHERE ts >= $s AND ts < $u AND NOT is_synthetic AND latency_ms IS NOT NULL",
            params={"s": week.since, "u": week.until},
        ).pl()
        sessions = con.execute(
            "SELECT count(*) FROM sessions WHERE started_at >= $s AND started_at < $u AND NOT is_subagent AND NOT coalesce(is_warmup, false)",
            {"s": week.since, "u": week.until},
        ).fetchone()[0]
    finally:
        con.close()
    assert cur["llm_p50_ms"] == pytest.approx(lat.get_column("latency_ms").quantile(0.5, interpolation="linear"))
    assert cur["llm_p95_ms"] == pytest.approx(lat.get_column("latency_ms").quantile(0.95, interpolation="linear"))
    assert cur["sessions"] == sessions > 0
    assert cur["cost_usd"] > 0 and cur["unpriced_calls"] == 0


def test_latency_test_matches_pairwise_mann_whitney(data, wh, week):
    """The SQL mid-rank U statistic equals the definition: count of pairs (x > y) + ties / 2."""
    import math

    from tracelab.catalog import connect

    row = data.llm_latency.filter(pl.col("tested")).row(0, named=True)
    con = connect(wh)
    try:
        vals = con.execute(
            "SELECT ts >= $s AS cur, latency_ms FROM llm_calls WHERE agent = $a AND model = $m AND ts >= $p AND ts < $u "
            "AND NOT is_synthetic AND latency_ms IS NOT NULL",
            {"s": week.since, "p": week.previous.since, "u": week.until, "a": row["agent"], "m": row["group_key"]},
        ).fetchall()
    finally:
        con.close()
    x = [v for c, v in vals if c]
    y = [v for c, v in vals if not c]
    assert (len(x), len(y)) == (row["n"], row["previous_n"])
    u = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in x for b in y)
    z = (u - len(x) * len(y) / 2) / math.sqrt(len(x) * len(y) * (len(x) + len(y) + 1) / 12)
    assert row["p_value"] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-5)


def test_data_quality_equals_truth(data, truth):
    rejects = dict(data.rejects.group_by("agent").agg(pl.col("lines").sum()).iter_rows())
    assert rejects == {a: t["malformed"]["count"] for a, t in truth["agents"].items() if t["malformed"]["count"]}
    files = dict(data.parser_versions.group_by("agent").agg(pl.col("files").sum()).iter_rows())
    assert files == {a: t["files"] for a, t in truth["agents"].items()}
    assert set(data.parser_versions.get_column("schema_version").to_list()) == {1}
    assert data.unknown_types.height == 0  # the generator writes only known line types


def test_failure_cluster_of_the_planted_errors_is_growing(data, wh, week, planted):
    from tracelab.failures import api as F

    m = F.members(wh, since=week.since, until=week.until, agent=planted["agent"], model=planted["model"], tool=planted["tool"], family="tool_error")
    top_cluster = m.group_by("cluster_id").len().sort(["len", "cluster_id"], descending=[True, False]).row(0)[0]
    row = data.clusters.filter(pl.col("cluster_id") == top_cluster).row(0, named=True)
    assert row["is_growing"] and row["n_current"] >= data.thresholds.failures.growth * row["n_previous"]
    assert row["trend"] == "growing" and not row["is_new"]
    assert set(data.clusters.get_column("trend").to_list()) <= set(F.TRENDS)
    report = sections.build(data)
    failures = next(s for s in report.sections if s.id == "failures")
    growing = next(t for t in failures.tables if t.id == "growing-clusters")
    assert top_cluster in [r[0] for r in growing.rows]
    # the trend chart covers the report week and earlier weeks only
    periods = set(data.cluster_weekly.get_column("period").to_list())
    assert max(periods) == week.start and all(p.weekday() == 0 for p in periods)


# ------------------------------------------------------------------------------ thresholds


def test_threshold_files_and_overrides(tmp_path):
    d = defaults()
    (tmp_path / "t.toml").write_text("[tool_error_rate]\nmin_increase_pp = 2.5\n")
    (tmp_path / "t.yaml").write_text("latency:\n  min_samples: 5\n  correction: holm\n")
    t = load_thresholds(tmp_path / "t.toml", tool_error_rate__alpha=0.01)
    assert (t.tool_error_rate.min_increase_pp, t.tool_error_rate.alpha, t.tool_error_rate.min_calls) == (2.5, 0.01, d.tool_error_rate.min_calls)
    y = load_thresholds(tmp_path / "t.yaml")
    assert (y.latency.min_samples, y.latency.correction, y.latency.min_increase_pct) == (5, "holm", d.latency.min_increase_pct)
    for text, msg in (
        ("[tool_error_rate]\nmin_increse_pp = 1\n", "unknown key"),
        ("[latency]\nmin_samples = 2.5\n", "integer"),
        ("[tool_error_rate]\ncorrection = 'bonferroni'\n", "bh, holm, none"),
        ("[tool_error_rate]\nalpha = 1.5\n", "alpha"),
        ("[alerts]\nx = 1\n", "unknown section"),
    ):
        (tmp_path / "bad.toml").write_text(text)
        with pytest.raises(ThresholdsError, match=msg):
            load_thresholds(tmp_path / "bad.toml")
    with pytest.raises(ThresholdsError, match="toml"):
        (tmp_path / "t.ini").write_text("")
        load_thresholds(tmp_path / "t.ini")


# ------------------------------------------------------------------------------ rendering


def test_report_queries_have_valid_headers():
    from tracelab import library as Q

    names = report_query_names()
    assert {
        "report_kpis",
        "report_error_rate_changes",
        "report_latency_changes",
        "report_model_comparison",
        "report_rejects",
        "report_unknown_types",
        "report_parser_versions",
    } <= set(names)
    for n in names:
        q = report_query(n)
        assert q.description and q.returns
        assert Q.referenced_params(q.sql) == set(q.param_names), n


def test_kpi_card_and_flagged_row_components():
    """Component snapshots (great-tables style): one KPI card and one table, exact HTML."""
    kpi = sections.Kpi("Tool-error rate", "43.8%", "3.6%", "+40.1 pp", "bad", flagged=True, note="14 of 32")
    table = sections.Table("t", "Caption & more", ["Tool", "Rate"], [["Edit", "43.8%"], ["Read", "<1%"]], ["l", "r"], flagged=[True, False])
    report = sections.Report(
        title="T",
        week="2026-W44",
        span="s",
        previous="2026-W43",
        generated_at="g",
        warehouse="w",
        data_span="d",
        thresholds=defaults().to_dict(),
        regressions=[],
        sections=[sections.Section("summary", "Headline", kpis=[kpi], tables=[table])],
    )
    html = render.render_html(report, svgs={})
    card = re.search(r'<div class="kpi flagged">.*?</div>\s*</div>', html, re.S).group(0)
    assert re.sub(r"\s+", " ", card) == (
        '<div class="kpi flagged"> <div class="kpi-label">Tool-error rate <span class="badge">regression</span></div> '
        '<div class="kpi-value">43.8%</div> <div class="kpi-delta bad">+40.1 pp <span class="prev">vs 3.6%</span></div>'
        '<div class="kpi-note">14 of 32</div> </div>'
    )
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    assert [re.sub(r"\s+", " ", line.strip()) for line in body.strip().splitlines()] == [
        '<tr class="regression"><td class="l">Edit</td><td class="r">43.8%</td><td class="flag"><span class="badge">regression</span></td></tr>',
        '<tr><td class="r">Read</td><td class="r">&lt;1%</td></tr>'.replace('<td class="r">Read', '<td class="l">Read'),
    ]
    assert "<caption>Caption &amp; more</caption>" in html
    md = render.render_markdown(report, {})
    assert "| Edit | 43.8% | **REGRESSION** |" in md and "| Read | <1% |  |" in md


def test_formatting():
    assert (fmt.pct(0.1234), fmt.pp(4.04), fmt.change_pct(-3.33), fmt.change_pct(250.0)) == ("12.3%", "+4.0 pp", "-3.3%", "+250%")
    assert (fmt.ms(850), fmt.ms(4270), fmt.ms(15_500), fmt.ms(150_000)) == ("850 ms", "4.27 s", "15.5 s", "2.5 min")
    assert (fmt.si(72_975_659), fmt.si(950), fmt.usd(1234.5), fmt.usd(0.0312), fmt.usd(0.00241)) == ("73.0M", "950", "$1,234", "$0.031", "$0.0024")
    assert (fmt.pvalue(0.0004), fmt.p_is(0.0004), fmt.p_is(0.25), fmt.rate_ci(0.1, 0.05, 0.2)) == ("<0.001", "p < 0.001", "p = 0.250", "10.0% [5.0–20.0]")
    assert fmt.integer(None) == fmt.pct(float("nan")) == fmt.DASH
    # changes from tiny bases or beyond the bound are not shown as numbers
    assert fmt.change_pct_n(256320.0, 2, 3) == fmt.change_pct_n(12.0, 9, 50) == fmt.change_pct_n(900.0, 40, 50) == "n too small"
    assert fmt.change_pct_n(12.0, 40, 50) == "+12%" and fmt.change_pct_n(None, 40, 50) == fmt.DASH
    assert render.md_escape("a|b <x> *y*") == "a\\|b \\<x> \\*y\\*"
    # no HTML entities: a comparison stays readable as plain text, a leading > is no block quote
    assert render.md_escape("p < 0.05, <1%") == "p < 0.05, <1%" and render.md_escape("> 5") == "\\> 5"


def test_written_html_holds_every_section_and_the_flag(written, planted, week):
    html = written["html"].read_text()
    assert written["html"].name == f"weekly-{week}.html"
    for sid in SECTION_IDS:
        assert f'id="{sid}" class="report-section"' in html
    assert html.count("<svg") >= 6
    assert "<script" not in html and "<link" not in html
    assert "default-src 'none'" in html
    # nothing to fetch: every URL is an XML namespace
    assert {u for u in re.findall(r"https?://[^\s\"'<>)]+", html)} <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    callout = re.search(r'<section id="regressions".*?</section>', html, re.S).group(0)
    assert 'class="callout alert"' in callout and planted["tool"] in callout and planted["model"] in callout
    flagged_rows = re.findall(r'<tr class="regression">(.*?)</tr>', html)
    assert any(f">{planted['tool']}<" in r and f">{planted['model']}<" in r for r in flagged_rows)


def test_written_markdown_links_existing_images(written, planted):
    md_path = written["md"]
    md = md_path.read_text()
    assert "## ⚠" in md and "**REGRESSION**" in md
    assert any(planted["tool"] in line and "**REGRESSION**" in line for line in md.splitlines() if line.startswith("|"))
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(images) >= 6
    for rel in images:
        p = md_path.parent / rel
        assert p.is_file() and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for heading in (
        "## Headline",
        "## Tool error rates",
        "## Latency percentiles",
        "## Tokens and cost by model",
        "## Failure clusters",
        "## Model comparison",
        "## Data quality",
    ):
        assert heading in md


def test_write_weekly_report_entry_point(wh, week, tmp_path):
    paths = write_weekly_report(wh, tmp_path, week=str(week), formats=("md",), md_images="svg")
    assert list(paths) == ["md"] and paths["md"].exists()
    assert sorted(p.suffix for p in (tmp_path / f"weekly-{week}_files").iterdir()) == [".svg"] * len(list((tmp_path / f"weekly-{week}_files").iterdir()))
    with pytest.raises(ValueError, match="formats"):
        write_weekly_report(wh, tmp_path, week=str(week), formats="pdf")


def test_warehouse_without_events_is_a_clear_error(tmp_path):
    from tracelab.catalog import CatalogError
    from tracelab.pipeline import ingest

    with pytest.raises(CatalogError, match="no tracelab warehouse"):
        assemble(tmp_path / "missing")
    src = tmp_path / "a.jsonl"
    src.write_text('not json\n{"type":"summary","summary":"no timestamp"}\n')
    ingest([str(src)], tmp_path / "wh", agent="claude")
    with pytest.raises(ReportDataError, match="no timestamped events"):
        assemble(tmp_path / "wh")


# ------------------------------------------------------------------------------ CLI


def test_cli_report_weekly_json_and_exit_code(wh, week, planted, tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        cli, ["report", "weekly", "-w", str(wh), "--week", str(week), "--out", str(tmp_path), "--format", "html", "--json", "--fail-on-regression"]
    )
    assert res.exit_code == 3, res.output
    out = json.loads(res.stdout)  # stderr may carry a warning (the corpus ends inside its last week)
    assert out["week"] == str(week) and list(out["files"]) == ["html"] and Path(out["files"]["html"]).is_file()
    assert any(planted["tool"] in r["text"] and r["section"] == "tool-errors" for r in out["regressions"])
    res = runner.invoke(
        cli, ["report", "weekly", "-w", str(wh), "--week", str(week), "--out", str(tmp_path), "-f", "html", "--min-increase-pp", "99", "--fail-on-regression"]
    )
    assert res.exit_code == 0 and "no regressions flagged" in res.output
    res = runner.invoke(cli, ["report", "weekly", "-w", str(wh), "--week", "2026-W99", "--out", str(tmp_path)])
    assert res.exit_code != 0 and "no ISO week 99" in res.output


def test_cli_chart(wh, week, tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        cli, ["chart", "tool-error-rates", "-w", str(wh), "--agent", "claude", "--since", str(week.start), "--out", str(tmp_path / "e.svg"), "--json"]
    )
    assert res.exit_code == 0, res.output
    svg = (tmp_path / "e.svg").read_text()
    assert "Edit (claude)" in svg and "(codex)" not in svg  # the filter reached the query
    res = runner.invoke(cli, ["chart", "model-scorecard", "-w", str(wh), "--out", str(tmp_path / "s.png")])
    assert res.exit_code == 0 and (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    res = runner.invoke(cli, ["chart", "nope", "-w", str(wh), "--out", str(tmp_path / "x.svg")])
    assert res.exit_code == 2 and "tool-error-rates" in res.output
    res = runner.invoke(cli, ["chart", "tokens", "-w", str(wh), "--out", str(tmp_path / "x.gif")])
    assert res.exit_code != 0 and ".svg" in res.output
    res = runner.invoke(cli, ["chart", "tokens", "-w", str(wh), "--agent", "nobody", "--out", str(tmp_path / "x.svg")])
    assert res.exit_code == 2 and "'nobody' is not one of 'claude', 'codex', 'pi'" in res.output
    assert not (tmp_path / "x.svg").exists()
    listing = json.loads(runner.invoke(cli, ["chart", "--list", "--json"]).output)
    assert {c["name"] for c in listing} >= {"tool-error-rates", "latency-ecdf", "latency-box", "tokens", "cost", "failure-trends", "model-scorecard"}


# ------------------------------------------------------------------------------ browser


def _chromium() -> str | None:
    """Chromium if installed (CI installs the Debian ``chromium`` package); the suite installs nothing."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class _RequestRecorder:
    """A TCP listener used as Chromium's proxy: any request the page makes (http, https, ws)
    reaches it, and the first line of each is recorded."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.requests.append(conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1"))
                except OSError:
                    self.requests.append("(connection without request line)")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


#: Chromium's own service traffic (network time, sign-in and search preconnects) that appears
#: even for a blank page; it is measured in a baseline run and told apart from page requests.
_BROWSER_SERVICE_HOSTS = re.compile(r"(^|\.)(google\.com|googleapis\.com|gstatic\.com|gvt1\.com|googleusercontent\.com)$")


def _host(request_line: str) -> str:
    target = request_line.split(" ")[1] if " " in request_line else request_line
    target = re.sub(r"^[a-z]+://", "", target)
    return target.split("/", 1)[0].rsplit(":", 1)[0]


def _run_chromium(exe: str, url: str, profile: Path, *extra: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    recorder = _RequestRecorder()
    args = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        "--enable-logging=stderr",
        "--v=0",
        "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
        f"--proxy-server=http://127.0.0.1:{recorder.port}",
        "--proxy-bypass-list=<-loopback>",
        "--virtual-time-budget=5000",
        "--window-size=1300,2400",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *extra,
        url,
    ]
    try:
        run = subprocess.run(args, capture_output=True, text=True, timeout=120)
    finally:
        recorder.close()
    return run, recorder.requests


@pytest.mark.peer
def test_html_renders_in_headless_chromium_offline(written, tmp_path):
    """Every section renders, nothing is logged to the console, and the page requests nothing:
    all traffic goes to a recording proxy, and the report run may show no host beyond the
    browser's own service endpoints that a blank page also contacts."""
    exe = _chromium()
    if exe is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium)")
    html_path = written["html"]
    shot = html_path.parent / "weekly-report.png"
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><title>blank</title><p>baseline</p>")
    _, baseline = _run_chromium(exe, blank.as_uri(), tmp_path / "p0", "--dump-dom")
    dom, dom_requests = _run_chromium(exe, html_path.as_uri(), tmp_path / "p1", "--dump-dom")
    snap, snap_requests = _run_chromium(exe, html_path.as_uri(), tmp_path / "p2", f"--screenshot={shot}")
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = dom.stdout
    for sid in SECTION_IDS:
        assert re.search(rf'<section id="{sid}" class="report-section"[^>]*>\s*<h2>', rendered), sid
    assert rendered.count("<svg") >= 6
    for run in (dom, snap):
        console = [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
        assert console == [], console
        assert "Refused to" not in run.stderr  # a CSP violation means the page tried to load something
    service = {_host(r) for r in baseline} | {h for h in map(_host, dom_requests + snap_requests) if _BROWSER_SERVICE_HOSTS.search(h)}
    page_requests = [r for r in dom_requests + snap_requests if _host(r) not in service]
    assert page_requests == []
    assert snap.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_exemplars_link_to_their_step_on_a_session_page_beside_the_report(data, written):
    """Every exemplar of a listed cluster links (HTML and Markdown) to sessions/NAME.html#step-N
    beside the report; the page exists, is the exemplar's session, and step N there is the step
    that shows the exemplar's event (its tool call, or the step at its time)."""
    from tracelab.reports.data import listed_exemplars
    from tracelab.session.locate import locate_steps
    from tracelab.store.connection import Store

    shown = listed_exemplars(data.exemplars, data.clusters, data.thresholds.failures)
    assert shown.height > 0
    html = written["html"].read_text()
    md = written["md"].read_text()
    with Store(data.warehouse) as store:
        where = locate_steps(store.con, shown["event_key"].to_list())
    assert set(data.session_links) == set(where) and len(where) >= min(shown.height, 2)
    for event_key, href in data.session_links.items():
        session_key, step = where[event_key]
        name, anchor = href.split("#")
        assert anchor == f"step-{step}" and name.startswith("sessions/")
        page = written["html"].parent / name
        assert page.is_file(), page
        text = page.read_text()
        assert f'id="step-{step}"' in text and session_key.split(":", 1)[-1] in text
        assert f'<a href="{href}">step {step}</a>' in html
        assert f"[step {step}]({href})" in md
