"""Charts by name over a filtered warehouse: what ``tracelab chart NAME`` draws.

Each entry pairs a data step (a named query of ``queries/`` or ``tracelab/reports/sql/``, or
the failure-cluster API, run with the user's filters as parameters) with a chart function of
:mod:`tracelab.charts`. Filters: ``since``/``until`` (UTC, [since, until)), ``agent``,
``model``, ``tool``; ``None`` means no filter.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl

import tracelab.charts as tc
from tracelab.errors import NotFound
from tracelab.failures import api as F
from tracelab.reports.data import run
from tracelab.reports.sections import model_labels, scorecard_frame
from tracelab.scope import project_session_keys, restrict_to_project
from tracelab.store.connection import Store


class NoDataError(NotFound):
    """The filters leave nothing to draw."""


@dataclass(frozen=True)
class Filters:
    since: _dt.datetime | None = None
    until: _dt.datetime | None = None
    agent: str | None = None
    model: str | None = None
    tool: str | None = None
    project: str | None = None

    def describe(self) -> str:
        parts = []
        if self.since or self.until:
            parts.append(f"{self.since:%Y-%m-%d}" if self.since else "start")
            parts[-1] += " to " + (f"{self.until:%Y-%m-%d}" if self.until else "latest")
        parts += [f"{k} {v}" for k, v in (("project", self.project), ("agent", self.agent), ("model", self.model), ("tool", self.tool)) if v]
        return "; ".join(parts) or "all data"


@dataclass(frozen=True)
class NamedChart:
    name: str
    description: str
    build: Callable[[Any, str | os.PathLike | Store, Filters], alt.TopLevelMixin]


def _need(df: pl.DataFrame, f: Filters, what: str) -> pl.DataFrame:
    if df.height == 0:
        raise NoDataError(f"no {what} for {f.describe()}")
    return df


def _tool_error_rates(con, wh, f: Filters):
    df = run(con, "tool_error_rates", since=f.since, until=f.until, agent=f.agent, model=f.model, tool=f.tool, period="all")
    df = _need(df.filter(pl.col("completed") > 0), f, "completed tool calls")
    df = model_labels(df).with_columns((pl.col("tool_name") + " (" + pl.col("agent") + ")").alias("tool"))
    return tc.tool_error_rates(
        df, tool="tool", group="series", group_title="model", low="error_rate_lo", high="error_rate_hi", calls="completed", subtitle=f.describe()
    )


def _latency_ecdf(metric: str):
    def build(con, wh, f: Filters):
        by = "tool" if metric == "tool" else "model"
        df = _need(
            run(con, "latency_ecdf", since=f.since, until=f.until, agent=f.agent, model=f.model, tool=f.tool, metric=metric, by=by), f, f"{metric} latencies"
        )
        key = "tool_name" if metric == "tool" else "model"
        df = model_labels(df, model=key)
        return tc.latency_ecdf(
            df,
            model="series",
            value="value_ms",
            fraction="ecdf",
            model_title=by,
            title=f"{'Tool' if metric == 'tool' else 'LLM'} call latency ECDF",
            subtitle=f.describe(),
        )

    return build


def _latency_box(metric: str):
    def build(con, wh, f: Filters):
        df = _need(
            run(con, "chart_latency_box", since=f.since, until=f.until, agent=f.agent, model=f.model, tool=f.tool, metric=metric), f, f"{metric} latencies"
        )
        df = model_labels(df)
        return tc.latency_boxplot(
            df,
            model="series",
            title=f"{'Tool' if metric == 'tool' else 'LLM'} call latency by {'tool' if metric == 'tool' else 'model'}",
            subtitle=f"box: p25-p75, line: median, whiskers: p5-p95; {f.describe()}",
        )

    return build


def _usage(value: str, period: str):
    def build(con, wh, f: Filters):
        df = run(con, "token_usage", since=f.since, until=f.until, agent=f.agent, model=f.model, period=period)
        df = model_labels(_need(df, f, "LLM calls")).rename({"period_start": "period"})
        unit = "week" if period == "week" else "day"
        if value == "cost_usd":
            return tc.cost_over_time(df, group="series", group_title="model", unit=unit, title=f"Estimated cost per {unit} (USD)", subtitle=f.describe())
        return tc.tokens_over_time(df, group="series", group_title="model", value="total_tokens", unit=unit, title=f"Tokens per {unit}", subtitle=f.describe())

    return build


def _failure_trends(con, wh, f: Filters):
    failures = F.load(wh)
    m = F.members(failures, since=f.since, until=f.until, agent=f.agent, model=f.model, tool=f.tool)
    if f.project:
        m = m.filter(pl.col("session_key").is_in(project_session_keys(con, f.project)))
    m = _need(m.filter(pl.col("ts").is_not_null()), f, "failures")
    weekly = (
        m.with_columns(pl.col("ts").dt.convert_time_zone("UTC").dt.truncate("1w").dt.date().alias("period"))
        .group_by("period", "cluster_id")
        .agg(pl.len().alias("count"))
    )
    names = failures.clusters.select("cluster_id", pl.coalesce("name", "template").alias("label"))
    weekly = weekly.join(names, on="cluster_id", how="left").sort("period", "cluster_id")
    # weeks with any events: there a cluster without failures counts 0; other weeks are gaps
    active = run(con, "chart_active_periods", since=f.since, until=f.until, agent=f.agent, period="week")
    return tc.failure_cluster_trends(
        weekly, periods=active.get_column("period").to_list(), title="Failure clusters per week (top 8 by events)", subtitle=f.describe()
    )


def _scorecard(con, wh, f: Filters):
    df = _need(run(con, "report_model_comparison", since=f.since, until=f.until, agent=f.agent, model=f.model), f, "LLM calls")
    return tc.model_scorecard(
        scorecard_frame(df), title="Model comparison", subtitle=f"n = sample size; not a representative sample of any model; {f.describe()}"
    )


NAMED_CHARTS: dict[str, NamedChart] = {
    c.name: c
    for c in (
        NamedChart("tool-error-rates", "tool error rate per tool and model with Wilson 95% intervals", _tool_error_rates),
        NamedChart("latency-ecdf", "ECDF of LLM call latency per model", _latency_ecdf("llm")),
        NamedChart("tool-latency-ecdf", "ECDF of tool call latency per tool", _latency_ecdf("tool")),
        NamedChart("latency-box", "box plot of LLM call latency per model", _latency_box("llm")),
        NamedChart("tool-latency-box", "box plot of tool call latency per tool", _latency_box("tool")),
        NamedChart("tokens", "tokens per day, stacked by model", _usage("total_tokens", "day")),
        NamedChart("tokens-weekly", "tokens per week, stacked by model", _usage("total_tokens", "week")),
        NamedChart("cost", "estimated cost per day (USD), stacked by model", _usage("cost_usd", "day")),
        NamedChart("cost-weekly", "estimated cost per week (USD), stacked by model", _usage("cost_usd", "week")),
        NamedChart("failure-trends", "weekly events of the largest failure clusters", _failure_trends),
        NamedChart("model-scorecard", "model comparison scorecard with sample sizes", _scorecard),
    )
}


def build_chart(name: str, warehouse: str | os.PathLike, filters: Filters | None = None) -> alt.TopLevelMixin:
    """The chart ``name`` (see :data:`NAMED_CHARTS`) over ``warehouse`` with ``filters``."""
    if name not in NAMED_CHARTS:
        raise KeyError(f"no chart named {name!r}; known: {', '.join(NAMED_CHARTS)}")
    f = filters or Filters()
    with Store(warehouse) as store:  # one snapshot for the chart's queries and failure clusters
        if f.project:
            restrict_to_project(store.con, f.project)
        return NAMED_CHARTS[name].build(store.con, store, f)
