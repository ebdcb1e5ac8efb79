"""Turn :class:`~tracelab.reports.data.WeeklyData` into report sections: KPI cards, tables of
formatted cells, Altair charts and regression flags.

A section is presentation-neutral: the HTML and Markdown templates render the same
:class:`Section` objects, so both formats always carry the same numbers and flags. Each table
row knows whether it is a regression (``Table.flagged``); the templates mark those rows and
the report's summary lists them with a link to their section.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import polars as pl

import tracelab.charts as tc
from tracelab.reports import fmt
from tracelab.reports.data import TREND_WEEKS, WeeklyData, listed_clusters, listed_exemplars

#: Rows shown in long tables (regressions are always shown in addition).
TOP_ROWS = 20
#: Tools drawn in the error-rate chart (by completed calls this week).
CHART_TOOLS = 12


@dataclass
class Kpi:
    label: str
    value: str
    previous: str
    delta: str
    #: ``good`` / ``bad`` / ``neutral``: the colour of the delta (up is bad for errors/latency)
    tone: str
    flagged: bool = False
    note: str = ""


@dataclass
class Table:
    id: str
    caption: str
    columns: list[str]
    rows: list[list[str]]
    #: per column: ``l`` left, ``r`` right (numbers), ``m`` monospace id, ``w`` wrapping text
    align: list[str]
    flagged: list[bool] = field(default_factory=list)
    empty: str = "Nothing to show for this week."
    note: str = ""
    #: per row, per column: a relative link for the cell (None: plain text); empty = no links
    links: list[list[str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.flagged:
            self.flagged = [False] * len(self.rows)


@dataclass
class Figure:
    id: str
    title: str
    chart: alt.TopLevelMixin
    alt_text: str


@dataclass
class Regression:
    section: str  #: id of the section holding the flagged row
    text: str


@dataclass
class Section:
    id: str
    title: str
    lead: str = ""
    kpis: list[Kpi] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    title: str
    week: str
    span: str
    previous: str
    generated_at: str
    warehouse: str
    data_span: str
    thresholds: dict[str, dict[str, Any]]
    regressions: list[Regression]
    sections: list[Section]
    notes: list[str] = field(default_factory=list)
    #: shown above everything (e.g. "No sessions in this week: …")
    warnings: list[str] = field(default_factory=list)
    #: the report week holds no events (every figure is empty)
    empty_week: bool = False


# ------------------------------------------------------------------------------ helpers


def _tone(delta: float | None, *, up_is_bad: bool | None) -> str:
    if delta is None or up_is_bad is None or abs(delta) < 1e-12:
        return "neutral"
    return "bad" if (delta > 0) == up_is_bad else "good"


def model_labels(df: pl.DataFrame, model: str = "model", agent: str = "agent") -> pl.DataFrame:
    """Add ``series``: the model name, suffixed with the agent when the same model name is
    used by more than one agent (Codex and Pi both log ``gpt-5.1-codex``); a missing model is
    ``"unknown"``."""
    if df.height == 0:
        return df.with_columns(pl.lit(None, pl.String).alias("series"))
    name = pl.col(model).fill_null("unknown")  # calls that recorded no model: a category, not null
    shared = pl.col(agent).n_unique().over(name) > 1
    return df.with_columns(pl.when(shared).then(name + " (" + pl.col(agent) + ")").otherwise(name).alias("series"))


def _rows(df: pl.DataFrame, cells: list[Callable[[dict], str]]) -> list[list[str]]:
    return [[c(r) for c in cells] for r in df.iter_rows(named=True)]


def _top_with_flags(df: pl.DataFrame, n: int, flag: str = "regression") -> pl.DataFrame:
    """Flagged rows first, then the first ``n`` others (the frame's own order)."""
    if df.height == 0:
        return df
    return pl.concat([df.filter(pl.col(flag)), df.filter(~pl.col(flag)).head(n)])


# ------------------------------------------------------------------------------ sections


def summary_section(d: WeeklyData, regressions: list[Regression]) -> Section:
    cur, prev = d.kpi("current"), d.kpi("previous")
    overall = d.overall_error.to_dicts()[0] if d.overall_error.height else {}

    def kpi(
        label: str,
        key: str,
        show: Callable[[Any], str],
        *,
        up_is_bad: bool | None,
        flagged: bool = False,
        pp: bool = False,
        note: str = "",
        n_key: str | None = None,
        percentile: bool = False,
    ) -> Kpi:
        """A headline number with its week-over-week change; the change (and its colour) only
        where both weeks have a sample of ``n_key`` (default: the value itself, a count) of at
        least :data:`fmt.MIN_CHANGE_N`, else "n too small". ``percentile``: the values too need a
        sample of :data:`fmt.MIN_PERCENTILE_N` (``show`` then takes the value and its n)."""
        c, p = cur.get(key), prev.get(key)
        n, n_prev = (cur.get(n_key), prev.get(n_key)) if n_key else (c, p)
        if pp:
            delta = None if c is None or p is None else 100 * (c - p)
            ok = delta is not None and fmt.meaningful_change(0.0, n, n_prev)
            delta_text = fmt.pp(delta) if ok or delta is None else fmt.SMALL_N
        else:
            delta = fmt.rel_change(c, p)
            ok = fmt.meaningful_change(delta, n, n_prev)
            delta_text = fmt.change_pct_n(delta, n, n_prev)
        if percentile:
            return Kpi(label, fmt.ms_n(c, n), fmt.ms_n(p, n_prev), delta_text, _tone(delta if ok else None, up_is_bad=up_is_bad), flagged, note)
        return Kpi(label, show(c), show(p), delta_text, _tone(delta if ok else None, up_is_bad=up_is_bad), flagged, note)

    unpriced = cur.get("unpriced_calls") or 0
    kpis = [
        kpi("Sessions", "sessions", fmt.integer, up_is_bad=None, note=f"{fmt.integer(cur.get('subagent_sessions'))} subagent sessions"),
        kpi("Tool calls", "tool_calls", fmt.integer, up_is_bad=None),
        kpi(
            "Tool-error rate",
            "tool_error_rate",
            fmt.pct,
            up_is_bad=True,
            pp=True,
            n_key="tool_completed",
            flagged=bool(overall.get("regression")),
            note=f"{fmt.integer(cur.get('tool_errors'))} of {fmt.integer(cur.get('tool_completed'))} completed calls; {fmt.p_is(overall.get('p_value'))}",
        ),
        kpi(
            "LLM latency p50",
            "llm_p50_ms",
            fmt.ms,
            up_is_bad=True,
            n_key="llm_latency_n",
            percentile=True,
            note=f"{fmt.integer(cur.get('llm_latency_n'))} of {fmt.integer(cur.get('llm_calls'))} LLM calls timed",
        ),
        kpi("LLM latency p95", "llm_p95_ms", fmt.ms, up_is_bad=True, n_key="llm_latency_n", percentile=True),
        kpi("Tokens", "total_tokens", fmt.si, up_is_bad=None, n_key="llm_calls", note=f"{fmt.si(cur.get('output_tokens'))} output"),
        kpi(
            "Cost (USD, list prices)",
            "cost_usd",
            fmt.usd,
            up_is_bad=None,
            n_key="llm_calls",
            note=f"priced calls only; {fmt.integer(unpriced)} unpriced calls" if unpriced else "all calls priced",
        ),
    ]
    lead = (
        f"ISO week {d.week} ({d.week.span}, UTC) against {d.previous} ({d.previous.span}). "
        f"Sessions are main sessions started in the week; rates and percentiles cover tool and LLM calls made in it."
    )
    notes = ["No sessions in this week: the warehouse has no events in it."] if d.events == 0 else []
    if d.events and d.previous_events == 0:
        notes.append(f"{d.previous} has no events: the changes against it compare with nothing.")
    if not regressions and d.events != 0:
        notes.append("No regression met the thresholds this week.")
    return Section("summary", "Headline", lead=lead, kpis=kpis, notes=notes)


def _error_row_text(r: dict) -> str:
    who = " · ".join(x for x in (r.get("agent"), r.get("model"), r.get("tool_name")) if x) or "all tool calls"
    return (
        f"{who}: tool error rate {fmt.pct(r['previous_error_rate'])} → {fmt.pct(r['error_rate'])} "
        f"({fmt.pp(r['delta_pp'])}; {r['errors']}/{r['completed']} vs {r['previous_errors']}/{r['previous_completed']} calls; "
        f"adjusted {fmt.p_is(r.get('p_adjusted'))})"
    )


def _latency_row_text(kind: str, r: dict) -> str:
    return (
        f"{r['agent']} · {r['group_key']}: {kind} latency p50 {fmt.ms(r['previous_p50_ms'])} → {fmt.ms(r['p50_ms'])} "
        f"({fmt.change_pct(r['p50_change_pct'])}), p95 {fmt.ms(r['previous_p95_ms'])} → {fmt.ms(r['p95_ms'])} "
        f"({fmt.change_pct(r['p95_change_pct'])}); n = {r['n']} vs {r['previous_n']}; adjusted {fmt.p_is(r.get('p_adjusted'))}"
    )


def regressions_of(d: WeeklyData) -> list[Regression]:
    out = [Regression("summary", _error_row_text(r)) for r in d.overall_error.filter(pl.col("regression")).to_dicts()]
    out += [Regression("tool-errors", _error_row_text(r)) for r in d.error_changes.filter(pl.col("regression")).to_dicts()]
    out += [Regression("latency", _latency_row_text("LLM", r)) for r in d.llm_latency.filter(pl.col("regression")).to_dicts()]
    out += [Regression("latency", _latency_row_text("tool", r)) for r in d.tool_latency.filter(pl.col("regression")).to_dicts()]
    return out


def tool_errors_section(d: WeeklyData) -> Section:
    th = d.thresholds.tool_error_rate
    ec = d.error_changes
    cur = ec.filter(pl.col("completed") > 0)
    figures = []
    if cur.height:
        tools = cur.group_by("tool_name").agg(pl.col("completed").sum()).sort(["completed", "tool_name"], descending=[True, False]).head(CHART_TOOLS)
        chart_df = model_labels(cur.filter(pl.col("tool_name").is_in(tools.get_column("tool_name").to_list()))).with_columns(
            (pl.col("tool_name") + " (" + pl.col("agent") + ")").alias("tool")
        )
        chart = tc.tool_error_rates(
            chart_df,
            tool="tool",
            group="series",
            group_title="model",
            calls="completed",
            flag="regression",
            title=f"Tool error rate, {d.week} (95% Wilson interval)",
            subtitle=f"{tools.height} most used tools; red ring = regression against {d.previous}",
        )
        figures.append(
            Figure(
                "tool-error-rates",
                "Tool error rates by model and tool",
                chart,
                f"Tool error rates with 95% intervals for the {tools.height} most used tools in {d.week}, by model.",
            )
        )
    shown = _top_with_flags(ec, TOP_ROWS)
    table = Table(
        "tool-error-table",
        f"Error rate by agent, model and tool: {d.week} vs {d.previous} (regressions first, then by completed calls)",
        ["Agent", "Model", "Tool", "Completed", "Errors", "Error rate [95% CI]", f"{d.previous}", "Change", "p (adj.)"],
        _rows(
            shown,
            [
                lambda r: r["agent"],
                lambda r: r["model"] or fmt.DASH,
                lambda r: r["tool_name"],
                lambda r: fmt.integer(r["completed"]),
                lambda r: fmt.integer(r["errors"]),
                lambda r: fmt.rate_ci(r["error_rate"], r["ci_low"], r["ci_high"]),
                lambda r: f"{fmt.pct(r['previous_error_rate'])} (n={r['previous_completed']})",
                lambda r: (
                    fmt.pp(r["delta_pp"])
                    if min(r["completed"] or 0, r["previous_completed"] or 0) >= fmt.MIN_CHANGE_N
                    else (fmt.SMALL_N if r["delta_pp"] is not None else fmt.DASH)
                ),
                lambda r: fmt.pvalue(r["p_adjusted"]) if r["tested"] else "not tested",
            ],
        ),
        ["l", "l", "l", "r", "r", "r", "r", "r", "r"],
        flagged=shown.get_column("regression").to_list() if shown.height else [],
        note=f"{ec.height - shown.height} more rows not shown." if ec.height > shown.height else "",
    )
    lead = (
        f"error rate = failed / completed (ok + failed) tool calls; rejected, interrupted and unanswered calls are not completions. "
        f"Regression: up by ≥ {th.min_increase_pp:g} pp, adjusted p < {th.alpha:g} ({th.correction}), "
        f"≥ {th.min_calls} completed calls this week and ≥ {th.min_calls_previous} last week."
    )
    return Section("tool-errors", "Tool error rates", lead=lead, figures=figures, tables=[table])


def _latency_table(df: pl.DataFrame, id: str, caption: str, key: str, min_n: int) -> Table:
    """Latency percentiles against the previous week; a change is shown only where both weeks
    have ``min_n`` observations (the test's own minimum), else "n too small"."""
    shown = _top_with_flags(df, TOP_ROWS)
    return Table(
        id,
        caption,
        ["Agent", key, "n", "p50", "p90", "p95", "p99", "Prev. p50", "Prev. p95", "Δ p50", "Δ p95", "p (adj.)"],
        _rows(
            shown,
            [
                lambda r: r["agent"],
                lambda r: r["group_key"] or fmt.DASH,
                lambda r: fmt.integer(r["n"]),
                lambda r: fmt.ms_n(r["p50_ms"], r["n"]),
                lambda r: fmt.ms_n(r["p90_ms"], r["n"]),
                lambda r: fmt.ms_n(r["p95_ms"], r["n"]),
                lambda r: fmt.ms_n(r["p99_ms"], r["n"]),
                lambda r: fmt.ms_n(r["previous_p50_ms"], r["previous_n"]),
                lambda r: fmt.ms_n(r["previous_p95_ms"], r["previous_n"]),
                lambda r: fmt.change_pct_n(r["p50_change_pct"], r["n"], r["previous_n"], min_n=min_n),
                lambda r: fmt.change_pct_n(r["p95_change_pct"], r["n"], r["previous_n"], min_n=min_n),
                lambda r: fmt.pvalue(r["p_adjusted"]) if r["tested"] else "not tested",
            ],
        ),
        ["l", "l"] + ["r"] * 10,
        flagged=shown.get_column("regression").to_list() if shown.height else [],
        note=f"{df.height - shown.height} more rows not shown." if df.height > shown.height else "",
    )


def latency_section(d: WeeklyData) -> Section:
    th = d.thresholds.latency
    figures = []
    if d.llm_ecdf.height:
        e = model_labels(d.llm_ecdf)
        figures.append(
            Figure(
                "llm-latency-ecdf",
                "LLM call latency distribution",
                tc.latency_ecdf(e, model="series", value="value_ms", fraction="ecdf", title=f"LLM call latency ECDF, {d.week}"),
                f"Empirical CDF of LLM call latency per model in {d.week}.",
            )
        )
    if d.llm_latency.height:
        b = model_labels(d.llm_latency.rename({"group_key": "model"}))
        figures.append(
            Figure(
                "llm-latency-box",
                "LLM call latency by model",
                tc.latency_boxplot(
                    b, model="series", low="p05_ms", q1="p25_ms", median="p50_ms", q3="p75_ms", high="p95_ms", title=f"LLM call latency by model, {d.week}"
                ),
                f"Box plot of LLM call latency per model in {d.week} (p5, p25, median, p75, p95).",
            )
        )
    tables = [
        _latency_table(d.llm_latency, "llm-latency-table", f"LLM call latency by model: {d.week} vs {d.previous}", "Model", th.min_samples),
        _latency_table(d.tool_latency, "tool-latency-table", f"Tool call latency by tool: {d.week} vs {d.previous}", "Tool", th.min_samples),
    ]
    lead = (
        "LLM latency: request start (or last input) to the last line of the response; tool latency: call to result. "
        f"Regression: p50 or p95 up by ≥ {th.min_increase_pct:g}%, Mann-Whitney adjusted p < {th.alpha:g} ({th.correction}), "
        f"≥ {th.min_samples} observations in both weeks."
    )
    return Section("latency", "Latency percentiles", lead=lead, figures=figures, tables=tables)


def usage_section(d: WeeklyData) -> Section:
    tw = d.tokens_by_model
    key = ["agent", "model"]
    cur = tw.filter(pl.col("period_start") == d.week.start)
    prev = tw.filter(pl.col("period_start") == d.previous.start).select(
        *key, pl.col("total_tokens").alias("prev_tokens"), pl.col("cost_usd").alias("prev_cost"), pl.col("llm_calls").alias("prev_calls")
    )
    j = (
        cur.join(prev, on=key, how="full", coalesce=True)
        .with_columns(pl.col("total_tokens").fill_null(0))
        .sort(["total_tokens", "agent", "model"], descending=[True, False, False], nulls_last=True)
    )
    table = Table(
        "usage-table",
        f"Tokens and cost by model: {d.week} vs {d.previous}",
        ["Agent", "Model", "LLM calls", "Tokens", f"{d.previous}", "Change", "Output", "Cache hit", "Cost", f"Cost {d.previous}", "Unpriced calls"],
        _rows(
            j,
            [
                lambda r: r["agent"],
                lambda r: r["model"] or "(none)",
                lambda r: fmt.integer(r["llm_calls"] or 0),
                lambda r: fmt.si(r["total_tokens"]),
                lambda r: fmt.si(r["prev_tokens"]),
                lambda r: fmt.change_pct_n(fmt.rel_change(r["total_tokens"], r["prev_tokens"]), r["llm_calls"], r["prev_calls"]),
                lambda r: fmt.si(r["output_tokens"]),
                lambda r: fmt.pct(r["cache_hit_ratio"], 0),
                lambda r: fmt.usd(r["cost_usd"]),
                lambda r: fmt.usd(r["prev_cost"]),
                lambda r: fmt.integer(r["unpriced_calls"] or 0),
            ],
        ),
        ["l", "l"] + ["r"] * 9,
    )
    figures = []
    daily = d.tokens_daily
    if daily.height:
        daily = model_labels(daily).rename({"period_start": "period"})
        figures.append(
            Figure(
                "tokens-over-time",
                "Tokens per day",
                tc.tokens_over_time(daily, group="series", group_title="model", value="total_tokens", title=f"Tokens per day, last {TREND_WEEKS} weeks"),
                f"Stacked daily token totals per model over the {TREND_WEEKS} weeks ending {d.week}.",
            )
        )
        if daily.get_column("cost_usd").drop_nulls().len():
            figures.append(
                Figure(
                    "cost-over-time",
                    "Cost per day",
                    tc.cost_over_time(
                        daily, group="series", group_title="model", value="cost_usd", title=f"Estimated cost per day (USD), last {TREND_WEEKS} weeks"
                    ),
                    f"Stacked daily estimated cost per model over the {TREND_WEEKS} weeks ending {d.week}.",
                )
            )
    lead = (
        "Tokens = input + output + cache read + cache write over non-synthetic LLM calls. Cost applies tracelab's dated "
        "list-price table; calls of models it cannot price count as unpriced (unknown), never as zero."
    )
    return Section("usage", "Tokens and cost by model", lead=lead, figures=figures, tables=[table])


def _cluster_table(id: str, caption: str, df: pl.DataFrame, empty: str) -> Table:
    return Table(
        id,
        caption,
        ["Cluster", "Family", "Failure", "This week", "Last week", "Sessions", "Tools", "First seen"],
        _rows(
            df,
            [
                lambda r: r["cluster_id"],
                lambda r: r["family"],
                lambda r: (r["name"] or r["template"] or "")[:140],
                lambda r: fmt.integer(r["n_current"]),
                lambda r: fmt.integer(r["n_previous"]),
                lambda r: fmt.integer(r["n_sessions"]),
                lambda r: ", ".join((r.get("tools") or [])[:4]),
                lambda r: r["first_seen_ever"].strftime("%Y-%m-%d") if isinstance(r.get("first_seen_ever"), _dt.datetime) else fmt.DASH,
            ],
        ),
        ["m", "l", "w", "r", "r", "r", "w", "l"],
        empty=empty,
    )


def failures_section(d: WeeklyData) -> Section:
    ft = d.thresholds.failures
    cl = d.clusters
    if cl.height == 0:
        return Section("failures", "Failure clusters", lead="No failure events in this or the previous week.", notes=list(d.notes))
    listed = listed_clusters(cl, ft)
    top, new, growing = listed["top"], listed["new"], listed["growing"]
    tables = [
        _cluster_table("top-clusters", f"Top failure clusters in {d.week}", top, "No failures this week."),
        _cluster_table("new-clusters", f"New failure clusters (first seen in {d.week})", new, "No new failure clusters this week."),
        _cluster_table(
            "growing-clusters",
            f"Growing failure clusters (≥ {ft.min_events} events and ≥ {ft.growth:g}× last week)",
            growing,
            "No growing failure clusters this week.",
        ),
    ]
    ex = listed_exemplars(d.exemplars, cl, ft)
    if ex.height:
        link = d.session_links.get
        rows = ex.to_dicts()
        tables.append(
            Table(
                "cluster-exemplars",
                f"Exemplars (first {ft.exemplars} per listed cluster this week)",
                ["Cluster", "When (UTC)", "Agent · model · tool", "Where", "Excerpt", "Session"],
                _rows(
                    ex,
                    [
                        lambda r: r["cluster_id"],
                        lambda r: r["ts"].strftime("%Y-%m-%d %H:%M") if r.get("ts") else fmt.DASH,
                        lambda r: " · ".join(x for x in (r.get("agent"), r.get("model"), r.get("tool_name")) if x),
                        lambda r: f"{(r.get('source_file') or '').rsplit('/', 1)[-1]}:{r.get('line_no')}",
                        lambda r: " ".join((r.get("excerpt") or "").split())[:200],
                        lambda r: f"step {h.rsplit('-', 1)[-1]}" if (h := link(r.get("event_key") or "")) else fmt.DASH,
                    ],
                ),
                ["m", "l", "w", "w", "w", "l"],
                links=[[*([None] * 5), link(r.get("event_key") or "")] for r in rows],
                note="Session: the step of the session's page (written beside this report, in sessions/) that shows the failure." if d.session_links else "",
            )
        )
    figures = []
    if d.cluster_weekly.height and top.height:
        keep = top.head(8).select("cluster_id", pl.col("name").alias("label"))
        trend = d.cluster_weekly.join(keep, on="cluster_id", how="inner")
        figures.append(
            Figure(
                "failure-cluster-trends",
                "Failure clusters per week",
                tc.failure_cluster_trends(trend, top=None, title=f"Top failure clusters of {d.week}, per week"),
                f"Weekly event counts of the top failure clusters of {d.week} over the last {TREND_WEEKS} weeks.",
            )
        )
    lead = (
        "Failures (tool errors, rejections, interruptions, API errors, loops, retry storms, abandoned sessions) are grouped "
        "into clusters by normalised message template; cluster ids are stable across weeks."
    )
    return Section("failures", "Failure clusters", lead=lead, figures=figures, tables=tables, notes=list(d.notes))


def scorecard_frame(comparison: pl.DataFrame) -> pl.DataFrame:
    """Long (model, metric, value, better, label, n) rows for :func:`tracelab.charts.model_scorecard`
    from ``report_model_comparison`` rows (models labelled with :func:`model_labels`)."""
    c = model_labels(comparison)
    metrics = [
        ("tool error rate", "error_rate", "completed", "lower", lambda r: fmt.rate_ci(r["error_rate"], r["ci_low"], r["ci_high"])),
        ("LLM latency p50", "p50_ms", "latency_n", "lower", lambda r: fmt.ms_n(r["p50_ms"], r["latency_n"])),
        ("LLM latency p95", "p95_ms", "latency_n", "lower", lambda r: fmt.ms_n(r["p95_ms"], r["latency_n"])),
        ("tokens per call", "tokens_per_call", "llm_calls", "lower", lambda r: fmt.si(r["tokens_per_call"])),
        ("cost per call", "cost_per_call", "llm_calls", "lower", lambda r: fmt.usd(r["cost_per_call"])),
    ]
    return pl.DataFrame(
        [
            {"model": r["series"], "metric": name, "value": r[col], "better": better, "label": show(r), "n": r[ncol]}
            for r in c.iter_rows(named=True)
            for name, col, ncol, better, show in metrics
            if r[col] is not None
        ],
        schema={"model": pl.String, "metric": pl.String, "value": pl.Float64, "better": pl.String, "label": pl.String, "n": pl.Int64},
    )


def models_section(d: WeeklyData) -> Section:
    c = model_labels(d.comparison)
    note = c.get_column("note")[0] if c.height else ""
    figures = []
    long = scorecard_frame(d.comparison)
    if long.height:
        figures.append(
            Figure(
                "model-scorecard",
                "Model scorecard",
                tc.model_scorecard(
                    long, title=f"Model comparison, {d.week}", subtitle="colour: best (green) to worst (red) per row among these models; n = sample size"
                ),
                f"Scorecard of tool error rate, latency, tokens and cost per call for each model in {d.week}.",
            )
        )
    table = Table(
        "model-table",
        f"Models in {d.week}",
        ["Agent", "Model", "Sessions", "LLM calls", "Tool calls", "Error rate [95% CI]", "p50", "p95", "Tokens/call", "Cost/call"],
        _rows(
            c,
            [
                lambda r: r["agent"],
                lambda r: r["model"],
                lambda r: fmt.integer(r["sessions"]),
                lambda r: fmt.integer(r["llm_calls"]),
                lambda r: fmt.integer(r["tool_calls"]),
                lambda r: f"{fmt.rate_ci(r['error_rate'], r['ci_low'], r['ci_high'])} (n={r['completed']})",
                lambda r: fmt.ms_n(r["p50_ms"], r["latency_n"]),
                lambda r: fmt.ms_n(r["p95_ms"], r["latency_n"]),
                lambda r: fmt.si(r["tokens_per_call"]),
                lambda r: fmt.usd(r["cost_per_call"]),
            ],
        ),
        ["l", "l"] + ["r"] * 8,
    )
    lead = "Side by side, with sample sizes and 95% intervals. Differences between models reflect their users, tasks and harnesses as much as the models."
    return Section("models", "Model comparison", lead=lead, figures=figures, tables=[table], notes=[note] if note else [])


def data_quality_section(d: WeeklyData) -> Section:
    rejects = Table(
        "rejects-table",
        "Rejected lines by reason (all ingested files)",
        ["Agent", "Reason", "Lines", "Files", "Example"],
        _rows(
            d.rejects,
            [lambda r: r["agent"], lambda r: r["reason"], lambda r: fmt.integer(r["lines"]), lambda r: fmt.integer(r["files"]), lambda r: r["example"]],
        ),
        ["l", "w", "r", "r", "w"],
        empty="No rejected lines.",
    )
    unknown = Table(
        "unknown-types-table",
        "Unknown line types (events of kind 'unknown', by native type)",
        ["Agent", "Native type", "This week", "All time", "First seen", "Last seen", "Agent versions"],
        _rows(
            d.unknown_types,
            [
                lambda r: r["agent"],
                lambda r: r["native_type"],
                lambda r: fmt.integer(r["events_in_week"]),
                lambda r: fmt.integer(r["events"]),
                lambda r: str(r["first_day"]) if r["first_day"] else fmt.DASH,
                lambda r: str(r["last_day"]) if r["last_day"] else fmt.DASH,
                lambda r: r["agent_versions"] or fmt.DASH,
            ],
        ),
        ["l", "l", "r", "r", "l", "l", "w"],
        empty="Every line type was recognised.",
    )
    parsers = Table(
        "parser-versions-table",
        "Source files by parser version",
        ["Agent", "Parser", "Schema", "Files", "Lines", "Ingested", "Duplicate", "Rejected", "Last parsed (UTC)"],
        _rows(
            d.parser_versions,
            [
                lambda r: r["agent"],
                lambda r: r["parser_version"] or fmt.DASH,
                lambda r: str(r["schema_version"]),
                lambda r: fmt.integer(r["files"]),
                lambda r: fmt.integer(r["lines_total"]),
                lambda r: fmt.integer(r["lines_ingested"]),
                lambda r: fmt.integer(r["lines_duplicate"]),
                lambda r: fmt.integer(r["lines_rejected"]),
                lambda r: r["last_ingested_at"].strftime("%Y-%m-%d %H:%M") if r["last_ingested_at"] else fmt.DASH,
            ],
        ),
        ["l", "l", "r", "r", "r", "r", "r", "r", "l"],
        empty="No source files.",
    )
    lead = f"Data in the warehouse spans {d.first_day} to {d.last_day}. Rejects and parser versions cover every ingested file."
    return Section("data-quality", "Data quality", lead=lead, tables=[rejects, unknown, parsers])


def suggestions_section(d: WeeklyData) -> Section:
    """The top suggestions of ``tracelab suggest`` learnt up to the report week's end."""
    df = d.suggestions
    rows = []
    for r in df.iter_rows(named=True):
        seen = f"{r['first_seen']:%Y-%m-%d} – {r['last_seen']:%Y-%m-%d}" if r["first_seen"] is not None else ""
        example = r["examples"][0] if r["examples"] else ""
        rows.append(
            [
                r["id"],
                f"{r['kind']}/{r['decision']}",
                r["project"],
                f"{r['rule']} → {r['target']}",
                f"{r['n_events']} calls, {r['n_sessions']} sessions, {seen}; e.g. {example}",
                f"{r['calls_per_week']} calls, {r['minutes_per_week']} min, {r['tokens_per_week']:.0f} tokens per week",
                r["oot"],
            ]
        )
    table = Table(
        "suggestions",
        "Top suggestions: rule, evidence, backtest per week, out-of-time check",
        ["Id", "Kind", "Project", "Change", "Evidence", "Backtest", "Out of time"],
        rows,
        ["m", "l", "l", "w", "w", "w", "l"],
        empty="No suggestion has enough repeated evidence yet.",
    )
    lead = (
        f"{df.height} suggested changes to permissions, instructions and hooks, learnt from the sessions up to this week's end. "
        "`tracelab suggest --id ID --json` shows the full evidence; `tracelab suggest --format patch` writes the snippets."
        if df.height
        else "No suggested harness changes."
    )
    return Section("suggestions", "Suggested harness changes", lead=lead, tables=[table])


def build(d: WeeklyData, *, generated_at: _dt.datetime | None = None) -> Report:
    """All sections of the weekly report, in order."""
    regressions = regressions_of(d)
    generated_at = generated_at or _dt.datetime.now(_dt.UTC)
    return Report(
        title=f"tracelab weekly quality report — {d.week}",
        week=str(d.week),
        span=d.week.span,
        previous=str(d.previous),
        generated_at=generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        warehouse=d.warehouse,
        data_span=f"{d.first_day} to {d.last_day}",
        thresholds=d.thresholds.to_dict(),
        regressions=regressions,
        sections=[
            summary_section(d, regressions),
            tool_errors_section(d),
            latency_section(d),
            usage_section(d),
            failures_section(d),
            suggestions_section(d),
            models_section(d),
            data_quality_section(d),
        ],
        notes=list(d.notes),
        warnings=list(d.warnings),
        empty_week=not d.events,
    )
