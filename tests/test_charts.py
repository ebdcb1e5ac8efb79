"""Chart functions on known data: the Vega-Lite spec must encode exactly the given values.

Each test inspects ``chart.to_dict()`` (embedded data, fields, types, scales, sort orders,
filters) rather than only checking that a chart object was produced; the export tests render
through vl-convert and check the output itself (SVG text, PNG signature, no CDN in HTML).
"""

from __future__ import annotations

import datetime as dt
import json

import altair as alt
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import tracelab.charts as tc
from tracelab.charts import theme


def rows(spec: dict) -> list[dict]:
    """The one dataset a spec embeds."""
    assert len(spec["datasets"]) == 1, spec["datasets"].keys()
    return next(iter(spec["datasets"].values()))


def layers(spec: dict) -> list[dict]:
    return spec["spec"]["layer"] if "spec" in spec else spec["layer"]


ERRORS = pl.DataFrame(
    {
        "tool_name": ["Bash", "Bash", "Edit", "Edit", "Read"],
        "model": ["m-b", "m-a", "m-a", "m-b", "m-a"],
        "calls": [100, 80, 50, 40, 300],
        "errors": [10, 4, 5, 12, 3],
        "error_rate": [0.10, 0.05, 0.10, 0.30, 0.01],
        "ci_low": [0.05, 0.02, 0.04, 0.18, 0.003],
        "ci_high": [0.17, 0.12, 0.21, 0.45, 0.03],
        "regression": [False, False, False, True, False],
        "secret_column": ["x"] * 5,
    }
)


def test_tool_error_rates_encodes_rates_intervals_and_flags():
    spec = tc.tool_error_rates(ERRORS, flag="regression").to_dict()
    data = rows(spec)
    # exactly the input rows and only the encoded columns (no unrelated column leaks into the HTML)
    assert len(data) == 5
    assert "secret_column" not in data[0]
    by_key = {(r["tool_name"], r["model"]): r for r in data}
    assert by_key[("Edit", "m-b")]["error_rate"] == 0.30
    assert by_key[("Edit", "m-b")]["ci_low"] == 0.18 and by_key[("Edit", "m-b")]["ci_high"] == 0.45
    # one row panel per tool, ordered by total calls (Read 300 > Bash 180 > Edit 90)
    assert spec["facet"]["row"]["field"] == "tool_name"
    assert spec["facet"]["row"]["sort"] == ["Read", "Bash", "Edit"]
    assert spec["resolve"]["scale"]["y"] == "independent"
    rule, point, ring = layers(spec)
    assert rule["mark"]["type"] == "rule"
    assert rule["encoding"]["x"]["field"] == "ci_low" and rule["encoding"]["x2"]["field"] == "ci_high"
    assert point["encoding"]["x"]["field"] == "error_rate"
    assert rule["encoding"]["y"]["field"] == "model" and rule["encoding"]["y"]["sort"] == ["m-a", "m-b"]
    # the red ring is drawn only where the flag column is true
    assert ring["mark"]["filled"] is False and ring["mark"]["color"] == theme.ALERT
    assert ring["transform"] == [{"filter": "(datum['regression'] === true)"}]
    assert [r for r in data if r["regression"]] == [by_key[("Edit", "m-b")]]


def test_tool_error_rates_without_group_is_one_row_per_tool():
    per_tool = ERRORS.group_by("tool_name").agg(pl.col("calls").sum(), pl.col("error_rate").mean(), pl.col("ci_low").min(), pl.col("ci_high").max())
    spec = tc.tool_error_rates(per_tool, group=None, errors=None).to_dict()
    assert "facet" not in spec
    point = layers(spec)[1]
    assert point["encoding"]["y"]["field"] == "tool_name"
    assert point["encoding"]["y"]["sort"] == ["Read", "Bash", "Edit"]


@pytest.mark.parametrize("convert", [lambda d: d, lambda d: d.to_pandas(), lambda d: d.to_arrow()], ids=["polars", "pandas", "pyarrow"])
def test_chart_input_is_frame_agnostic(convert):
    spec = tc.tool_error_rates(convert(ERRORS), flag="regression").to_dict()
    assert sorted(rows(spec), key=lambda r: (r["tool_name"], r["model"])) == sorted(
        rows(tc.tool_error_rates(ERRORS, flag="regression").to_dict()), key=lambda r: (r["tool_name"], r["model"])
    )


def test_missing_column_is_named():
    with pytest.raises(tc.ChartInputError, match="ci_high"):
        tc.tool_error_rates(ERRORS.drop("ci_high"))
    with pytest.raises(tc.ChartInputError, match="expected a Polars"):
        tc.tool_error_rates([1, 2, 3])


def test_latency_ecdf_log_scale_drops_non_positive_values():
    df = pl.DataFrame(
        {
            "model": ["a", "a", "a", "b", "b"],
            "fraction": [0.0, 0.5, 1.0, 0.5, 1.0],
            "latency_ms": [0.0, 120.0, 900.0, 300.0, 4000.0],
            "n": [3, 3, 3, 2, 2],
        }
    )
    spec = tc.latency_ecdf(df).to_dict()
    data = rows(spec)
    assert [(r["model"], r["latency_ms"], r["fraction"]) for r in data] == [("a", 120.0, 0.5), ("a", 900.0, 1.0), ("b", 300.0, 0.5), ("b", 4000.0, 1.0)]
    enc = spec["encoding"]
    assert enc["x"]["field"] == "latency_ms" and enc["x"]["scale"]["type"] == "log"
    assert enc["y"]["field"] == "fraction" and enc["y"]["scale"]["domain"] == [0, 1]
    assert enc["color"]["field"] == "model" and enc["color"]["sort"] == ["a", "b"]
    assert enc["order"]["field"] == "fraction"
    linear = tc.latency_ecdf(df, log=False).to_dict()
    assert len(rows(linear)) == 5 and "scale" not in linear["encoding"]["x"]


def test_latency_boxplot_orders_by_median_and_maps_percentiles():
    df = pd.DataFrame(
        {
            "model": ["slow", "fast"],
            "p05": [100.0, 10.0],
            "p25": [200.0, 20.0],
            "p50": [400.0, 30.0],
            "p75": [800.0, 40.0],
            "p95": [2000.0, 90.0],
            "n": [50, 60],
        }
    )
    spec = tc.latency_boxplot(df).to_dict()
    whisker, box, tick = layers(spec)
    assert whisker["encoding"]["y"]["sort"] == ["fast", "slow"]
    assert (whisker["encoding"]["x"]["field"], whisker["encoding"]["x2"]["field"]) == ("p05", "p95")
    assert (box["encoding"]["x"]["field"], box["encoding"]["x2"]["field"]) == ("p25", "p75")
    assert tick["mark"]["type"] == "tick" and tick["encoding"]["x"]["field"] == "p50"
    assert {r["model"]: r["p50"] for r in rows(spec)} == {"slow": 400.0, "fast": 30.0}


USAGE = pl.DataFrame(
    {
        "period": [dt.date(2026, 1, 5), dt.date(2026, 1, 5), dt.date(2026, 1, 6)],
        "model": ["b", "a", "a"],
        "tokens": [1_000, 3_000, 5_000],
        "cost_usd": [0.5, None, 2.0],
    }
)


def test_tokens_over_time_stacks_sums_per_day():
    spec = tc.tokens_over_time(USAGE).to_dict()
    enc = spec["encoding"]
    assert enc["y"]["field"] == "tokens" and enc["y"]["stack"] == "zero"
    # a UTC time axis; each bar spans its day (x to x2), so gaps between days stay visible
    assert enc["x"]["field"] == "period" and enc["x"]["type"] == "temporal" and enc["x"]["scale"] == {"type": "utc"}
    assert enc["x2"]["field"] == "_end"
    assert enc["color"]["sort"] == ["a", "b"]
    # calendar days, not local-midnight instants; summed per (day, model)
    data = [(r["period"], r["_end"], r["model"], r["tokens"]) for r in rows(spec)]
    assert data == [("2026-01-05", "2026-01-06", "a", 3000), ("2026-01-05", "2026-01-06", "b", 1000), ("2026-01-06", "2026-01-07", "a", 5000)]
    weekly = tc.tokens_over_time(USAGE, unit="week").to_dict()
    assert weekly["encoding"]["x"]["type"] == "temporal"
    assert {r["_end"] for r in rows(weekly)} == {"2026-01-12", "2026-01-13"}  # a week-long bar from each period start
    with pytest.raises(ValueError, match="unit"):
        tc.tokens_over_time(USAGE, unit="month")


def test_cost_over_time_drops_unknown_cost_instead_of_zero():
    spec = tc.cost_over_time(USAGE).to_dict()
    data = rows(spec)
    assert [(r["period"], r["model"], r["cost_usd"]) for r in data] == [("2026-01-05", "b", 0.5), ("2026-01-06", "a", 2.0)]
    # the calls the bars leave out are named
    priced = tc.cost_over_time(USAGE.with_columns(pl.Series("unpriced_calls", [0, 3, 0]))).to_dict()
    assert "3 call(s) of unpriced models not included" in priced["title"]["subtitle"]
    assert spec["encoding"]["y"]["axis"]["format"] == "$,.2f"


def test_failure_cluster_trends_keeps_top_clusters_with_labels():
    df = pl.DataFrame(
        {
            "period": [dt.date(2026, 1, 5), dt.date(2026, 1, 12)] * 3,
            "cluster_id": ["c1", "c1", "c2", "c2", "c3", "c3"],
            "label": ["ModuleNotFoundError: No module named <*>"] * 2 + ["pytest failed"] * 2 + ["rare"] * 2,
            "count": [5, 7, 10, 1, 1, 0],
        }
    )
    spec = tc.failure_cluster_trends(df, top=2).to_dict()
    data = rows(spec)
    assert {r["cluster_id"] for r in data} == {"c1", "c2"}
    # legend in order of total events: c1 (12) before c2 (11)
    assert spec["encoding"]["color"]["sort"] == ["c1: ModuleNotFoundError: No module named <*>", "c2: pytest failed"]
    assert spec["encoding"]["y"]["field"] == "count"
    assert spec["encoding"]["x"]["type"] == "temporal" and spec["encoding"]["x"]["scale"] == {"type": "utc"}
    assert len(rows(tc.failure_cluster_trends(df, top=None).to_dict())) == 6


def test_failure_cluster_trends_zero_fills_active_weeks_and_breaks_lines_at_gaps():
    df = pl.DataFrame({"period": [dt.date(2026, 1, 5), dt.date(2026, 3, 2)], "cluster_id": ["c1", "c1"], "label": ["x", "x"], "count": [4, 2]})
    active = [dt.date(2026, 1, 5), dt.date(2026, 1, 12), dt.date(2026, 3, 2)]
    spec = tc.failure_cluster_trends(df, periods=active).to_dict()
    data = {r["period"]: (r["count"], r["_segment"]) for r in rows(spec)}
    # a week with events but no failure of c1 is 0; the weeks without any events are absent
    assert data == {"2026-01-05": (4, 0), "2026-01-12": (0, 0), "2026-03-02": (2, 1)}
    assert spec["encoding"]["detail"]["field"] == "_segment"
    assert "lines break where the data has no events" in spec["title"]["subtitle"]


def test_model_scorecard_scores_are_best_is_one():
    df = pl.DataFrame(
        {
            "model": ["a", "b", "c", "a", "b", "c"],
            "metric": ["error rate"] * 3 + ["throughput"] * 3,
            "value": [0.10, 0.20, 0.15, 5.0, 10.0, 10.0],
            "better": ["lower"] * 3 + ["higher"] * 3,
            "label": ["10%", "20%", "15%", "5", "10", "10"],
            "n": [100, 80, 50, 7, 8, 9],
        }
    )
    spec = tc.model_scorecard(df, min_n=5).to_dict()
    score = {(r["model"], r["metric"]): r["score"] for r in rows(spec)}
    assert score[("a", "error rate")] == pytest.approx(1.0)  # lowest error rate is best
    assert score[("b", "error rate")] == pytest.approx(0.0)
    assert score[("c", "error rate")] == pytest.approx(0.5)
    assert score[("a", "throughput")] == pytest.approx(0.0) and score[("b", "throughput")] == pytest.approx(1.0)
    # with the default minimum sample (20) the throughput cells (n = 7-9) are not ranked at all
    small = {(r["model"], r["metric"]): r["score"] for r in rows(tc.model_scorecard(df).to_dict())}
    assert [small[(m, "throughput")] for m in "abc"] == [None, None, None]
    assert small[("a", "error rate")] == pytest.approx(1.0)
    grey, tiles, value_text, n_text = layers(spec)
    assert grey["mark"]["color"] == "#eeeeee" and tiles["transform"] == [{"filter": "isValid(datum.score)"}]
    assert tiles["encoding"]["color"]["field"] == "score"
    assert tiles["encoding"]["color"]["scale"] == {"domain": [0, 0.5, 1], "range": list(theme.GOOD_BAD)}
    assert value_text["encoding"]["text"]["field"] == "label"
    assert n_text["encoding"]["text"]["field"] == "_n"
    assert {r["_n"] for r in rows(spec)} == {"n=100", "n=80", "n=50", "n=7", "n=8", "n=9"}
    with pytest.raises(tc.ChartInputError, match="lower' or 'higher"):
        tc.model_scorecard(df.with_columns(pl.lit("up").alias("better")))


def test_theme_is_registered_and_applied():
    assert theme.NAME in alt.theme.names()
    assert alt.theme.active == theme.NAME
    spec = tc.latency_boxplot(pl.DataFrame({"model": ["a"], "p05": [1.0], "p25": [2.0], "p50": [3.0], "p75": [4.0], "p95": [5.0]})).to_dict()
    assert spec["config"]["range"]["category"] == list(theme.PALETTE)
    assert spec["config"]["font"] == theme.FONT


def test_save_formats_render_offline(tmp_path):
    chart = tc.tool_error_rates(ERRORS, flag="regression")
    svg = tc.save(chart, tmp_path / "e.svg").read_text()
    assert svg.lstrip().startswith("<svg") and "Edit" in svg and "m-b" in svg
    assert tc.save(chart, tmp_path / "e.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = tc.save(chart, tmp_path / "e.html").read_text()
    assert "<script src=" not in html and "cdn.jsdelivr" not in html  # the Vega bundle is inline
    assert json.loads(tc.save(chart, tmp_path / "e.json").read_text()) == chart.to_dict()
    with pytest.raises(ValueError, match=r"\.svg"):
        tc.save(chart, tmp_path / "e.gif")


def test_frame_helper_accepts_arrow_dates():
    table = pa.table({"period": [dt.date(2026, 3, 2)], "model": ["a"], "tokens": [1]})
    assert rows(tc.tokens_over_time(table).to_dict())[0]["period"] == "2026-03-02"
