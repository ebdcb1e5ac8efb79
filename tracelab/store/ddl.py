"""DuckDB SQL for the declared schemas (:mod:`tracelab.schema_types`): empty typed relations and
small tables from rows.

Registering a pyarrow object with DuckDB (``con.register``, ``con.from_arrow``) makes DuckDB
import pandas (~0.3 s) to check the object's type, and building the Arrow schemas imports
pyarrow (~0.2 s); the command line opens a warehouse on every command, so it creates the empty
views of absent tables and the price table from SQL of the declarations instead. Their types
are the ones DuckDB gives the Arrow data (``tests/test_store_ddl.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tracelab.schema_types import TableSchema, ident

__all__ = ["create_table", "empty_select"]

#: rows per INSERT statement of :func:`create_table`
_ROWS_PER_INSERT = 500


def empty_select(schema: TableSchema) -> str:
    """A ``SELECT`` of no rows with ``schema``'s columns and types (the body of an empty view)."""
    return schema.empty_select()


def create_table(con: Any, name: str, schema: TableSchema, rows: Iterable[Sequence[Any]] = (), *, temp: bool = True) -> None:
    """Create (or replace) table ``name`` with ``schema`` on ``con`` and insert ``rows``
    (tuples in column order), values bound as parameters."""
    cols = ", ".join(f"{ident(n)} {t.sql()}" for n, t in schema.columns)
    con.execute(f"CREATE OR REPLACE {'TEMP ' if temp else ''}TABLE {ident(name)} ({cols})")
    rows = [tuple(r) for r in rows]
    one = f"({', '.join('?' * len(schema.columns))})"
    for i in range(0, len(rows), _ROWS_PER_INSERT):
        # one statement per batch of rows (executemany runs the statement once per row: ~0.4 ms each)
        batch = rows[i : i + _ROWS_PER_INSERT]
        con.execute(f"INSERT INTO {ident(name)} VALUES {', '.join([one] * len(batch))}", [v for r in batch for v in r])
