"""Altair charts for tracelab: a DataFrame (Polars, pandas or pyarrow) in, an ``alt.Chart`` out.

Chart functions do no I/O and no analysis: they take the summary frames that the named queries
and :mod:`tracelab.metrics` produce (rates with intervals, percentile grids, per-period totals)
and encode them. Column names are keyword arguments with the defaults those producers use.
Importing this package registers and enables the one tracelab Altair theme
(:mod:`tracelab.charts.theme`). :func:`save` writes SVG, PNG, HTML or JSON offline.

>>> import tracelab.charts as tc                                  # doctest: +SKIP
>>> tc.save(tc.tool_error_rates(df), "errors.svg")                # doctest: +SKIP
"""

from __future__ import annotations

from tracelab.charts import theme
from tracelab.charts._frame import ChartInputError
from tracelab.charts.compare import model_scorecard
from tracelab.charts.errors import tool_error_rates
from tracelab.charts.export import render_offline, save, to_html, to_png, to_svg
from tracelab.charts.failures import failure_cluster_trends
from tracelab.charts.latency import latency_boxplot, latency_ecdf
from tracelab.charts.usage import cost_over_time, tokens_over_time

__all__ = [
    "ChartInputError",
    "cost_over_time",
    "failure_cluster_trends",
    "latency_boxplot",
    "latency_ecdf",
    "model_scorecard",
    "render_offline",
    "save",
    "theme",
    "to_html",
    "to_png",
    "to_svg",
    "tokens_over_time",
    "tool_error_rates",
]
