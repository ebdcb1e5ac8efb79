"""Named, parameterized SQL: load the ``.sql`` files of ``queries/`` and run them by name.

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
bounds, prices, turns) lives in ``queries/_macros.sql``, installed on every catalog connection
by :func:`install`.

The ``queries`` directory sits at the top of the repository (so it is easy to find) and is
mapped into the wheel as the package ``tracelab.queries``; it is read with
:mod:`importlib.resources`, so an installed tracelab finds its queries without the source tree.

This module is callable: ``tracelab.query("tool_error_rates", warehouse="wh", period="day")``
returns a Polars DataFrame (see :func:`query`). Heavy imports (duckdb, polars) happen inside
functions so that ``import tracelab`` stays cheap.
"""

from __future__ import annotations

import datetime as _dt
import re
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracelab.errors import ParameterError, QueryError, UnknownQuery

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import polars as pl

__all__ = [
    "Column",
    "Param",
    "Query",
    "QueryError",
    "QueryParamError",
    "UnknownQueryError",
    "coerce",
    "get",
    "install",
    "load_all",
    "query",
    "run",
    "sql_text",
]

#: Header types a parameter may declare; each maps to a Python converter in :func:`coerce`.
PARAM_TYPES = ("VARCHAR", "VARCHAR[]", "TIMESTAMP", "DATE", "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN")

MACROS_FILE = "_macros.sql"


class UnknownQueryError(UnknownQuery):
    def __init__(self, name: str, known: list[str]):
        self.name = name
        self.known = known
        super().__init__(f"no query named {name!r}; known: {', '.join(known)}", query=name)


class QueryParamError(ParameterError):
    def __init__(self, query: str, param: str, message: str):
        self.query = query
        self.param = param
        self.detail = message
        super().__init__(f"query {query!r}, parameter {param!r}: {message}", query=query, param=param)


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    description: str
    choices: tuple[str, ...] = ()  #: allowed values (``{a|b|c}`` in the header); empty = any
    minimum: int | float | None = None  #: lowest allowed value (``(>= N)`` in the header)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    params: tuple[Param, ...]
    returns: tuple[Column, ...]
    sql: str
    source: str  #: file name inside the queries package

    @property
    def summary(self) -> str:
        """The first sentence of the description."""
        m = re.match(r"(.+?\.)(\s|$)", self.description)
        return m.group(1) if m else self.description

    @property
    def param_names(self) -> list[str]:
        return [p.name for p in self.params]

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise QueryParamError(self.name, name, f"not a parameter (declared: {', '.join(self.param_names) or 'none'})")


# --------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------


def _queries_dir():
    """The ``tracelab.queries`` package directory (a Traversable), or the source checkout's
    ``queries/`` when tracelab runs from a tree whose install predates the mapping."""
    try:
        return resources.files("tracelab.queries")
    except ModuleNotFoundError:
        src = Path(__file__).resolve().parents[1] / "queries"
        if src.is_dir():
            return src
        raise


def sql_text(filename: str) -> str:
    """Text of one file of the queries package (e.g. ``_macros.sql``)."""
    return (_queries_dir() / filename).read_text(encoding="utf-8")


_HEADER_KEY = re.compile(r"^--\s?(name|description):\s*(.*)$")
_PARAM = re.compile(r"^--\s?param\s+(\w+)\s+([A-Z]+(?:\[\])?)(?:\s*=\s*(.+?))?(?:\s*\{([^}]*)\})?(?:\s*\(>=\s*(-?[\d.]+)\))?:\s+(.*)$")
_RETURNS = re.compile(r"^--\s?returns\s+(\w+)\s+([A-Z][A-Z0-9_ ]*?(?:\[\])?(?:\(\d+,\s*\d+\))?):\s+(.*)$")
_CONT = re.compile(r"^--\s{2,}(\S.*)$")
_PARAM_REF = re.compile(r"\$([A-Za-z_]\w*)")


def _parse_default(text: str | None, type_: str, where: str) -> Any:
    if text is None:
        return None
    t = text.strip()
    if t.upper() == "NULL":
        return None
    if type_ == "VARCHAR[]":
        if not (t.startswith("[") and t.endswith("]")):
            raise QueryError(f"{where}: list default must look like ['a', 'b'], got {t}")
        inner = t[1:-1].strip()
        return [_parse_default(x, "VARCHAR", where) for x in re.findall(r"'(?:[^']|'')*'", inner)] if inner else []
    if t.startswith("'") and t.endswith("'"):
        value: Any = t[1:-1].replace("''", "'")
    elif t.upper() in ("TRUE", "FALSE"):
        value = t.upper() == "TRUE"
    else:
        try:
            value = int(t)
        except ValueError:
            try:
                value = float(t)
            except ValueError:
                raise QueryError(f"{where}: cannot read default {t!r}") from None
    return coerce(value, type_)


def parse(text: str, source: str) -> Query:
    """Parse one query file. Raises :class:`QueryError` on a malformed header."""
    name = None
    desc: list[str] = []
    params: list[Param] = []
    returns: list[Column] = []
    last: str | None = None
    lines = text.splitlines()
    i = 0
    for i, line in enumerate(lines):  # noqa: B007
        if not line.startswith("--"):
            break
        if m := _HEADER_KEY.match(line):
            key, value = m.groups()
            if key == "name":
                name = value.strip()
            else:
                desc.append(value.strip())
            last = key
        elif m := _PARAM.match(line):
            pname, ptype, pdefault, pchoices, pmin, pdesc = m.groups()
            if ptype not in PARAM_TYPES:
                raise QueryError(f"{source}: parameter {pname} has unsupported type {ptype} (use one of {PARAM_TYPES})")
            choices = tuple(c.strip() for c in pchoices.split("|")) if pchoices else ()
            default = _parse_default(pdefault, ptype, f"{source}:{pname}")
            if choices and default is not None and default not in choices:
                raise QueryError(f"{source}: default of {pname} is not one of its choices")
            minimum = None
            if pmin is not None:
                if ptype not in ("INTEGER", "BIGINT", "DOUBLE"):
                    raise QueryError(f"{source}: parameter {pname} has a lower bound but type {ptype} is not numeric")
                minimum = coerce(float(pmin) if ptype == "DOUBLE" else int(pmin), ptype)
                if default is not None and default < minimum:
                    raise QueryError(f"{source}: default of {pname} is below its lower bound {minimum}")
            params.append(Param(pname, ptype, default, pdesc.strip(), choices, minimum))
            last = "param"
        elif m := _RETURNS.match(line):
            returns.append(Column(m.group(1), m.group(2), m.group(3).strip()))
            last = "returns"
        elif m := _CONT.match(line):
            if last == "description":
                desc.append(m.group(1).strip())
            elif last == "param":
                p = params[-1]
                params[-1] = Param(p.name, p.type, p.default, f"{p.description} {m.group(1).strip()}", p.choices, p.minimum)
            elif last == "returns":
                c = returns[-1]
                returns[-1] = Column(c.name, c.type, f"{c.description} {m.group(1).strip()}")
            else:
                raise QueryError(f"{source}: continuation line without a header key: {line!r}")
        elif line.strip() in ("--", ""):
            continue
        else:
            raise QueryError(f"{source}: unrecognised header line {line!r}")
    else:
        i = len(lines)
    if not name:
        raise QueryError(f"{source}: header has no '-- name:' line")
    body = "\n".join(lines[i:]).strip().rstrip(";").strip()
    if not body:
        raise QueryError(f"{source}: no SQL after the header")
    return Query(name, " ".join(desc), tuple(params), tuple(returns), body, source)


@lru_cache(maxsize=1)
def _load_all_cached() -> dict[str, Query]:
    out: dict[str, Query] = {}
    for entry in sorted(_queries_dir().iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql") or entry.name.startswith("_"):
            continue
        q = parse(entry.read_text(encoding="utf-8"), entry.name)
        if q.name != entry.name[: -len(".sql")]:
            raise QueryError(f"{entry.name}: header name {q.name!r} differs from the file name")
        out[q.name] = q
    return out


def load_all() -> dict[str, Query]:
    """All named queries, by name (files starting with ``_`` are shared macros, not queries)."""
    return dict(_load_all_cached())


def get(name: str) -> Query:
    queries = _load_all_cached()
    if name not in queries:
        raise UnknownQueryError(name, sorted(queries))
    return queries[name]


def referenced_params(sql: str) -> set[str]:
    """``$names`` used in ``sql``, ignoring ``--`` comments and single-quoted strings."""
    # one pass, leftmost first: a quote inside a comment (``-- the query's``) starts no string,
    # and ``--`` inside a string starts no comment
    stripped = re.sub(r"'(?:[^']|'')*'|--[^\n]*", " ", sql)
    return set(_PARAM_REF.findall(stripped))


# --------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------

_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


def _to_datetime(value: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        dt = value
    elif isinstance(value, _dt.date):
        dt = _dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        s = value.strip()
        if s.endswith("Z") or s.endswith("z"):
            s = s[:-1] + "+00:00"
        dt = _dt.datetime.fromisoformat(s)
    else:
        raise TypeError(f"expected a date/time, got {type(value).__name__}")
    return dt.replace(tzinfo=_dt.UTC) if dt.tzinfo is None else dt.astimezone(_dt.UTC)


def coerce(value: Any, type_: str) -> Any:
    """Convert ``value`` (a Python value or a command-line string) to the declared ``type_``.

    Raises ``ValueError``/``TypeError`` when it cannot; ``None`` stays ``None`` (no filter).
    Naive date-times are read as UTC.
    """
    if value is None:
        return None
    if type_ == "VARCHAR":
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {type(value).__name__}")
        return value
    if type_ == "VARCHAR[]":
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",")]
            return [v for v in items if v]
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value)
        raise TypeError("expected a list of strings or a comma-separated string")
    if type_ == "TIMESTAMP":
        return _to_datetime(value)
    if type_ == "DATE":
        if isinstance(value, _dt.datetime):
            return value.date()
        if isinstance(value, _dt.date):
            return value
        return _dt.date.fromisoformat(str(value).strip())
    if type_ in ("INTEGER", "BIGINT"):
        if isinstance(value, bool):
            raise TypeError("expected an integer, got a boolean")
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"expected an integer, got {value}")
        return int(value)
    if type_ == "DOUBLE":
        if isinstance(value, bool):
            raise TypeError("expected a number, got a boolean")
        return float(value)
    if type_ == "BOOLEAN":
        if isinstance(value, bool):
            return value
        s = str(value).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise ValueError(f"expected true/false, got {value!r}")
    raise QueryError(f"unsupported parameter type {type_}")


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


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Install the shared macros and the price table on a catalog connection.

    Called at the end of :func:`tracelab.catalog.connect`. Idempotent (``CREATE OR REPLACE``).
    The macros the derive step shares (``tracelab/sql/derive_macros.sql``) go in first.
    """
    from tracelab.pricing import price_table
    from tracelab.store.derive import install_macros

    # Every view reference binds read_parquet over the snapshot's files (union_by_name reads
    # each footer); a named query references the tables many times through the macros, so
    # without the cache binding alone costs ~0.2 s a query at 10M events. Warehouse parts are
    # immutable (new parts get new names), so cached footers never go stale.
    con.execute("SET parquet_metadata_cache = true")
    con.register("_tl_prices_arrow", price_table())
    con.execute("CREATE OR REPLACE TEMP TABLE tl_prices AS SELECT * FROM _tl_prices_arrow")
    con.unregister("_tl_prices_arrow")
    install_macros(con)
    con.execute(sql_text(MACROS_FILE))


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
        from tracelab.catalog import connect

        con = connect(warehouse)
        try:
            return _fetch(name, lambda: relation(con, name, **params).pl())
        finally:
            con.close()
    return _fetch(name, lambda: relation(con, name, **params).pl())


def run_arrow(name: str | Query, con: duckdb.DuckDBPyConnection, **params: Any):
    """Like :func:`run` on an open connection, as a pyarrow Table."""
    return _fetch(name, lambda: relation(con, name, **params).to_arrow_table())


def query(name: str, warehouse: Any = None, **params: Any) -> pl.DataFrame:
    """``tracelab.query("tool_error_rates", warehouse="wh", period="day", model="...")``."""
    return run(name, warehouse=warehouse, **params)


class _CallableModule(types.ModuleType):
    """Lets ``tracelab.query(...)`` be both this module and the runner function."""

    def __call__(self, name: str, warehouse: Any = None, **params: Any) -> pl.DataFrame:
        return query(name, warehouse, **params)


sys.modules[__name__].__class__ = _CallableModule
