"""Full-text search over a warehouse: :func:`search` (``tracelab search`` on the command line).

The search is the SQL of ``tracelab/sql/search_events.sql`` (a header like the named queries',
run the same way, on a catalog connection with the query macros): every event's text (prompts,
model text and thinking, tool output, errors, summaries) and tool input, with the filters
every query has. It is not one of the named queries of ``queries/``: those are aggregates over
the warehouse, while a search reads every stored text. With the warehouse's search index
(:mod:`tracelab.textindex`, kept by ingest) the same rows are found from its candidates; the
full scan (~0.5 s per 500k events here; see benchmarks/RESULTS.md) is the fallback and the
oracle the tests compare against. This module checks the arguments and returns a Polars
DataFrame.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from tracelab import library as q
from tracelab.errors import ParameterError
from tracelab.store.connection import Store, scratch_connection
from tracelab.store.sql import load as load_sql

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl
    import pyarrow as pa

__all__ = ["SearchError", "check_pattern", "search", "search_needs", "search_table"]


class SearchError(ParameterError, ValueError):
    """A search that cannot run (empty pattern, bad regular expression); the message is for the user."""


def search(pattern: str, warehouse: str | os.PathLike | None = None, **options: Any) -> pl.DataFrame:
    """Events whose text or tool input contains ``pattern``, newest first (at most ``limit``),
    as a Polars DataFrame.

    ``pattern`` is a plain substring, or an RE2 regular expression with ``regex=True``;
    matching ignores case unless ``case_sensitive``. Options (all keyword): ``regex``,
    ``case_sensitive``, ``since``, ``until``, ``agent``, ``project``, ``session`` (key or
    native id), ``kinds`` (list of event kinds), ``tool``, ``include_subagents`` (True),
    ``context`` (60 characters), ``limit`` (100), ``con`` (an open catalog connection instead of
    ``warehouse``; it is scanned), ``use_index`` (True: answer from the warehouse's search index
    where it can, :mod:`tracelab.textindex`; the rows are the same as the scan's). Columns: the ``returns`` lines of ``tracelab/sql/search_events.sql``
    (``snippet`` holds the match with ``context`` characters around it; ``total_matches``
    counts every matching event, not only the rows returned).
    """
    import polars as pl

    return pl.DataFrame(search_table(pattern, warehouse, **options))


def search_table(
    pattern: str,
    warehouse: str | os.PathLike | None = None,
    *,
    regex: bool = False,
    case_sensitive: bool = False,
    since: str | _dt.date | None = None,
    until: str | _dt.date | None = None,
    agent: str | None = None,
    project: str | None = None,
    session: str | None = None,
    kinds: Sequence[str] | None = None,
    tool: str | None = None,
    include_subagents: bool = True,
    context: int = 60,
    limit: int = 100,
    con: Any = None,
    use_index: bool = True,
    rows: bool = False,
    store: Store | None = None,
) -> pa.Table:
    """:func:`search` as a pyarrow Table (``rows``: as (column names, Python rows), what the
    command line prints: no pyarrow or Polars import).

    ``store``: an open store of the warehouse to search (instead of ``warehouse``), opened with
    at least :func:`search_needs`; it is left open (``tracelab search`` runs its hints on it)."""
    check_pattern(pattern, regex, store.con if store is not None else None)
    params = dict(
        pattern=pattern,
        regex=regex,
        case_sensitive=case_sensitive,
        since=since,
        until=until,
        agent=agent,
        project=project,
        session=session,
        kinds=list(kinds) if kinds else None,
        tool=tool,
        include_subagents=include_subagents,
        context=context,
        limit=limit,
    )
    if con is not None:  # a connection of unknown snapshot: its index cannot be trusted to match
        return _scan(con, params, rows)
    if store is not None:
        return _on_store(store, params, use_index, rows)
    # only the views and macros the search's SQL (scan or index) can reach: start-up
    with Store(warehouse, needs=search_needs()) as opened:
        return _on_store(opened, params, use_index, rows)


def check_pattern(pattern: Any, regex: bool, con: Any = None) -> None:
    """Raise :class:`SearchError` for a pattern no search can run: empty, or (``regex``) not an
    RE2 regular expression, checked on ``con`` or a scratch connection (before the warehouse
    is read)."""
    if not isinstance(pattern, str) or not pattern:
        raise SearchError("give a non-empty pattern")
    if not regex:
        return
    check = con if con is not None else scratch_connection(memory_limit=None)
    try:
        check.execute("SELECT regexp_matches('', $p)", {"p": pattern}).fetchall()
    except duckdb.Error as exc:
        raise SearchError(f"not a valid regular expression {pattern!r}: {str(exc).split(':', 1)[-1].strip()}") from None
    finally:
        if con is None:
            check.close()


def _on_store(store: Store, params: dict[str, Any], use_index: bool, rows: bool) -> Any:
    """The search over ``store``: through its index where it can answer, else the scan."""
    if use_index:
        from tracelab.textindex.search import run as indexed

        found = indexed(store.con, store.snapshot, store.root, params, rows=rows)
        if found is not None:
            return found
    return _scan(store.con, params, rows)


def _scan(con: Any, params: dict[str, Any], rows: bool) -> Any:
    """The full scan: ``search_events.sql`` over every event."""
    if not rows:
        return q.run_arrow(search_query(), con, **params)
    query = search_query()
    try:
        cur = con.execute(query.sql, q.bind(query, params))
        return [d[0] for d in cur.description], cur.fetchall()
    except duckdb.Error as exc:
        raise q.QueryError(f"query {query.name!r}: {exc}") from exc


def search_needs() -> list[str]:
    """Every statement a search may run (the scan's and the index's), for ``Store(needs=...)``."""
    from tracelab.textindex.search import index_needs

    return [search_query().sql, load_sql("search_rank").sql, *index_needs()]


def search_query() -> Any:
    """The search as a :class:`tracelab.library.Query` (parsed from its SQL file's header)."""
    return load_sql("search_events")
