"""Tokens and cost over time, stacked or split by a group (usually the model)."""

from __future__ import annotations

from typing import Any

import altair as alt

from tracelab.charts import _frame
from tracelab.charts._axes import period_x


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
) -> alt.Chart:
    frame = _frame.select(df, [period, value], [group], chart=chart)
    enc: dict[str, Any] = {}
    tooltip = [alt.Tooltip(f"{period}:N", title=unit), alt.Tooltip(f"{value}:Q", format=fmt, title=y_title)]
    if group is not None:
        # alphabetical domain: a model keeps its colour across the charts of a report
        groups = sorted(frame.get_column(group).drop_nulls().unique().to_list())
        enc["color"] = alt.Color(f"{group}:N", sort=groups, title=group_title or group)
        enc["order"] = alt.Order(f"{group}:N")
        tooltip.insert(1, alt.Tooltip(f"{group}:N", title=group_title or group))
    return (
        alt.Chart(frame, title=alt.Title(title, subtitle=subtitle or alt.Undefined))
        .mark_bar()
        .encode(
            x=period_x(period, unit),
            y=alt.Y(f"sum({value}):Q", title=y_title, stack="zero", axis=alt.Axis(format=fmt)),
            tooltip=tooltip,
            **enc,
        )
        .properties(width=520, height=220)
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
) -> alt.Chart:
    """Stacked bars of estimated cost per ``period``, split by ``group``. Rows with a null cost
    (unpriced models) are dropped from the bars: unknown is not zero."""
    frame = _frame.select(df, [period, value], [group], chart="cost_over_time").drop_nulls(value)
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
    )
