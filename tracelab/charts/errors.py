"""Tool error rates with their 95 % Wilson intervals, per tool and model."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from tracelab.charts import _frame, _scale
from tracelab.charts.theme import ALERT
from tracelab.charts.usage import CHART_WIDTH, series_colours


def tool_error_rates(
    df: Any,
    *,
    tool: str = "tool_name",
    group: str | None = "model",
    rate: str = "error_rate",
    low: str = "ci_low",
    high: str = "ci_high",
    calls: str = "calls",
    errors: str | None = "errors",
    flag: str | None = None,
    group_title: str | None = None,
    title: str = "Tool error rate (95% Wilson interval)",
    subtitle: str | None = None,
    max_tools: int | None = 12,
    max_series: int | None = _scale.MAX_SERIES,
) -> alt.LayerChart | alt.FacetChart:
    """Error rate per ``tool`` and ``group`` (e.g. model), drawn as a point at ``rate`` with a
    bar from ``low`` to ``high``.

    One input row per (tool, group) with the rate and interval already computed (see
    ``tracelab.metrics`` / the ``tool_error_rates`` query). With a ``group``, the chart has one
    row panel per tool (ordered by total ``calls``) listing only the groups that used it; with
    ``group=None``, one line per tool. When ``flag`` names a boolean column, flagged rows get a
    red ring (regressions in the report). The x axis is shared, so rates compare across panels.
    ``group_title`` names the group in tooltips (default: the column name). Only the
    ``max_tools`` tools with most calls get a panel; groups beyond the ``max_series - 1`` largest
    share one grey colour (their rows keep their names).
    """
    frame = _scale.unknown_labels(_frame.select(df, [tool, rate, low, high, calls], [group, errors, flag], chart="tool_error_rates"), tool, group)
    tools = _frame.ordered(frame, tool, calls)
    notes = []
    if max_tools is not None and len(tools) > max_tools:
        notes.append(f"{max_tools} of {len(tools)} tools with the most calls")
        tools = tools[:max_tools]
        frame = frame.filter(pl.col(tool).is_in(tools))
    tooltip = [alt.Tooltip(f"{tool}:N", title="tool")]
    if group is not None:
        tooltip.append(alt.Tooltip(f"{group}:N", title=group_title or group))
    tooltip += [
        alt.Tooltip(f"{rate}:Q", format=".1%", title="error rate"),
        alt.Tooltip(f"{low}:Q", format=".1%", title="95% low"),
        alt.Tooltip(f"{high}:Q", format=".1%", title="95% high"),
        alt.Tooltip(f"{calls}:Q", format=",", title="calls"),
    ]
    if errors is not None and errors in frame.columns:
        tooltip.append(alt.Tooltip(f"{errors}:Q", format=",", title="errors"))
    if group is not None:
        groups = sorted(frame.get_column(group).drop_nulls().unique().to_list())
        _, order, folded = _scale.top_series(frame.select(group, calls), group, calls, max_series)
        main = [g for g in order if g != _scale.OTHER]
        frame = frame.with_columns(pl.when(pl.col(group).is_in(main)).then(pl.col(group)).otherwise(pl.lit(_scale.OTHER)).alias("_colour"))
        series = sorted(main) + ([_scale.OTHER] if folded else [])
        # the y labels name the group, so the colour needs no legend
        enc: dict[str, Any] = {
            "y": alt.Y(f"{group}:N", sort=groups, title=None),
            "color": alt.Color("_colour:N", sort=series, legend=None, scale=series_colours(series)),
        }
    else:
        enc = {"y": alt.Y(f"{tool}:N", sort=tools, title=None)}
    x_title = "error rate"
    base = alt.Chart().encode(tooltip=tooltip, **enc)
    interval = base.mark_rule(strokeWidth=2).encode(x=alt.X(f"{low}:Q", title=x_title, axis=alt.Axis(format="%")), x2=alt.X2(f"{high}:Q"))
    point = base.mark_point(filled=True, size=45).encode(x=alt.X(f"{rate}:Q", title=x_title))
    layers: list[alt.Chart] = [interval, point]
    if flag is not None and flag in frame.columns:
        layers.append(
            base.transform_filter(alt.datum[flag] == True)  # noqa: E712 - a Vega expression, not Python truthiness
            .mark_point(filled=False, size=260, strokeWidth=2.5, color=ALERT)
            .encode(x=alt.X(f"{rate}:Q"), color=alt.value(ALERT))
        )
    chart_title = alt.Title(title, subtitle=_scale.subtitle(subtitle, *notes) or alt.Undefined)
    layer = alt.layer(*layers, data=frame).properties(width=CHART_WIDTH, height=alt.Step(16))
    if group is None:
        return layer.properties(title=chart_title)
    return layer.facet(
        row=alt.Row(
            f"{tool}:N", sort=tools, title=None, header=alt.Header(labelAngle=0, labelOrient="top", labelAnchor="start", labelFontWeight=600, labelPadding=2)
        ),
        title=chart_title,
        spacing=4,
    ).resolve_scale(y="independent")
