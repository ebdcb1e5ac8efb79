"""The names, descriptions and output formats of ``tracelab chart``, without the chart stack:
``tracelab chart --list`` and the checks of a chart name and an ``--out`` suffix answer from
here, before Altair, Polars and vl-convert are imported. A test keeps this module equal to
:data:`tracelab.reports.named_charts.NAMED_CHARTS` and :data:`tracelab.charts.export.FORMATS`.
"""

from __future__ import annotations

#: chart name → one-line description, in the order ``--list`` prints them
CHARTS: dict[str, str] = {
    "tool-error-rates": "tool error rate per tool and model with Wilson 95% intervals",
    "latency-ecdf": "ECDF of LLM call latency per model",
    "tool-latency-ecdf": "ECDF of tool call latency per tool",
    "latency-box": "box plot of LLM call latency per model",
    "tool-latency-box": "box plot of tool call latency per tool",
    "tokens": "tokens per day, stacked by model",
    "tokens-weekly": "tokens per week, stacked by model",
    "cost": "estimated cost per day (USD), stacked by model",
    "cost-weekly": "estimated cost per week (USD), stacked by model",
    "failure-trends": "weekly events of the largest failure clusters",
    "model-scorecard": "model comparison scorecard with sample sizes",
}

#: the suffixes ``--out`` may end with (the file's format)
FORMATS = ("svg", "png", "html", "json")
