"""The session list: :func:`sessions` (``tracelab sessions`` on the command line)."""

from __future__ import annotations

import datetime as _dt
import os
from typing import TYPE_CHECKING, Any

import duckdb

from tracelab import library as q
from tracelab.store.connection import Store
from tracelab.store.sql import load as load_sql

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl
    import pyarrow as pa

__all__ = ["listed_page", "session_list_needs", "session_rows", "session_tuples", "sessions", "sessions_table"]


def _params(
    since: str | _dt.date | None,
    until: str | _dt.date | None,
    agent: str | None,
    model: str | None,
    project: str | None,
    has_errors: bool,
    min_calls: int | None,
    subagents: bool | None,
    search: str | None,
    limit: int | None,
) -> dict[str, Any]:
    params: dict[str, Any] = dict(
        since=since,
        until=until,
        agent=agent,
        model=model,
        project=project,
        include_subagents=subagents is not False,
        only_subagents=subagents is True,
        has_errors=has_errors,
        min_calls=min_calls,
        limit=limit,
    )
    if search:
        params["search"] = search
    return params


def sessions_table(
    warehouse: str | os.PathLike | None = None,
    *,
    since: str | _dt.date | None = None,
    until: str | _dt.date | None = None,
    agent: str | None = None,
    model: str | None = None,
    project: str | None = None,
    has_errors: bool = False,
    min_calls: int | None = None,
    subagents: bool | None = None,
    search: str | None = None,
    limit: int | None = None,
    con: Any = None,
    use_index: bool = True,
) -> pa.Table:
    """:func:`sessions` as a pyarrow Table (what the command line writes as Parquet)."""
    params = _params(since, until, agent, model, project, has_errors, min_calls, subagents, search, limit)
    if con is not None:
        return q.run_arrow(load_sql("session_list"), con, **params)
    with Store(warehouse, needs=session_list_needs(params, use_index)) as store:
        return q.run_arrow(load_sql("session_list"), store.con, **_indexed(store, params, use_index))


def session_tuples(warehouse: str | os.PathLike | None = None, *, con: Any = None, **options: Any) -> tuple[list[str], list[tuple]]:
    """:func:`sessions` as (column names, Python rows): what the command line prints and
    writes as JSON or CSV, without Arrow (turning Arrow timestamps with a time zone into Python
    imports pandas, ~1 s)."""
    params = _params(**{k: options.get(k, d) for k, d in _DEFAULTS.items()})
    if con is not None:
        return _fetch(con, params)
    use_index = options.get("use_index", True)
    with Store(warehouse, needs=session_list_needs(params, use_index)) as store:
        return _fetch(store.con, _indexed(store, params, use_index))


def listed_page(warehouse: str | os.PathLike | None = None, **options: Any) -> tuple[list[str], list[tuple], dict[str, str]]:
    """:func:`session_tuples` and the id ``tracelab sessions`` shows for each row
    (:func:`tracelab.session.ids.short_ids`, unique in the whole warehouse), on one store
    opened with what both run (``session_list`` and ``session_names``), not a store each."""
    from tracelab.session.ids import short_ids

    params = _params(**{k: options.get(k, d) for k, d in _DEFAULTS.items()})
    use_index = options.get("use_index", True)
    with Store(warehouse, needs=[*session_list_needs(params, use_index), load_sql("session_names").sql]) as store:
        names, rows = _fetch(store.con, _indexed(store, params, use_index))
        at = names.index("session_key")
        return names, rows, short_ids(store.con, [r[at] for r in rows])


def session_rows(warehouse: str | os.PathLike | None = None, *, con: Any = None, **options: Any) -> list[dict[str, Any]]:
    """:func:`sessions` as Python rows (dicts), what the terminal listing prints (see :func:`session_tuples`)."""
    names, rows = session_tuples(warehouse, con=con, **options)
    return [dict(zip(names, r)) for r in rows]


def session_list_needs(params: dict[str, Any], use_index: bool = True) -> list[str]:
    """What the list runs, as ``Store(..., needs=...)`` takes it: ``session_list.sql`` and, for
    a search through the index, the index's queries (the store then binds only the views and
    macros those reach)."""
    needs = [load_sql("session_list").sql]
    if use_index and params.get("search"):
        from tracelab.textindex.search import index_needs

        needs += index_needs()
    return needs


def _fetch(con: Any, params: dict[str, Any]) -> tuple[list[str], list[tuple]]:
    query = load_sql("session_list")
    try:
        cur = con.execute(query.sql, q.bind(query, params))
        return [d[0] for d in cur.description], cur.fetchall()
    except duckdb.Error as exc:
        raise q.QueryError(f"query {query.name!r}: {exc}") from exc


def _indexed(store: Store, params: dict[str, Any], use_index: bool) -> dict[str, Any]:
    """``params`` with ``search`` answered from the warehouse's search index where it can be
    (the sessions holding a match, as ``keys``; :func:`tracelab.textindex.search.matching_sessions`):
    the same sessions as the scan of every event's text."""
    if not use_index or not params.get("search"):
        return params
    from tracelab.textindex.search import matching_sessions

    keys = matching_sessions(store.con, store.snapshot, store.root, params["search"])
    if keys is None:
        return params
    return {**{k: v for k, v in params.items() if k != "search"}, "keys": keys}


_DEFAULTS: dict[str, Any] = dict(
    since=None, until=None, agent=None, model=None, project=None, has_errors=False, min_calls=None, subagents=None, search=None, limit=None
)


def sessions(warehouse: str | os.PathLike | None = None, **options: Any) -> pl.DataFrame:
    """Sessions newest first, one row each, as a Polars DataFrame.

    Options (keyword): ``since`` / ``until`` (on the session start), ``agent``, ``model`` (a
    model the session used), ``project``, ``has_errors`` (only sessions with a tool error,
    rejection, API error, interrupt or interrupted tool call), ``min_calls`` (LLM calls), ``subagents`` (None: all,
    True: only subagent sessions, False: none), ``search`` (a case-insensitive substring some
    event's text or tool input holds; answered from the search index where the warehouse has
    one, unless ``use_index=False``), ``limit``, ``con`` (an open catalog connection).
    Columns: the ``returns`` lines of ``tracelab/sql/session_list.sql``.
    """
    import polars as pl

    return pl.from_arrow(sessions_table(warehouse, **options))  # type: ignore[return-value]
