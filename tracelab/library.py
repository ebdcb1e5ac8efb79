"""The named-query library: the ``.sql`` files of ``queries/``, run by name with bound parameters.

One query per file. Each file starts with a comment header that declares what the query is,
what it takes and what it returns; the header is the contract, and ``tests/test_queries.py``
checks every file against it (declared params == ``$names`` in the SQL, declared returns ==
the columns the query actually produces)::

    -- name: tool_error_rates
    -- description: Tool error rates by period x agent x model x tool, with Wilson intervals.
    --   Continuation lines are indented by two or more spaces.
    -- param since TIMESTAMP = NULL: window start, inclusive (UTC)
    -- param period VARCHAR = 'week' {day|week|month|all}: bucket size (choices in braces)
    -- param bins INTEGER = 30 (>= 1): number of bins (a numeric parameter's lower bound)
    -- returns period_start DATE: first day of the bucket
    -- returns calls BIGINT: tool calls in the group

    -- a blank line ends the header; comments after it belong to the SQL
    SELECT ...  WHERE tl_in_window(started_at, $since, $until) ...

Values always travel as DuckDB named parameters (``$name``), never as SQL text: the caller's
strings are converted to the declared type in Python, then bound. Shared logic (filters, Wilson
bounds, prices, turns) lives in ``queries/_macros.sql``, installed on every store connection
(:func:`tracelab.store.connection.install`). Files are found and parsed by the one SQL loader,
:mod:`tracelab.store.sql`.

The ``queries`` directory sits at the top of the repository (so it is easy to find) and is
mapped into the wheel as the package ``tracelab.queries``; it is read with
:mod:`importlib.resources`, so an installed tracelab finds its queries without the source tree.

``tracelab.query("tool_error_rates", warehouse="wh", period="day")`` (:func:`query`) returns a
Polars DataFrame. This module loads without DuckDB or Polars (listing and parsing queries does
not need them); :func:`run` imports the store when it opens a warehouse.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tracelab.store import sql as _sql
from tracelab.store.sql import (
    PARAM_TYPES,
    Column,
    Param,
    Query,
    QueryError,
    QueryParamError,
    UnknownQueryError,
    coerce,
    parse,
    referenced_params,
    to_datetime,
)

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import polars as pl

__all__ = [
    "PARAM_TYPES",
    "Column",
    "Param",
    "Query",
    "QueryError",
    "QueryParamError",
    "UnknownQueryError",
    "bind",
    "coerce",
    "get",
    "load_all",
    "parse",
    "query",
    "referenced_params",
    "relation",
    "run",
    "run_arrow",
    "sql_text",
    "to_datetime",
]


def sql_text(filename: str) -> str:
    """Text of one SQL file by name (``_macros.sql``, ``tool_error_rates``); see
    :func:`tracelab.store.sql.sql_text`."""
    return _sql.sql_text(filename)


def load_all() -> dict[str, Query]:
    """All named queries, by name (files starting with ``_`` are shared macros, not queries)."""
    return _sql.library()


def get(name: str) -> Query:
    queries = _sql.library()
    if name not in queries:
        raise UnknownQueryError(name, sorted(queries))
    return queries[name]


#: what a value of each declared type looks like, for error messages
_EXPECTED = {
    "TIMESTAMP": "expected an ISO date or time, e.g. 2025-06-01 or 2025-06-01T12:00:00Z",
    "DATE": "expected an ISO date, e.g. 2025-06-01",
    "INTEGER": "expected an integer",
    "BIGINT": "expected an integer",
    "DOUBLE": "expected a number",
}


def bind(q: Query, params: Mapping[str, Any]) -> dict[str, Any]:
    """The full parameter dict for ``q``: declared defaults overlaid with ``params`` (converted)."""
    unknown = sorted(set(params) - set(q.param_names))
    if unknown:
        raise QueryParamError(q.name, unknown[0], f"not a parameter (declared: {', '.join(q.param_names) or 'none'})")
    out: dict[str, Any] = {}
    for p in q.params:
        if p.name in params:
            try:
                out[p.name] = coerce(params[p.name], p.type)
            except (TypeError, ValueError) as exc:
                raise QueryParamError(q.name, p.name, f"{exc} ({_EXPECTED.get(p.type, 'declared type ' + p.type)})") from None
            if p.choices and out[p.name] is not None and out[p.name] not in p.choices:
                raise QueryParamError(q.name, p.name, f"{out[p.name]!r} is not one of {', '.join(p.choices)}")
            if p.minimum is not None and out[p.name] is not None and out[p.name] < p.minimum:
                raise QueryParamError(q.name, p.name, f"{out[p.name]} is below the lowest allowed value, {p.minimum}")
        else:
            out[p.name] = p.default
    return out


# --------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------


def relation(con: duckdb.DuckDBPyConnection, q: Query | str, **params: Any) -> duckdb.DuckDBPyRelation:
    """Bind ``q`` on ``con`` and return the (lazy) DuckDB relation.

    Nothing runs until the relation is fetched (``.pl()``, ``.to_arrow_table()``, ``.fetchall()``),
    so callers can also compose on it (``rel.filter(...)``, ``rel.aggregate(...)``).
    """
    if isinstance(q, str):
        q = get(q)
    return con.sql(q.sql, params=bind(q, params))


def _fetch(q: Query | str, fn):
    """Run ``fn`` (bind + fetch), turning DuckDB errors into :class:`QueryError`."""
    import duckdb

    try:
        return fn()
    except duckdb.Error as exc:
        # mostly a bad value met at run time: error() in a macro (unknown `period`, `by`), an
        # unknown time zone; the SQL text itself never contains the value
        name = q if isinstance(q, str) else q.name
        raise QueryError(f"query {name!r}: {exc}") from exc


def run(
    name: str | Query,
    con: duckdb.DuckDBPyConnection | None = None,
    *,
    warehouse: Any = None,
    **params: Any,
) -> pl.DataFrame:
    """Run the named query and return a Polars DataFrame.

    Give either an open catalog connection ``con`` or a ``warehouse`` path (default: the
    ``TRACELAB_WAREHOUSE`` environment variable, else ``./warehouse``).
    """
    if con is None:
        # deliberately here: this module loads without DuckDB (listing and parsing queries)
        from tracelab.store.connection import Store

        with Store(warehouse) as store:
            return _fetch(name, lambda: relation(store.con, name, **params).pl())
    return _fetch(name, lambda: relation(con, name, **params).pl())


def run_arrow(name: str | Query, con: duckdb.DuckDBPyConnection, **params: Any):
    """Like :func:`run` on an open connection, as a pyarrow Table."""
    return _fetch(name, lambda: relation(con, name, **params).to_arrow_table())


def query(name: str, warehouse: Any = None, **params: Any) -> pl.DataFrame:
    """``tracelab.query("tool_error_rates", warehouse="wh", period="day", model="...")``."""
    return run(name, warehouse=warehouse, **params)
