"""Data of the weekly report: every number the report shows, as Polars frames.

:func:`assemble` runs the named queries of :mod:`tracelab.library` (``queries/*.sql``) where one
fits, the report's own queries (``tracelab/reports/sql/*.sql``, same header format) for the
week-over-week comparisons and data-quality tables, and :mod:`tracelab.failures` for failure
clusters. Nothing here formats or renders; :mod:`tracelab.reports.sections` turns a
:class:`WeeklyData` into report sections. Keeping the two apart lets tests check the numbers
against a corpus whose truth is known, and the rendered components separately.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from tracelab import library as Q
from tracelab.errors import NotFound, TracelabError
from tracelab.failures import api as F
from tracelab.reports.config import Thresholds, load_thresholds
from tracelab.reports.session_pages import exemplar_pages
from tracelab.reports.weeks import IsoWeek, latest_week
from tracelab.store.connection import Store
from tracelab.store.sql import load as load_sql
from tracelab.store.sql import sql_files
from tracelab.suggest.api import suggest

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

#: Weeks of history the trend charts (tokens, cost, failure clusters) show, report week included.
TREND_WEEKS = 8


class ReportDataError(NotFound):
    """The warehouse cannot produce the requested report (no data, bad week)."""


def report_query(name: str) -> Q.Query:
    """One of the report's own queries (``tracelab/reports/sql/<name>.sql``)."""
    return load_sql(name)


@lru_cache(maxsize=1)
def _report_query_names() -> tuple[str, ...]:
    return tuple(sorted(name for name, (area, _) in sql_files().items() if area == "reports"))


def report_query_names() -> list[str]:
    """Names of the report's own queries (``tracelab/reports/sql/*.sql``)."""
    return list(_report_query_names())


def run(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pl.DataFrame:
    """Run a report query (if ``name`` is one) or a library query, as Polars."""
    q = report_query(name) if name in _report_query_names() else name
    return Q.run(q, con, **params)


@dataclass
class WeeklyData:
    """Everything the weekly report shows, for ``week`` against ``week.previous``."""

    week: IsoWeek
    warehouse: str
    thresholds: Thresholds
    first_day: _dt.date
    last_day: _dt.date
    kpis: pl.DataFrame  #: report_kpis: rows current / previous
    overall_error: pl.DataFrame  #: report_error_rate_changes level all (one row)
    error_changes: pl.DataFrame  #: report_error_rate_changes level tool
    llm_latency: pl.DataFrame  #: report_latency_changes metric llm (group_key = model)
    tool_latency: pl.DataFrame  #: report_latency_changes metric tool (group_key = tool)
    llm_ecdf: pl.DataFrame  #: latency_ecdf of the report week (group_key = model)
    tokens_by_model: pl.DataFrame  #: token_usage by week, report week and previous
    tokens_daily: pl.DataFrame  #: token_usage by day over the trend window
    clusters: pl.DataFrame  #: failure clusters with events in the report or previous week (+ first_seen_ever)
    cluster_weekly: pl.DataFrame  #: cluster_id x week counts over the trend window
    exemplars: pl.DataFrame  #: up to N members per listed cluster, from the report week
    comparison: pl.DataFrame  #: report_model_comparison of the report week
    rejects: pl.DataFrame
    unknown_types: pl.DataFrame
    parser_versions: pl.DataFrame
    notes: list[str] = field(default_factory=list)
    #: top suggestions of ``tracelab suggest`` learnt up to the report week's end
    suggestions: pl.DataFrame = field(default_factory=pl.DataFrame)
    #: events with a timestamp in the report week and in the previous week
    events: int | None = None
    previous_events: int | None = None
    #: problems the reader must see first (an empty report week); the CLI prints them on stderr
    warnings: list[str] = field(default_factory=list)
    #: exemplar event_key -> ``sessions/NAME.html#step-N`` (see tracelab.reports.session_pages)
    session_links: dict[str, str] = field(default_factory=dict)
    #: ``NAME.html`` -> the session page the links point at, written beside the report
    session_pages: dict[str, str] = field(default_factory=dict)

    @property
    def previous(self) -> IsoWeek:
        return self.week.previous

    @property
    def trend_since(self) -> _dt.datetime:
        return self.week.shift(-(TREND_WEEKS - 1)).since

    def kpi(self, week: str) -> dict[str, Any]:
        rows = self.kpis.filter(pl.col("week") == week).to_dicts()
        return rows[0] if rows else {}

    @property
    def regressions(self) -> dict[str, pl.DataFrame]:
        """Every flagged row, by section."""
        return {
            "overall tool error rate": self.overall_error.filter(pl.col("regression")),
            "tool error rate": self.error_changes.filter(pl.col("regression")),
            "LLM latency": self.llm_latency.filter(pl.col("regression")),
            "tool latency": self.tool_latency.filter(pl.col("regression")),
        }


def resolve_week(con: duckdb.DuckDBPyConnection, week: str | IsoWeek | None) -> tuple[IsoWeek, _dt.date, _dt.date]:
    """The report week (given, or the latest ISO week that has events — see
    :mod:`tracelab.reports.weeks`) and the data span (first and last day with events)."""
    span = run(con, "report_data_span")
    first, last = span.row(0) if span.height else (None, None)
    if last is None:
        raise ReportDataError("the warehouse holds no timestamped events: nothing to report")
    if week is None:
        return latest_week(last), first, last
    try:
        w = week if isinstance(week, IsoWeek) else IsoWeek.parse(str(week))
    except ValueError as exc:
        raise ReportDataError(str(exc)) from None
    return w, first, last


def report_week(warehouse: str | os.PathLike, week: str | IsoWeek | None = None) -> IsoWeek:
    """The report week for ``warehouse``: ``week`` parsed, or by default the latest ISO week that
    has events (what ``tracelab report weekly`` and the notebooks use). An empty string counts
    as no week given (an unset parameter)."""
    with Store(warehouse) as store:
        return resolve_week(store.con, week or None)[0]


def _event_counts(con: duckdb.DuckDBPyConnection, week: IsoWeek) -> tuple[int, int]:
    """Timestamped events in ``week`` and in the week before it."""
    row = con.execute(
        "SELECT count(*) FILTER (WHERE ts >= $since), count(*) FILTER (WHERE ts < $since) FROM events WHERE ts >= $previous_since AND ts < $until",
        {"previous_since": week.previous.since, "since": week.since, "until": week.until},
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def _weeks_with_events_around(con: duckdb.DuckDBPyConnection, week: IsoWeek) -> tuple[IsoWeek | None, IsoWeek | None]:
    """The nearest weeks before and after ``week`` that hold events (``None`` when there is none)."""
    row = con.execute(
        "SELECT max(ts) FILTER (WHERE ts < $since), min(ts) FILTER (WHERE ts >= $until) FROM events WHERE ts IS NOT NULL",
        {"since": week.since, "until": week.until},
    ).fetchall()[0]

    def of(ts):
        return None if ts is None else IsoWeek.of(ts.astimezone(_dt.UTC).date())

    return of(row[0]), of(row[1])


def week_warnings(week: IsoWeek, events: int, first: _dt.date, last: _dt.date, around: tuple[IsoWeek | None, IsoWeek | None] = (None, None)) -> list[str]:
    """Warnings about the report week: one when it holds no events (the report is all zeros),
    naming the nearest weeks that have some (``around``: before, after), and one when the data
    ends inside the week (its figures cover part of it)."""
    if events:
        if week.start <= last < week.end:
            return [f"{week} is incomplete: the data ends on {last:%a} {last} (figures cover {week.start} to {last})."]
        return []
    where = "before the data starts" if week.until.date() <= first else "after the data ends" if week.start > last else "a gap in the data"
    near = " or ".join(f"--week {w}" + (" (incomplete)" if w == IsoWeek.of(last) else "") for w in around if w is not None)
    return [
        f"No sessions in this week: the warehouse has no events in {week} ({week.span}), {where} "
        f"(data spans {first} to {last}). Every figure of this report is empty." + (f" Nearest weeks with events: {near}." if near else "")
    ]


def _failures(
    warehouse: str | os.PathLike | Store, week: IsoWeek, trend_since: _dt.datetime, th: Thresholds
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Clusters active in the report or previous week (with configurable 'growing'), weekly
    counts over the trend window, and exemplar members from the report week."""
    f = F.load(warehouse)
    cl = F.clusters(f, since=week.since, until=week.until)
    # the same columns whether or not the week has failures (a sparse week must not change the frame's shape)
    # clusters() summarises the window; the all-time first sighting comes from the cluster table
    first = f.clusters.select("cluster_id", pl.col("first_seen").alias("first_seen_ever"))
    cl = cl.join(first, on="cluster_id", how="left")
    ft = th.failures
    nc, np_ = pl.col("n_current"), pl.col("n_previous")
    cl = cl.with_columns(
        (pl.col("trend") == "new").alias("is_new"),
        ((nc >= ft.min_events) & (np_ > 0) & (nc >= ft.growth * np_)).alias("is_growing"),
    ).filter((nc > 0) | (np_ > 0))
    m = F.members(f, since=trend_since, until=week.until)
    weekly = (
        m.with_columns(pl.col("ts").dt.convert_time_zone("UTC").dt.truncate("1w").dt.date().alias("period"))
        .group_by("period", "cluster_id")
        .agg(pl.len().alias("count"))
        .sort("period", "cluster_id")
    )
    in_week = m.filter(pl.col("ts") >= week.since).sort("ts", "member_key")
    cols = [
        c
        for c in ("cluster_id", "ts", "agent", "model", "tool_name", "session_id", "session_key", "event_key", "source_file", "line_no", "excerpt")
        if c in in_week.columns
    ]
    exemplars = in_week.select(cols).group_by("cluster_id", maintain_order=True).head(th.failures.exemplars)
    return cl, weekly, exemplars


def listed_clusters(clusters: pl.DataFrame, ft: Any) -> dict[str, pl.DataFrame]:
    """The clusters the report lists (``ft``: the failure thresholds): ``top`` (most events
    this week), ``new`` (first seen this week) and ``growing``; each at most ``ft.top``."""
    if clusters.height == 0:
        return {"top": clusters, "new": clusters, "growing": clusters}
    order = ["n_current", "n_previous", "cluster_id"]
    desc = [True, True, False]
    return {
        "top": clusters.filter(pl.col("n_current") > 0).sort(order, descending=desc).head(ft.top),
        "new": clusters.filter(pl.col("is_new")).sort(order, descending=desc).head(ft.top),
        "growing": clusters.filter(pl.col("is_growing"))
        .with_columns((pl.col("n_current") - pl.col("n_previous")).alias("_g"))
        .sort(["_g", "cluster_id"], descending=[True, False])
        .head(ft.top),
    }


def listed_exemplars(exemplars: pl.DataFrame, clusters: pl.DataFrame, ft: Any) -> pl.DataFrame:
    """The exemplars of the listed clusters (:func:`listed_clusters`), in the frame's order."""
    if exemplars.height == 0:
        return exemplars
    ids = pl.concat([df.select("cluster_id") for df in listed_clusters(clusters, ft).values()]).unique(maintain_order=True)
    return exemplars.join(ids, on="cluster_id", how="semi")


#: How many suggestions of ``tracelab suggest`` the report lists.
TOP_SUGGESTIONS = 5


def top_suggestions(warehouse: str | os.PathLike | Store, until: _dt.datetime, n: int = TOP_SUGGESTIONS) -> pl.DataFrame:
    """The ``n`` best suggestions learnt from calls before ``until`` (the report week's end)."""
    return suggest(warehouse, until=until).head(n)


def assemble(
    warehouse: str | os.PathLike,
    week: str | IsoWeek | None = None,
    thresholds: Thresholds | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> WeeklyData:
    """Compute the weekly report's data for ``week`` (default: the latest week that has events).

    Without ``con`` the warehouse is opened once (:class:`~tracelab.store.Store`) and every
    number, failure clusters included, comes from that one snapshot."""
    th = thresholds or load_thresholds()
    store: Store | None = None
    if con is None:
        store = Store(warehouse)
        con = store.con
    try:
        w, first, last = resolve_week(con, week)
        n_events, n_previous = _event_counts(con, w)
        around = _weeks_with_events_around(con, w) if n_events == 0 else (None, None)
        prev = w.previous
        window = {"previous_since": prev.since, "since": w.since, "until": w.until}
        te = th.tool_error_rate
        err = {
            "min_increase_pp": te.min_increase_pp,
            "alpha": te.alpha,
            "correction": te.correction,
            "min_calls": te.min_calls,
            "min_calls_previous": te.min_calls_previous,
        }
        tl = th.latency
        lat = {"min_increase_pct": tl.min_increase_pct, "alpha": tl.alpha, "correction": tl.correction, "min_samples": tl.min_samples}
        trend_since = w.shift(-(TREND_WEEKS - 1)).since
        data = dict(
            kpis=run(con, "report_kpis", **window),
            overall_error=run(con, "report_error_rate_changes", level="all", **window, **err),
            error_changes=run(con, "report_error_rate_changes", level="tool", **window, **err),
            llm_latency=run(con, "report_latency_changes", metric="llm", **window, **lat),
            tool_latency=run(con, "report_latency_changes", metric="tool", **window, **lat),
            llm_ecdf=run(con, "latency_ecdf", since=w.since, until=w.until, metric="llm", by="model", points=50),
            tokens_by_model=run(con, "token_usage", since=prev.since, until=w.until, period="week"),
            tokens_daily=run(con, "token_usage", since=trend_since, until=w.until, period="day"),
            comparison=run(con, "report_model_comparison", since=w.since, until=w.until),
            rejects=run(con, "report_rejects"),
            unknown_types=run(con, "report_unknown_types", since=w.since, until=w.until),
            parser_versions=run(con, "report_parser_versions"),
        )
        clusters, cluster_weekly, exemplars = _failures(store if store is not None else warehouse, w, trend_since, th)
        shown = listed_exemplars(exemplars, clusters, th.failures)
        links, pages = exemplar_pages(con, shown["event_key"].to_list()) if "event_key" in shown.columns else ({}, {})
        try:
            suggestions = top_suggestions(store if store is not None else warehouse, w.until)
            suggest_note = None
        except TracelabError as exc:
            suggestions = pl.DataFrame()
            suggest_note = f"suggested harness changes unavailable: {exc}"
    finally:
        if store is not None:
            store.close()
    warnings = week_warnings(w, n_events, first, last, around)
    notes: list[str] = []
    if suggest_note:
        notes.append(suggest_note)
    return WeeklyData(
        suggestions=suggestions,
        week=w,
        warehouse=str(Path(warehouse)),
        thresholds=th,
        first_day=first,
        last_day=last,
        clusters=clusters,
        cluster_weekly=cluster_weekly,
        exemplars=exemplars,
        notes=notes,
        events=n_events,
        previous_events=n_previous,
        warnings=warnings,
        session_links=links,
        session_pages=pages,
        **data,
    )
