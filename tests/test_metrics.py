"""Metrics: statistics against known values, the Polars twins against the named SQL, the
cross-model comparison, prices and the ccusage-shaped usage report.

Where a metric exists both as SQL (queries/) and as a Python/Polars function
(tracelab.metrics), a test here runs both on the same warehouse and asserts they agree.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import polars as pl
import pytest
from test_queries import SAMPLES, build_samples_wh, build_synth

import tracelab.library as Q
from tracelab import pricing
from tracelab.catalog import connect
from tracelab.metrics import compare, latency, scan, sessions, stats, tokens, tool_errors
from tracelab.metrics.usage import usage_report


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    wh, truth = build_synth(tmp_path_factory)
    con = connect(wh)
    yield con, wh, truth
    con.close()


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    wh = build_samples_wh(tmp_path_factory)
    con = connect(wh)
    yield con, wh
    con.close()


def assert_frames_equal(sql: pl.DataFrame, py: pl.DataFrame, keys: list[str], rel: float = 1e-9) -> None:
    """Same rows (matched on ``keys``, nulls equal) and the same values in every shared column."""
    assert sql.height == py.height, (sql.height, py.height)

    def norm(df: pl.DataFrame) -> pl.DataFrame:  # DuckDB gives us, Parquet-backed Polars ms
        return df.with_columns([pl.col(c).cast(pl.Datetime("us", "UTC")) for c, t in df.schema.items() if isinstance(t, pl.Datetime)])

    sql, py = norm(sql), norm(py)
    cols = [c for c in sql.columns if c in py.columns and c not in keys]
    j = sql.join(py, on=keys, how="full", nulls_equal=True, suffix="__py", coalesce=True)
    assert j.height == sql.height
    for c in cols:
        a, b = j[c].to_list(), j[f"{c}__py"].to_list()
        for x, y in zip(a, b):
            if isinstance(x, float) or isinstance(y, float):
                assert (x is None) == (y is None) and (x is None or math.isclose(x, y, rel_tol=rel, abs_tol=1e-12)), (c, x, y)
            else:
                assert x == y, (c, x, y)


# --------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------


def test_wilson_known_values():
    lo, hi = stats.wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.277533, abs=1e-6)
    lo, hi = stats.wilson_interval(5, 10)
    assert (lo, hi) == (pytest.approx(0.236593, abs=1e-6), pytest.approx(0.763407, abs=1e-6))
    assert stats.wilson_interval(10, 10)[1] == 1.0
    assert stats.wilson_interval(0, 0) == (None, None)


def test_two_proportion_z_and_fisher_known_values():
    z, p = stats.two_proportion_z(10, 100, 20, 100)
    # pooled p = 0.15, se = sqrt(.15 * .85 * .02) = 0.0504975; z = -0.1 / se
    assert z == pytest.approx(-1.980295, abs=1e-6) and p == pytest.approx(0.047670, abs=1e-6)
    assert stats.two_proportion_z(0, 5, 0, 7) == (None, 1.0)
    # Fisher's tea-tasting table [[3, 1], [1, 3]]: two-sided p = 34/70
    assert stats.fisher_exact(3, 4, 1, 4) == pytest.approx(34 / 70, abs=1e-12)
    # [[1, 9], [11, 3]]: the textbook example, two-sided p = 0.002759
    assert stats.fisher_exact(1, 10, 11, 14) == pytest.approx(0.0027595, abs=1e-6)


def test_mann_whitney_known_values():
    u, z, p = stats.mann_whitney_u([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    # complete separation, n1 = n2 = 5: z = (0 - 12.5 + 0.5) / sqrt(25 * 11 / 12)
    assert u == 0.0 and z == pytest.approx(-12 / math.sqrt(25 * 11 / 12)) and p == pytest.approx(0.0121858, abs=1e-6)
    # ties: average ranks and the tie-corrected variance
    # pooled ranks 1, 3, 3, 3, 6, 6, 6, 8 -> R_x = 13, U = 3; tie term 2 * (27 - 3) = 48
    u, z, p = stats.mann_whitney_u([1, 2, 2, 3], [2, 3, 3, 4])
    assert u == 3.0 and z == pytest.approx(-4.5 / math.sqrt(16 / 12 * (9 - 48 / 56)))
    assert stats.mann_whitney_u([1, 1], [1, 1]) == (2.0, None, 1.0)


def test_bootstrap_is_seeded_and_covers_the_median():
    rng = np.random.default_rng(1)
    x = rng.lognormal(8, 0.5, 400)
    a = stats.bootstrap_median_ci(x, seed=3)
    assert a == stats.bootstrap_median_ci(x, seed=3)
    assert a[0] < np.median(x) < a[1]
    y = x * 1.5
    d, lo, hi, p = stats.bootstrap_median_diff(y, x)
    assert lo < d < hi and lo > 0 and p < 0.01


def test_sql_statistics_macros_agree_with_python(synth):
    con = synth[0]
    grid = [(k, n) for n in (1, 2, 7, 30, 333) for k in sorted({0, 1, n // 3, n - 1, n}) if 0 <= k <= n]
    for k, n in grid:
        lo, hi = con.execute("SELECT tl_wilson_lo($k, $n), tl_wilson_hi($k, $n)", {"k": k, "n": n}).fetchall()[0]
        plo, phi = stats.wilson_interval(k, n)
        assert lo == pytest.approx(plo, abs=1e-12) and hi == pytest.approx(phi, abs=1e-12), (k, n)
    for z in (0.0, 0.3, -1.0, 1.959963984540054, 2.5, -3.3, 5.0, 8.0):
        (p,) = con.execute("SELECT tl_p_two_sided($z)", {"z": z}).fetchall()[0]
        assert p == pytest.approx(stats.p_two_sided(z), rel=2e-7, abs=1e-12), z
    (note,) = con.execute("SELECT tl_sample_note()").fetchall()[0]
    assert note == stats.SAMPLE_NOTE


# --------------------------------------------------------------------------------------
# Polars twins == named SQL
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["all", "week"])
def test_error_rates_polars_equals_sql(synth, period):
    con, wh, _ = synth
    sql = Q.run("tool_error_rates", con, period=period)
    py = tool_errors.error_rates(scan("tool_calls", wh), period=period)
    assert_frames_equal(sql, py, ["period_start", "agent", "model", "tool_name"])


def test_retries_and_exit_codes_polars_equal_sql(synth, samples):
    for con, wh in ((synth[0], synth[1]), samples):
        tc = scan("tool_calls", wh)
        assert_frames_equal(Q.run("tool_retries", con), tool_errors.retry_after_error(tc), ["agent", "model", "tool_name"])
        assert_frames_equal(Q.run("shell_exit_codes", con), tool_errors.exit_codes(tc), ["agent", "tool_name", "exit_code"])


def test_latency_percentiles_polars_equal_sql(synth, samples):
    for con, wh in ((synth[0], synth[1]), samples):
        llm = scan("llm_calls", wh).filter(~pl.col("is_synthetic"))
        tool = scan("tool_calls", wh).filter(pl.col("status").is_in(["ok", "error"]))
        turns = latency.turns(scan("events", wh), scan("llm_calls", wh), scan("tool_calls", wh))
        cases = [
            ("llm", "model", llm, "latency_ms", ["agent", "model"]),
            ("tool", "model,tool", tool, "latency_ms", ["agent", "model", "tool_name"]),
            ("turn", "model", turns, "duration_ms", ["agent", "model"]),
            ("human_wait", "none", turns, "human_wait_ms", ["agent"]),
        ]
        for metric, by, frame, value, keys in cases:
            sql = Q.run("latency_percentiles", con, metric=metric, by=by).drop("metric")
            sql = sql.select([c for c in sql.columns if c in keys or c not in ("model", "tool_name", "project")])
            py = latency.percentiles(frame, value=value, by=keys)
            assert_frames_equal(sql, py, keys)


def test_histogram_and_ecdf_polars_equal_sql(synth):
    con, wh, _ = synth
    tool = scan("tool_calls", wh).filter(pl.col("status").is_in(["ok", "error"]))
    for log_scale in (True, False):
        sql = Q.run("latency_histogram", con, metric="tool", by="model", bins=25, log_scale=log_scale)
        py = latency.histogram(tool, by=["agent", "model"], bins=25, log_scale=log_scale)
        assert_frames_equal(sql.drop("metric", "tool_name", "project"), py, ["agent", "model", "bin"])
    sql = Q.run("latency_ecdf", con, metric="tool", by="model", points=40)
    py = latency.ecdf(tool, by=["agent", "model"], points=40)
    assert_frames_equal(sql.drop("metric", "tool_name", "project"), py, ["agent", "model", "value_ms"])
    assert sql.group_by("agent", "model").len()["len"].max() <= 40
    assert (sql.group_by("agent", "model").agg(pl.col("ecdf").max())["ecdf"] == 1.0).all()


def test_turns_polars_equal_sql(synth, samples):
    for con, wh in ((synth[0], synth[1]), samples):
        sql = con.sql("SELECT * FROM tl_turns(NULL, NULL, NULL, NULL, NULL, NULL)").pl()
        py = latency.turns(scan("events", wh), scan("llm_calls", wh), scan("tool_calls", wh))
        assert_frames_equal(sql.drop("project", "is_subagent"), py, ["session_key", "turn_no"])
    # every generated turn has a prompt and an answer
    assert py.height > 0


def test_token_totals_and_cost_polars_equal_sql(synth, samples):
    for con, wh in ((synth[0], synth[1]), samples):
        for period in ("day", "all"):
            sql = Q.run("token_usage", con, period=period).drop("cost_usd_reported")
            py = tokens.token_totals(tokens.with_cost(scan("llm_calls", wh)), period=period)
            assert_frames_equal(sql, py, ["period_start", "agent", "model"])


def test_loops_polars_equal_sql(synth, samples):
    for con, wh in ((synth[0], synth[1]), samples):
        sql = Q.run("tool_loops", con)
        py = sessions.loops(scan("tool_calls", wh)).with_columns(pl.col("input_json").str.slice(0, 200).alias("input_preview"))
        assert_frames_equal(sql, py.drop("run_id", "input_json", "any_interrupted"), ["session_key", "first_at"])


# --------------------------------------------------------------------------------------
# cross-model comparison
# --------------------------------------------------------------------------------------


def test_compare_tool_errors_sql_equals_python(synth):
    con = synth[0]
    sql = Q.run("compare_tool_errors", con, by="agent")
    py = compare.compare_models("tool_error", con=con, by="agent", test="z")
    assert sql.height == py.height == 9
    for r in sql.iter_rows(named=True):
        p = py.filter((pl.col("stratum") == r["stratum"]) & (pl.col("model_a") == r["model_a"]) & (pl.col("model_b") == r["model_b"]))
        assert p.height == 1
        assert (p["n_a"][0], p["n_b"][0]) == (r["completed_a"], r["completed_b"])
        assert p["value_a"][0] == pytest.approx(r["rate_a"]) and p["value_a_lo"][0] == pytest.approx(r["rate_a_lo"])
        assert p["statistic"][0] == pytest.approx(r["z"], rel=1e-12)
        assert p["p_value"][0] == pytest.approx(r["p_value"], rel=2e-7, abs=1e-15)
        assert p["diff_lo"][0] < p["diff"][0] < p["diff_hi"][0]
    assert all(stats.SAMPLE_NOTE == n for n in sql["note"]) and all(stats.SAMPLE_NOTE == n for n in py["note"])


def test_compare_latency_sql_equals_python(synth):
    con = synth[0]
    models = ["claude-opus-4-5", "claude-sonnet-4-5", "gpt-5.1-codex"]
    sql = Q.run("compare_latency", con, metric="llm", agent="pi", models=models)
    assert [(r["model_a"], r["model_b"]) for r in sql.iter_rows(named=True)] == [
        (models[0], models[1]),
        (models[0], models[2]),
        (models[1], models[2]),
    ]  # caller's order
    samples_ = Q.run("metric_samples", con, metric="llm", agent="pi")
    for r in sql.iter_rows(named=True):
        a = samples_.filter(pl.col("model") == r["model_a"])["value"].to_numpy()
        b = samples_.filter(pl.col("model") == r["model_b"])["value"].to_numpy()
        u, z, p = stats.mann_whitney_u(a, b)
        assert (r["n_a"], r["n_b"]) == (len(a), len(b))
        assert r["median_a_ms"] == np.median(a)
        assert r["u_statistic"] == pytest.approx(u) and r["z"] == pytest.approx(z, rel=1e-9)
        assert r["p_value"] == pytest.approx(p, rel=2e-7, abs=1e-300)
    py = compare.compare_models("llm", con=con, agent="pi", models=models)
    assert py["statistic"].to_list() == pytest.approx(sql["z"].to_list(), rel=1e-9)


def test_compare_picks_fisher_for_small_counts_and_stratifies():
    df = pl.DataFrame(
        {
            "model": ["a"] * 6 + ["b"] * 8 + ["a"] * 100 + ["b"] * 100,
            "tool_name": ["T"] * 14 + ["U"] * 200,
            "value": [1, 1, 1, 0, 0, 0] + [0] * 7 + [1] + [1] * 20 + [0] * 80 + [1] * 35 + [0] * 65,
        }
    ).with_columns(pl.col("value").cast(pl.Float64))
    out = compare.compare_samples(df, "proportion", stratum="tool_name", models=["b", "a"])
    t = out.filter(pl.col("stratum") == "T").row(0, named=True)
    assert (t["model_a"], t["model_b"], t["n_a"], t["n_b"]) == ("b", "a", 8, 6)
    assert t["test"].startswith("Fisher") and t["p_value"] == pytest.approx(stats.fisher_exact(1, 8, 3, 6))
    u = out.filter(pl.col("stratum") == "U").row(0, named=True)
    assert u["test"].startswith("two-proportion z") and u["value_a"] == 0.35 and u["value_b"] == 0.20
    assert u["p_value"] == pytest.approx(stats.two_proportion_z(35, 100, 20, 100)[1])
    assert set(out["note"]) == {stats.SAMPLE_NOTE}


def test_compare_models_continuous_and_session_metrics(synth):
    con = synth[0]
    out = compare.compare_models("output_tokens", con=con, agent="claude", test="bootstrap", n_boot=300)
    assert out.height == 3 and (out["estimate"] == "median").all()
    assert (out["value_a_lo"] <= out["value_a"]).all() and (out["value_a"] <= out["value_a_hi"]).all()
    assert out["test"].unique().to_list() == ["bootstrap difference of medians"]
    ab = compare.compare_models("session_abandoned", con=con, agent="pi")
    summary = Q.run("session_summary", con, agent="pi")
    for r in ab.iter_rows(named=True):
        s = summary.filter(pl.col("primary_model") == r["model_a"])
        assert r["n_a"] == s.height and r["value_a"] == pytest.approx(s["abandoned"].mean())
    with pytest.raises(ValueError, match="unknown metric"):
        compare.compare_models("vibes", con=con)


# --------------------------------------------------------------------------------------
# prices
# --------------------------------------------------------------------------------------


def test_cost_per_call_sql_equals_python(synth, samples):
    for con in (synth[0], samples[0]):
        rows = con.execute(
            "SELECT model, ts, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, price_model "
            "FROM tl_llm_calls(NULL, NULL, NULL, NULL, NULL, NULL)"
        ).fetchall()
        assert rows
        for model, ts, i, o, cr, cw, cost, _price_model in rows:
            expected = pricing.cost_usd(model, ts, i, o, cr, cw) if ts is not None else None
            if expected is None:
                assert cost is None
            else:
                assert cost == pytest.approx(expected, rel=1e-12)


def test_prices_are_date_effective_and_unknown_is_none():
    before = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    after = dt.datetime(2025, 6, 11, tzinfo=dt.UTC)
    assert pricing.cost_usd("o3", before, 1_000_000, 0) == pytest.approx(10.0)
    assert pricing.cost_usd("o3-2025-04-16", after, 1_000_000, 0) == pytest.approx(2.0)
    assert pricing.cost_usd("o3", dt.datetime(2025, 1, 1), 1) is None  # before the first price
    assert pricing.cost_usd("claude-nonexistent-9", after, 10, 10) is None
    assert pricing.cost_usd("anthropic/Claude-Sonnet-4-5-20250929", dt.datetime(2025, 10, 1), 1_000_000, 1_000_000) == pytest.approx(18.0)
    # Claude 3 Sonnet has no cache prices: a call that read the cache cannot be priced
    assert pricing.cost_usd("claude-3-sonnet-20240229", after, 100, 100) is not None
    assert pricing.cost_usd("claude-3-sonnet-20240229", after, 100, 100, cache_read_tokens=5) is None
    assert pricing.table_version()
    keys = [r.match_key for r in pricing.load()]
    assert "claude-opus-4-5-20251101" in keys and "gpt-5.1-codex" in keys


def test_price_file_is_validated():
    good = {"version": "v", "currency": "USD", "unit": "per_million_tokens"}
    entry = {"model": "m", "price": [{"effective_from": dt.date(2025, 1, 1), "input": 1.0, "output": 2.0}]}
    assert len(pricing._parse({**good, "model": [entry]})[1]) == 1
    bad_cases = [
        {**good, "model": [entry, {**entry, "model": "n", "aliases": ["M"]}]},  # alias clashes with m
        {**good, "model": [{"model": "m", "price": [{"effective_from": dt.date(2025, 1, 1), "output": 2.0}]}]},
        {**good, "model": [{"model": "m", "price": [{"effective_from": "2025-01-01", "input": 1.0, "output": 2.0}]}]},
        {**good, "model": [{"model": "m", "price": [{"effective_from": dt.date(2025, 1, 1), "input": -1.0, "output": 2.0}]}]},
        {**good, "currency": "EUR", "model": [entry]},
    ]
    for doc in bad_cases:
        with pytest.raises(pricing.PricingError):
            pricing._parse(doc)


def test_pricing_coverage_counts_unknown_models(samples):
    con = samples[0]
    cov = Q.run("pricing_coverage", con)
    unknown = cov.filter(pl.col("price_model").is_null())
    assert unknown.height > 0 and (unknown["unpriced_calls"] == unknown["llm_calls"]).all()
    assert unknown["cost_usd"].null_count() == unknown.height
    assert cov["llm_calls"].sum() == con.execute("SELECT count(*) FROM llm_calls WHERE NOT is_synthetic").fetchall()[0][0]


# --------------------------------------------------------------------------------------
# ccusage-shaped usage report
# --------------------------------------------------------------------------------------


def test_usage_report_buckets_timezone_and_week_start(synth):
    con = synth[0]
    utc = usage_report("daily", con=con)
    la = usage_report("daily", con=con, timezone="America/Los_Angeles")
    assert utc["totals"]["totalTokens"] == la["totals"]["totalTokens"]
    assert [d["date"] for d in utc["daily"]] != [d["date"] for d in la["daily"]]
    for start, weekday in (("sunday", 6), ("monday", 0), ("thursday", 3)):
        weeks = usage_report("weekly", con=con, start_of_week=start)["weekly"]
        assert weeks and all(dt.date.fromisoformat(w["week"]).weekday() == weekday for w in weeks)
    day = utc["daily"][0]
    assert day["totalTokens"] == sum(b["inputTokens"] + b["outputTokens"] + b["cacheReadTokens"] + b["cacheCreationTokens"] for b in day["modelBreakdowns"])
    costs = [b["cost"] for b in day["modelBreakdowns"]]
    assert costs == sorted(costs, reverse=True) and day["totalCost"] == pytest.approx(sum(costs))


def test_usage_report_cost_modes(samples):
    con = samples[0]
    auto = usage_report("monthly", con=con, cost_mode="auto")
    calc = usage_report("monthly", con=con, cost_mode="calculate")
    display = usage_report("monthly", con=con, cost_mode="display")
    assert auto["totals"]["totalTokens"] == calc["totals"]["totalTokens"] == display["totals"]["totalTokens"]
    reported = con.execute("SELECT count(*) FROM llm_calls WHERE cost_usd_reported IS NOT NULL").fetchall()[0][0]
    assert reported > 0
    # a month whose calls all carry a logged cost: display == auto
    months = {m["month"]: m for m in auto["monthly"]}
    for m in display["monthly"]:
        if m["totalCost"] is not None and m["unpricedCalls"] == 0:
            assert months[m["month"]]["totalCost"] == pytest.approx(m["totalCost"])


@pytest.mark.peer
def test_usage_json_has_ccusage_shape(tmp_path):
    """Run the pinned ccusage on one real file and compare JSON shape and token numbers."""
    from tracelab.devtools import ccusage as C
    from tracelab.pipeline import ingest

    exe = C.ensure_ccusage()
    if exe is None:
        pytest.skip(f"ccusage unavailable: {C.ccusage_unavailable_reason()}")
    src = SAMPLES / "claude-code" / "agent-sessions__claude_small.jsonl"
    if not src.is_file():
        pytest.skip(f"sample {src} not found")
    home = C.stage_corpus("claude", [src], tmp_path / "home")
    wh = tmp_path / "wh"
    ingest([str(src)], wh, jobs=1)

    extra = {"unpricedCalls", "unpricedTokens"}  # tracelab's documented additions: what the cost leaves out

    def shape(obj):
        if isinstance(obj, dict):
            return {k: shape(v) for k, v in obj.items() if k not in extra and k != "untimed"}  # untimed: calls in no bucket
        if isinstance(obj, list):
            return [shape(obj[0])] if obj else []
        return "value"

    for report in ("daily", "weekly", "monthly", "session"):
        theirs = C.run_ccusage("claude", home, report, exe=exe)
        ours = usage_report(report, warehouse=wh)
        assert shape(ours) == shape(theirs), report
        assert set(ours["untimed"]) == {"llmCalls", "totalTokens"}
        assert extra <= set(ours["totals"]) and all(extra <= set(e) for e in ours[{"session": "sessions"}.get(report, report)])
        key = {"daily": "daily", "weekly": "weekly", "monthly": "monthly", "session": "sessions"}[report]
        for a, b in zip(ours[key], theirs[key]):
            for k in ("inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens", "totalTokens", "modelsUsed"):
                assert a[k] == b[k], (report, k)


def test_usage_cli_errors_name_the_option(samples):
    """A bad --since / --timezone is reported against the option the user typed (not the
    internal query parameter), with what a valid value looks like, and no traceback."""
    from click.testing import CliRunner

    from tracelab.cli import cli

    _, wh = samples
    runner = CliRunner()
    res = runner.invoke(cli, ["usage", "daily", "-w", str(wh), "--since", "2025-13-01"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "Invalid value for '--since': '2025-13-01' is not an ISO date or time" in res.stderr
    assert "month must be in 1..12" in res.stderr
    res = runner.invoke(cli, ["usage", "daily", "-w", str(wh), "-z", "Mars/Phobos"])
    assert res.exit_code == 2 and "--timezone 'Mars/Phobos': unknown time zone" in res.stderr
    res = runner.invoke(cli, ["usage", "weekly", "-w", str(wh), "-z", "Europe/Berlin", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["weekly"]


def test_ibis_core_results_come_back_ordered_and_a_missing_warehouse_is_named(samples, tmp_path):
    """The ibis metrics (the Spark path, run here on DuckDB) return rows in key order, as the
    named SQL does, so printing one gives a stable table; a wrong path is a CatalogError."""
    pytest.importorskip("ibis")
    from tracelab.catalog import CatalogError
    from tracelab.metrics import ibis_core

    _, wh = samples
    t = ibis_core.duckdb_tables(str(wh))
    for expr, keys in (
        (ibis_core.token_totals(t["llm_calls"], period="week"), ["period_start", "agent", "model"]),
        (ibis_core.tool_error_rates(t["tool_calls"]), ["agent", "model", "tool_name"]),
        (ibis_core.latency_percentiles(t["llm_calls"]), ["agent", "model"]),
        (ibis_core.compare_error_rates(t["tool_calls"], by="agent"), ["stratum", "model_a", "model_b"]),
    ):
        df = expr.to_polars()
        assert df.height > 1
        assert df.equals(df.sort(keys, nulls_last=True)), keys
    with pytest.raises(CatalogError, match="no tracelab warehouse at"):
        ibis_core.duckdb_tables(str(tmp_path / "nope"))
