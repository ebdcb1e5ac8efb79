"""The one SQL loader: every ``.sql`` file tracelab ships, found by name, with its header parsed.

SQL lives in six places, each a package so an installed tracelab finds it with
:mod:`importlib.resources`:

==========================  ===============================================================
``queries/``                the public library of named queries (``tracelab query run NAME``),
                            mapped into the wheel as ``tracelab.queries``; ``_macros.sql``
                            holds the macros every query shares
``tracelab/sql/``           internal: derive, failures, info, search, ingest, demo
``tracelab/evals/sql/``     the eval exporter's lookups
``tracelab/feedback/sql/``  feedback target resolution
``tracelab/reports/sql/``   the weekly report's own queries
``tracelab/suggest/sql/``   ``tracelab suggest``: the calls it mines, rejected suggestions
==========================  ===============================================================

Every file starts with the same comment header (``tests/test_architecture.py`` checks it)::

    -- name: tool_error_rates                 (= the file name without .sql)
    -- description: What it is; continuation lines are indented by two or more spaces.
    -- param since TIMESTAMP = NULL: window start, inclusive (UTC)
    -- param period VARCHAR = 'week' {day|week|month|all}: choices in braces
    -- param bins INTEGER = 30 (>= 1): a numeric parameter's lower bound
    -- returns period_start DATE: first day of the bucket

    -- a blank line ends the header; comments after it belong to the SQL

``param`` and ``returns`` lines are there where the file is a query; a script of macros has
only the name and description. Names are unique across all areas, so :func:`sql_text` and
:func:`load` take a bare name. Values always travel as DuckDB named parameters (``$name``).
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracelab.errors import ParameterError, QueryError, UnknownQuery

if TYPE_CHECKING:  # pragma: no cover
    from importlib.abc import Traversable

__all__ = [
    "AREAS",
    "PARAM_TYPES",
    "Column",
    "Param",
    "Query",
    "QueryError",
    "QueryParamError",
    "UnknownQueryError",
    "coerce",
    "library",
    "load",
    "parse",
    "referenced_params",
    "sql_files",
    "sql_text",
    "to_datetime",
]

#: Where ``.sql`` files live: area name -> package. ``queries`` is the public library.
AREAS = {
    "queries": "tracelab.queries",
    "internal": "tracelab.sql",
    "evals": "tracelab.evals.sql",
    "feedback": "tracelab.feedback.sql",
    "reports": "tracelab.reports.sql",
    "suggest": "tracelab.suggest.sql",
}

#: Header types a parameter may declare; each maps to a Python converter in :func:`coerce`.
PARAM_TYPES = ("VARCHAR", "VARCHAR[]", "INTEGER[]", "TIMESTAMP", "DATE", "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN")


class UnknownQueryError(UnknownQuery):
    """No SQL file of that name."""

    def __init__(self, name: str, known: list[str]):
        self.name = name
        self.known = known
        super().__init__(f"no query named {name!r}; known: {', '.join(known)}", query=name)


class QueryParamError(ParameterError):
    """A parameter value a query cannot take."""

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
    source: str  #: file name inside its area's package

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
# finding files
# --------------------------------------------------------------------------------------


def area_dir(area: str) -> Traversable:
    """The directory of ``area`` (a Traversable), found without importing the packages around
    it (``tracelab.reports`` imports Polars; listing SQL must not). The public library falls
    back to the source checkout's ``queries/`` when tracelab runs from a tree whose install
    predates the package mapping.

    A package that is a directory on disk (a wheel or editable install, a checkout) is read as
    a plain :class:`~pathlib.Path`: :mod:`importlib.resources` and the modules it loads cost
    a short command ~10 ms of start-up. Only a package it cannot find so (inside a zip) goes
    through :mod:`importlib.resources`."""
    package = AREAS[area]
    if area != "queries":
        parts = package.split(".")[1:]
        if (d := Path(__file__).parent.parent.joinpath(*parts)).is_dir():  # this file is tracelab/store/sql.py
            return d
        from importlib import resources

        return resources.files("tracelab").joinpath(*parts)
    try:
        spec = importlib.util.find_spec(package)  # the mapped directory, without importing the package
    except ModuleNotFoundError:
        spec = None
    for root in (spec.submodule_search_locations or ()) if spec is not None else ():
        if Path(root).is_dir():
            return Path(root)
    from importlib import resources

    try:
        return resources.files(package)
    except ModuleNotFoundError:
        src = Path(__file__).resolve().parents[2] / "queries"
        if src.is_dir():
            return src
        raise


@lru_cache(maxsize=1)
def _files() -> dict[str, tuple[str, Traversable]]:
    out: dict[str, tuple[str, Traversable]] = {}
    for area in AREAS:
        for entry in sorted(area_dir(area).iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".sql"):
                continue
            name = entry.name[: -len(".sql")]
            if name in out:
                raise QueryError(f"SQL file name {entry.name} is used twice ({out[name][0]} and {area}); names must be unique across areas")
            out[name] = (area, entry)
    return out


def sql_files() -> dict[str, tuple[str, Traversable]]:
    """Every ``.sql`` file tracelab ships: name -> (area, file)."""
    return dict(_files())


def _entry(name: str) -> Traversable:
    name = name[: -len(".sql")] if name.endswith(".sql") else name
    files = _files()
    if name not in files:
        raise UnknownQueryError(name, sorted(files))
    return files[name][1]


@cache
def sql_text(name: str) -> str:
    """The whole text of the SQL file ``name`` (``derive_llm_calls``, ``_macros``, ``sessions``
    …; with or without ``.sql``), header included: what a script of statements is run as."""
    return _entry(name).read_text(encoding="utf-8")


@cache
def load(name: str) -> Query:
    """The SQL file ``name`` parsed: its header and the statement after it."""
    entry = _entry(name)
    q = parse(entry.read_text(encoding="utf-8"), entry.name)
    if q.name != entry.name[: -len(".sql")]:
        raise QueryError(f"{entry.name}: header name {q.name!r} differs from the file name")
    return q


def library() -> dict[str, Query]:
    """The public named queries (``queries/*.sql``) by name; files starting with ``_`` are shared
    macros, not queries."""
    return {name: load(name) for name, (area, _) in _files().items() if area == "queries" and not name.startswith("_")}


# --------------------------------------------------------------------------------------
# the header
# --------------------------------------------------------------------------------------

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
    if type_.endswith("[]"):
        if not (t.startswith("[") and t.endswith("]")):
            raise QueryError(f"{where}: list default must look like ['a', 'b'], got {t}")
        inner = t[1:-1].strip()
        if type_ == "VARCHAR[]":
            return [_parse_default(x, "VARCHAR", where) for x in re.findall(r"'(?:[^']|'')*'", inner)] if inner else []
        return [_parse_default(x, "INTEGER", where) for x in inner.split(",")] if inner else []
    value: Any
    if t.startswith("'") and t.endswith("'"):
        value = t[1:-1].replace("''", "'")
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
    """Parse one SQL file. Raises :class:`QueryError` on a malformed header."""
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


def referenced_params(sql: str) -> set[str]:
    """``$names`` used in ``sql``, ignoring ``--`` comments and single-quoted strings."""
    # one pass, leftmost first: a quote inside a comment (``-- the query's``) starts no string,
    # and ``--`` inside a string starts no comment
    stripped = re.sub(r"'(?:[^']|'')*'|--[^\n]*", " ", sql)
    return set(_PARAM_REF.findall(stripped))


# --------------------------------------------------------------------------------------
# parameter values
# --------------------------------------------------------------------------------------

_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


def to_datetime(value: Any) -> _dt.datetime:
    """``value`` (a datetime, date or ISO string) as an aware UTC datetime; naive is UTC."""
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
    if type_ == "INTEGER[]":
        items = [v for v in value.split(",") if v.strip()] if isinstance(value, str) else list(value)
        return [coerce(v.strip() if isinstance(v, str) else v, "INTEGER") for v in items]
    if type_ == "TIMESTAMP":
        return to_datetime(value)
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
