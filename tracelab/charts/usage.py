"""Tokens and cost over time, stacked or split by a group (usually the model)."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from tracelab.charts import _frame, _scale
from tracelab.charts.theme import PALETTE

#: Colour of the folded ``"other"`` series.
OTHER_COLOUR = "#BBBBBB"
#: Width of time-series charts in px (the HTML report scales them down to the page).
TIME_WIDTH = 760
#: Plot width of the other charts: with axis labels and a legend they stay within a 1,280 px page.
CHART_WIDTH = 640


def series_colours(series: list[str]) -> alt.Scale:
    """Palette colours for ``series`` in order, grey for ``"other"``."""
    named = [s for s in series if s != _scale.OTHER]
    rng = [PALETTE[i % len(PALETTE)] for i in range(len(named))]
    if len(named) < len(series):
        return alt.Scale(domain=[*named, _scale.OTHER], range=[*rng, OTHER_COLOUR])
    return alt.Scale(domain=named, range=rng)


def _over_time(
    df: Any,
    *,
    period: str,
    group: str | None,
    group_title: str | None,
    value: str,
    y_title: str,
    fmt: str,
    title: str,
    subtitle: str | None,
    chart: str,
    unit: str,
    max_series: int | None,
    notes: tuple[str, ...] = (),
) -> alt.Chart:
    if unit not in _scale.PERIOD_DAYS:
        raise ValueError(f"unit must be 'day' or 'week', got {unit!r}")
    frame = _frame.select(df, [period, value], [group], chart=chart)
    frame, undated = _scale.drop_undated(frame, period)
    notes = (*notes, f"{undated:,} row(s) without a timestamp not shown" if undated else "")
    enc: dict[str, Any] = {}
    tooltip = [alt.Tooltip(f"{period}:N", title=unit), alt.Tooltip(f"{value}:Q", format=fmt, title=y_title)]
    keys = [period]
    if group is not None:
        frame = _scale.unknown_labels(frame, group)
        frame, order, folded = _scale.top_series(frame, group, value, max_series)
        if folded:
            notes = (*notes, f"{folded} smaller {group_title or group} series shown as 'other'")
        # alphabetical colours (a model keeps its colour across the charts of a report), "other" last
        series = sorted(s for s in order if s != _scale.OTHER) + ([_scale.OTHER] if _scale.OTHER in order else [])
        enc["color"] = alt.Color(f"{group}:N", sort=series, title=group_title or group, scale=series_colours(series))
        enc["order"] = alt.Order(f"{group}:N")
        tooltip.insert(1, alt.Tooltip(f"{group}:N", title=group_title or group))
        keys.append(group)
    frame = frame.group_by(keys).agg(pl.col(value).sum()).sort(keys)
    frame = frame.with_columns((pl.col(period) + pl.duration(days=_scale.PERIOD_DAYS[unit])).alias("_end")).with_columns(
        pl.col(period).dt.strftime("%Y-%m-%d"), pl.col("_end").dt.strftime("%Y-%m-%d")
    )
    return (
        alt.Chart(frame, title=alt.Title(title, subtitle=_scale.subtitle(subtitle, *notes) or alt.Undefined))
        .mark_bar(orient="vertical")  # x/x2 span the period; stack along y
        .encode(
            x=_scale.time_x(period, unit),
            x2=alt.X2("_end:T"),
            y=alt.Y(f"{value}:Q", title=y_title, stack="zero", axis=alt.Axis(format=fmt)),
            tooltip=tooltip,
            **enc,
        )
        .properties(width=TIME_WIDTH, height=240)
    )


def tokens_over_time(
    df: Any,
    *,
    period: str = "period",
    group: str | None = "model",
    group_title: str | None = None,
    value: str = "tokens",
    unit: str = "day",
    title: str = "Tokens over time",
    subtitle: str | None = "input + output + cache read + cache write, non-synthetic calls",
    max_series: int | None = _scale.MAX_SERIES,
) -> alt.Chart:
    """Stacked bars of ``value`` tokens per ``period`` (a date: the day, or the Monday of the week when ``unit="week"``), split by ``group`` (legend title ``group_title``, default the column name)."""
    return _over_time(
        df,
        period=period,
        group=group,
        group_title=group_title,
        value=value,
        y_title="tokens",
        fmt="~s",
        title=title,
        subtitle=subtitle,
        chart="tokens_over_time",
        unit=unit,
        max_series=max_series,
    )


def cost_over_time(
    df: Any,
    *,
    period: str = "period",
    group: str | None = "model",
    group_title: str | None = None,
    value: str = "cost_usd",
    unit: str = "day",
    title: str = "Cost over time (USD)",
    subtitle: str | None = "list prices from tracelab's price table; unpriced models count as unknown, not zero",
    unpriced: str | None = "unpriced_calls",
    max_series: int | None = _scale.MAX_SERIES,
) -> alt.Chart:
    """Stacked bars of estimated cost per ``period``, split by ``group``. Rows with a null cost
    (unpriced models) are dropped from the bars: unknown is not zero. When the frame has an
    ``unpriced`` column (calls without a price), the subtitle says how many calls the bars leave out."""
    full = _frame.select(df, [period, value], [group, unpriced], chart="cost_over_time")
    n_unpriced = int(full.get_column(unpriced).fill_null(0).sum()) if unpriced is not None and unpriced in full.columns else 0
    frame = full.drop_nulls(value)
    return _over_time(
        frame,
        period=period,
        group=group,
        group_title=group_title,
        value=value,
        y_title="USD",
        fmt="$,.2f",
        title=title,
        subtitle=subtitle,
        chart="cost_over_time",
        unit=unit,
        max_series=max_series,
        notes=(f"{n_unpriced:,} call(s) of unpriced models not included" if n_unpriced else "",),
    )
