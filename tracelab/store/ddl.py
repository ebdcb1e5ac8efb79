"""DuckDB SQL for Arrow schemas: column types, empty typed relations, small tables from rows.

Registering a pyarrow object with DuckDB (``con.register``, ``con.from_arrow``) makes DuckDB
import pandas (~0.3 s) to check the object's type; the command line opens a warehouse on every
command, so it creates the empty views of absent tables and the price table from SQL instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

__all__ = ["create_table", "duckdb_type", "empty_select"]

_SIMPLE = {
    pa.bool_(): "BOOLEAN",
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.uint8(): "UTINYINT",
    pa.uint16(): "USMALLINT",
    pa.uint32(): "UINTEGER",
    pa.uint64(): "UBIGINT",
    pa.float16(): "FLOAT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.binary(): "BLOB",
    pa.large_binary(): "BLOB",
    pa.date32(): "DATE",
    pa.date64(): "DATE",
    pa.null(): "INTEGER",
}
_TIMESTAMP = {"s": "TIMESTAMP_S", "ms": "TIMESTAMP_MS", "us": "TIMESTAMP", "ns": "TIMESTAMP_NS"}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duckdb_type(t: pa.DataType) -> str:
    """The DuckDB type DuckDB gives an Arrow column of type ``t`` when it scans Arrow data."""
    if t in _SIMPLE:
        return _SIMPLE[t]
    if pa.types.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE" if t.tz else _TIMESTAMP[t.unit]
    if pa.types.is_time(t):
        return "TIME"
    if pa.types.is_duration(t):
        return "INTERVAL"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision}, {t.scale})"
    if pa.types.is_dictionary(t):
        return duckdb_type(t.value_type)
    if pa.types.is_fixed_size_list(t):
        return f"{duckdb_type(t.value_type)}[{t.list_size}]"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"{duckdb_type(t.value_type)}[]"
    if pa.types.is_map(t):
        return f"MAP({duckdb_type(t.key_type)}, {duckdb_type(t.item_type)})"
    if pa.types.is_struct(t):
        return "STRUCT(" + ", ".join(f"{_ident(f.name)} {duckdb_type(f.type)}" for f in t) + ")"
    raise TypeError(f"no DuckDB type for Arrow type {t}")


def empty_select(schema: pa.Schema) -> str:
    """A ``SELECT`` of no rows with ``schema``'s columns and types (the body of an empty view)."""
    cols = ", ".join(f"CAST(NULL AS {duckdb_type(f.type)}) AS {_ident(f.name)}" for f in schema)
    return f"SELECT {cols} WHERE false"


def create_table(con: Any, name: str, schema: pa.Schema, rows: Iterable[Sequence[Any]] = (), *, temp: bool = True) -> None:
    """Create (or replace) table ``name`` with ``schema`` on ``con`` and insert ``rows``
    (tuples in column order), values bound as parameters."""
    cols = ", ".join(f"{_ident(f.name)} {duckdb_type(f.type)}" for f in schema)
    con.execute(f"CREATE OR REPLACE {'TEMP ' if temp else ''}TABLE {_ident(name)} ({cols})")
    rows = [tuple(r) for r in rows]
    if rows:
        con.executemany(f"INSERT INTO {_ident(name)} VALUES ({', '.join('?' * len(schema))})", rows)
