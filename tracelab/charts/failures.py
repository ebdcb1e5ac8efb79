"""Failure-cluster trends: how often each failure cluster occurs per period."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any

import altair as alt
import polars as pl

from tracelab.charts import _frame, _scale
from tracelab.charts.usage import TIME_WIDTH


def failure_cluster_trends(
    df: Any,
    *,
    period: str = "period",
    cluster: str = "cluster_id",
    label: str | None = "label",
    count: str = "count",
    top: int | None = 8,
    unit: str = "week",
    periods: Iterable[Any] | None = None,
    title: str = "Failure clusters over time",
    subtitle: str | None = None,
) -> alt.Chart:
    """One line per failure ``cluster``: ``count`` members per ``period`` (a date: the Monday of
    the week, or the day with ``unit="day"``) on a UTC time axis. Only the ``top`` clusters by
    total count are drawn (``None`` draws all); the legend shows ``label`` (cut to 60 characters)
    when given, else the cluster id.

    ``periods`` lists the periods that have data at all (e.g. weeks with events): there a
    cluster without failures counts 0. Lines never cross periods without data (a gap stays a
    gap); without ``periods``, only the periods present in ``df`` count as having data."""
    frame = _frame.select(df, [period, cluster, count], [label], chart="failure_cluster_trends")
    frame, undated = _scale.drop_undated(frame, period)
    frame = frame.with_columns(pl.col(cluster).cast(pl.String))
    keep = [str(c) for c in _frame.ordered(frame, cluster, count)]
    n_clusters = len(keep)
    if top is not None:
        keep = keep[:top]
        frame = frame.filter(pl.col(cluster).is_in(keep))
    name = "cluster"
    if label is not None and label in frame.columns:
        text = pl.col(label).cast(pl.String).str.slice(0, 60)
        frame = frame.with_columns(pl.when(text.is_null()).then(pl.col(cluster)).otherwise(pl.col(cluster) + ": " + text).alias(name))
    else:
        frame = frame.with_columns(pl.col(cluster).alias(name))
    names = {r[cluster]: r[name] for r in frame.select(cluster, name).unique(cluster, keep="first").iter_rows(named=True)}
    active = sorted({*(frame.get_column(period).to_list()), *(_dates(periods) if periods is not None else [])})
    seg = _scale.segments(active, unit)
    grid = pl.DataFrame({period: active}, schema={period: pl.Date}).join(pl.DataFrame({cluster: keep}, schema={cluster: pl.String}), how="cross")
    counts = frame.group_by(period, cluster).agg(pl.col(count).sum())
    frame = (
        grid.join(counts, on=[period, cluster], how="left")
        .with_columns(
            pl.col(count).fill_null(0),
            pl.col(cluster).replace_strict(names, default=None).alias(name),
            pl.col(period).replace_strict(seg, default=0, return_dtype=pl.Int64).alias("_segment"),
        )
        .with_columns(pl.col(period).dt.strftime("%Y-%m-%d"))
        .sort(period, cluster)
    )
    notes = []
    if top is not None and n_clusters > len(keep):
        notes.append(f"top {len(keep)} of {n_clusters} clusters by failures")
    if undated:
        notes.append(f"{undated:,} row(s) without a timestamp not shown")
    if len(set(seg.values())) > 1:
        notes.append("lines break where the data has no events")
    ordered_names = [names[c] for c in keep]
    return (
        alt.Chart(frame, title=alt.Title(title, subtitle=_scale.subtitle(subtitle, *notes) or alt.Undefined))
        .mark_line(point=True)
        .encode(
            x=_scale.time_x(period, unit),
            y=alt.Y(f"{count}:Q", title="failures"),
            color=alt.Color(f"{name}:N", sort=ordered_names, title="cluster", legend=alt.Legend(orient="bottom", columns=1, labelLimit=600)),
            detail=alt.Detail("_segment:N"),
            tooltip=[alt.Tooltip(f"{period}:N", title=unit), alt.Tooltip(f"{name}:N"), alt.Tooltip(f"{count}:Q", format=",")],
        )
        .properties(width=TIME_WIDTH, height=240)
    )


def _dates(values: Iterable[Any]) -> list[_dt.date]:
    out = []
    for v in values:
        if isinstance(v, _dt.datetime):
            out.append(v.date())
        elif isinstance(v, _dt.date):
            out.append(v)
        elif v is not None:
            out.append(_dt.date.fromisoformat(str(v)[:10]))
    return out
