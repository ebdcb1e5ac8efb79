"""Latency distributions per model: ECDF curves and box plots.

Both take *summaries* rather than raw calls, so a chart over a million calls embeds a few hundred
numbers: the ECDF takes a quantile grid (one row per model and cumulative fraction), the box
plot takes five percentiles per model. The queries behind them compute those with DuckDB's
``quantile_cont``.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from tracelab.charts import _frame, _scale
from tracelab.charts.theme import PALETTE
from tracelab.charts.usage import CHART_WIDTH

#: SI-prefixed labels (100, 1k, 10k) that do not collide on a log axis.
_MS_AXIS = alt.Axis(format="~s", labelOverlap="greedy")


def latency_ecdf(
    df: Any,
    *,
    model: str = "model",
    value: str = "latency_ms",
    fraction: str = "fraction",
    n: str | None = "n",
    log: bool = True,
    model_title: str = "model",
    title: str = "Latency ECDF by model",
    subtitle: str | None = None,
    max_series: int | None = _scale.MAX_SERIES,
) -> alt.Chart:
    """Empirical CDF: ``fraction`` of calls (y) finishing within ``value`` ms (x), one line per
    ``model``. Input: a quantile grid, one row per (model, fraction); x is log-scaled by default
    because latencies span orders of magnitude."""
    frame = _scale.unknown_labels(_frame.select(df, [model, value, fraction], [n], chart="latency_ecdf"), model)
    if log:
        frame = frame.filter(frame.get_column(value) > 0)
    notes = []
    if max_series is not None:
        # an ECDF of "other" cannot be rebuilt from quantile grids: keep the series with most calls
        weight = pl.col(n).max() if n is not None and n in frame.columns else pl.len()
        ranked = frame.group_by(model).agg(weight.alias("_w")).sort(["_w", model], descending=[True, False]).get_column(model).to_list()
        if len(ranked) > max_series:
            frame = frame.filter(pl.col(model).is_in(ranked[:max_series]))
            notes.append(f"{max_series} of {len(ranked)} {model_title}s with the most calls")
    models = sorted(frame.get_column(model).drop_nulls().unique().to_list())
    tooltip = [
        alt.Tooltip(f"{model}:N", title=model_title),
        alt.Tooltip(f"{fraction}:Q", format=".0%", title="fraction"),
        alt.Tooltip(f"{value}:Q", format=",.0f", title="ms"),
    ]
    if n is not None and n in frame.columns:
        tooltip.append(alt.Tooltip(f"{n}:Q", format=",", title="calls"))
    return (
        alt.Chart(frame, title=alt.Title(title, subtitle=_scale.subtitle(subtitle, *notes) or alt.Undefined))
        .mark_line(interpolate="monotone")
        .encode(
            x=alt.X(f"{value}:Q", title="latency (ms)", scale=alt.Scale(type="log") if log else alt.Undefined, axis=_MS_AXIS),
            y=alt.Y(f"{fraction}:Q", title="fraction of calls", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(f"{model}:N", sort=models, title=model_title),
            order=alt.Order(f"{fraction}:Q"),
            tooltip=tooltip,
        )
        .properties(width=CHART_WIDTH, height=260)
    )


def latency_boxplot(
    df: Any,
    *,
    model: str = "model",
    low: str = "p05",
    q1: str = "p25",
    median: str = "p50",
    q3: str = "p75",
    high: str = "p95",
    n: str | None = "n",
    log: bool = True,
    title: str = "Latency by model",
    subtitle: str | None = "box: p25-p75, line: median, whiskers: p5-p95",
    max_rows: int | None = 25,
) -> alt.LayerChart:
    """Horizontal box plot per ``model`` from precomputed percentiles (whiskers ``low``-``high``,
    box ``q1``-``q3``, tick at ``median``). Models are ordered by median, fastest on top; with
    more than ``max_rows`` models only those with the most calls (``n``) are drawn. On the log
    scale, values below 1 ms are drawn at 1 ms."""
    frame = _scale.unknown_labels(_frame.select(df, [model, low, q1, median, q3, high], [n], chart="latency_boxplot"), model)
    notes = []
    if max_rows is not None and frame.height > max_rows:
        total = frame.height
        frame = frame.sort(n if n is not None and n in frame.columns else median, descending=True).head(max_rows)
        notes.append(f"{max_rows} of {total} rows with the most calls")
    if log:
        frame = frame.with_columns([pl.col(c).clip(lower_bound=1.0) for c in (low, q1, median, q3, high)])
    order = frame.sort(median).get_column(model).to_list()
    tooltip = [alt.Tooltip(f"{model}:N", title="model")] + [alt.Tooltip(f"{c}:Q", format=",.0f", title=c) for c in (low, q1, median, q3, high)]
    if n is not None and n in frame.columns:
        tooltip.append(alt.Tooltip(f"{n}:Q", format=",", title="calls"))
    scale = alt.Scale(type="log") if log else alt.Undefined
    base = alt.Chart(frame, title=alt.Title(title, subtitle=_scale.subtitle(subtitle, *notes) or alt.Undefined)).encode(
        y=alt.Y(f"{model}:N", sort=order, title=None), tooltip=tooltip
    )
    whisker = base.mark_rule(color="#666").encode(x=alt.X(f"{low}:Q", title="latency (ms)", scale=scale, axis=_MS_AXIS), x2=alt.X2(f"{high}:Q"))
    # one colour: the row labels name the models, and a colour per row would exceed the palette
    box = base.mark_bar(size=14, color=PALETTE[0]).encode(x=alt.X(f"{q1}:Q"), x2=alt.X2(f"{q3}:Q"))
    mid = base.mark_tick(color="white", thickness=2, size=14).encode(x=alt.X(f"{median}:Q"))
    return alt.LayerChart(layer=[whisker, box, mid]).properties(width=CHART_WIDTH, height=alt.Step(24))
