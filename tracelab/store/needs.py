"""What of a store's catalog a piece of SQL can reach: the table views, shared macros, temporary
tables and the price table it names, and what those name in turn.

Opening a :class:`~tracelab.store.Store` creates one view per table (binding each reads the
footers of the table's Parquet parts), the ~35 shared objects of ``tracelab/sql/derive_macros.sql``
and ``queries/_macros.sql`` (one of which scans ``llm_calls``) and the price table: most of a
short command's time after importing DuckDB. A command that knows every statement it will run
(``tracelab sql``, ``tracelab info``) passes them as ``Store(..., needs=...)`` and gets only
:func:`plan`'s part.

The plan over-approximates: a name counts as used when it appears as a word anywhere in the text
(string literals and comments included; case ignored), and every object a used macro's statement
names (outside its comments) is used too. SQL that looks at the catalog itself (``SHOW``, ``DESCRIBE``,
``information_schema``, ``duckdb_*()`` …) gets the whole catalog, so listings stay complete.
What a plan cannot see (a table name built at run time) fails with a DuckDB
``CatalogException`` on the partial store; the caller then re-runs on a complete one
(``tracelab sql`` does), so results and error messages are those of the complete catalog.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache

from tracelab.store.sql import sql_text

__all__ = ["MACRO_SCRIPTS", "CatalogPlan", "PRICE_TABLE", "plan", "script_objects"]

#: the scripts of shared objects a store installs, in order (after the views and the price table)
MACRO_SCRIPTS = ("derive_macros", "_macros")
#: the price table (from ``tracelab/pricing/prices.toml``)
PRICE_TABLE = "tl_prices"

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: a statement of a script: starts at the beginning of a line with CREATE
_STATEMENT = re.compile(r"^CREATE\b", re.MULTILINE)
_CREATED = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:MACRO|FUNCTION|TABLE|VIEW)\s+(\w+)", re.IGNORECASE)
#: words that read the catalog itself: the statement gets every object
_INTROSPECTION = frozenset({"show", "describe", "summarize", "information_schema", "pg_catalog", "pragma", "sqlite_master", "sqlite_schema"})
_INTROSPECTION_PREFIXES = ("duckdb_", "pragma_", "sqlite_")


@dataclass(frozen=True)
class CatalogPlan:
    """The part of the catalog to create: ``views`` (table names), ``objects`` (names of shared
    macros and temporary tables, created in script order) and whether the price table is
    needed. ``complete``: everything (the SQL reads the catalog, or uses all of it)."""

    views: tuple[str, ...]
    objects: tuple[str, ...]
    prices: bool
    complete: bool


@cache
def script_objects() -> tuple[tuple[str, str], ...]:
    """(name, statement) of every object the macro scripts create, in the order they run. A
    statement starts at a line beginning with ``CREATE`` and runs to the next one (comments in
    between go with the statement before; ``tests/test_store_needs.py`` checks that each chunk
    is one statement creating the object it is named for)."""
    out: list[tuple[str, str]] = []
    for script in MACRO_SCRIPTS:
        text = sql_text(script)
        starts = [m.start() for m in _STATEMENT.finditer(text)]
        for a, b in zip(starts, [*starts[1:], len(text)]):
            chunk = text[a:b]
            m = _CREATED.match(chunk)
            if m is None:  # pragma: no cover - guarded by the test above
                raise ValueError(f"{script}.sql: cannot tell what this statement creates: {chunk[:80]!r}")
            out.append((m.group(1).lower(), chunk))
    return tuple(out)


#: a string literal (kept) or a ``--`` comment (dropped) of the macro scripts
_LITERAL_OR_COMMENT = re.compile(r"'(?:[^']|'')*'|--[^\n]*")


@cache
def _body_words(name: str, statement: str) -> frozenset[str]:
    """The words of a script object's statement without its comments: the comment lines that
    follow a statement in its script (before the next ``CREATE``) describe other objects."""
    return frozenset(_words(_LITERAL_OR_COMMENT.sub(lambda m: m.group(0) if m.group(0).startswith("'") else " ", statement)))


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _reads_catalog(words: set[str]) -> bool:
    return bool(words & _INTROSPECTION) or any(w.startswith(_INTROSPECTION_PREFIXES) for w in words)


def plan(sql: str | Iterable[str], tables: Collection[str]) -> CatalogPlan:
    """The catalog ``sql`` (one text or several) can reach, given the store's ``tables`` (its
    view names, in creation order)."""
    texts = [sql] if isinstance(sql, str) else list(sql)
    words = set().union(*(_words(t) for t in texts)) if texts else set()
    objects = script_objects()
    if _reads_catalog(words):
        return CatalogPlan(tuple(tables), tuple(name for name, _ in objects), True, True)
    bodies = dict(objects)
    names = {t.lower() for t in tables} | set(bodies) | {PRICE_TABLE}
    used: set[str] = set()
    todo = list(words & names)
    while todo:
        name = todo.pop()
        if name in used:
            continue
        used.add(name)
        if name in bodies:
            todo.extend((_body_words(name, bodies[name]) & names) - used)
    views = tuple(t for t in tables if t.lower() in used)
    chosen = tuple(name for name, _ in objects if name in used)
    complete = len(views) == len(tables) and len(chosen) == len(objects) and PRICE_TABLE in used
    return CatalogPlan(views, chosen, PRICE_TABLE in used, complete)
