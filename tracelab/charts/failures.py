"""Failure-cluster trends: how often each failure cluster occurs per period."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from tracelab.charts import _frame
from tracelab.charts._axes import period_x


def failure_cluster_trends(
    df: Any,
    *,
    period: str = "period",
    cluster: str = "cluster_id",
    label: str | None = "label",
    count: str = "count",
    top: int | None = 8,
    unit: str = "week",
    title: str = "Failure clusters over time",
    subtitle: str | None = None,
) -> alt.Chart:
    """One line per failure ``cluster``: ``count`` members per ``period`` (a date: the Monday of
    the week, or the day with ``unit="day"``). Only the ``top``
    clusters by total count are drawn (``None`` draws all); the legend shows ``label`` (cut to
    60 characters) when given, else the cluster id."""
    frame = _frame.select(df, [period, cluster, count], [label], chart="failure_cluster_trends")
    keep = _frame.ordered(frame, cluster, count)
    if top is not None:
        keep = keep[:top]
        frame = frame.filter(pl.col(cluster).is_in(keep))
    name = "cluster"
    if label is not None and label in frame.columns:
        frame = frame.with_columns((pl.col(cluster).cast(pl.String) + ": " + pl.col(label).cast(pl.String).str.slice(0, 60)).alias(name))
    else:
        frame = frame.with_columns(pl.col(cluster).cast(pl.String).alias(name))
    names = [frame.filter(pl.col(cluster) == c).get_column(name)[0] for c in keep]
    return (
        alt.Chart(frame, title=alt.Title(title, subtitle=subtitle or alt.Undefined))
        .mark_line(point=True)
        .encode(
            x=period_x(period, unit),
            y=alt.Y(f"{count}:Q", title="failures"),
            color=alt.Color(f"{name}:N", sort=names, title="cluster", legend=alt.Legend(orient="bottom", columns=1)),
            tooltip=[alt.Tooltip(f"{period}:N", title=unit), alt.Tooltip(f"{name}:N"), alt.Tooltip(f"{count}:Q", format=",")],
        )
        .properties(width=520, height=220)
    )
