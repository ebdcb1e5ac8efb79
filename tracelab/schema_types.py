"""The column types of :mod:`tracelab.schema`, without pyarrow.

A :class:`ColumnType` knows its Arrow type (:meth:`ColumnType.arrow`, pyarrow imported then)
and the DuckDB type DuckDB gives an Arrow column of that type (:meth:`ColumnType.sql`); a
:class:`TableSchema` is a table's columns in order. Opening a warehouse needs only the names
and the DuckDB types (views of tables without files are empty ``SELECT``\\ s of them), so the
command line reads the declared schema without importing pyarrow (~0.2 s of every command);
code that writes or casts Arrow data asks for :meth:`TableSchema.arrow`.
``tests/test_store_ddl.py`` checks the DuckDB types against DuckDB's own reading of the Arrow types.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

__all__ = [
    "ColumnType",
    "TableSchema",
    "bool_",
    "date32",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "list_",
    "string",
    "struct",
    "timestamp",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
]

#: scalar kinds: the pyarrow constructor's name -> DuckDB's type for Arrow data of that type
_SCALAR_SQL = {
    "bool_": "BOOLEAN",
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "uint8": "UTINYINT",
    "uint16": "USMALLINT",
    "uint32": "UINTEGER",
    "uint64": "UBIGINT",
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "string": "VARCHAR",
    "binary": "BLOB",
    "date32": "DATE",
}
_TIMESTAMP_SQL = {"s": "TIMESTAMP_S", "ms": "TIMESTAMP_MS", "us": "TIMESTAMP", "ns": "TIMESTAMP_NS"}


def ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class ColumnType:
    """One column type: a scalar (``kind`` names the pyarrow constructor), ``timestamp`` (with
    ``unit`` and ``tz``), ``list`` (of ``item``) or ``struct`` (of ``fields``)."""

    kind: str
    unit: str | None = None
    tz: str | None = None
    item: ColumnType | None = None
    fields: tuple[tuple[str, ColumnType], ...] = ()

    def sql(self) -> str:
        """The DuckDB type DuckDB gives an Arrow column of this type."""
        if self.kind == "timestamp":
            if self.tz:  # DuckDB keeps nanoseconds with a zone; other zoned units become microseconds
                return "TIMESTAMPTZ_NS" if self.unit == "ns" else "TIMESTAMP WITH TIME ZONE"
            return _TIMESTAMP_SQL[self.unit or "us"]
        if self.kind == "list":
            assert self.item is not None
            return f"{self.item.sql()}[]"
        if self.kind == "struct":
            return "STRUCT(" + ", ".join(f"{ident(n)} {t.sql()}" for n, t in self.fields) + ")"
        return _SCALAR_SQL[self.kind]

    def arrow(self) -> pa.DataType:
        """This type as pyarrow (imports pyarrow)."""
        return _arrow_type(self)


@cache
def _arrow_type(t: ColumnType) -> pa.DataType:
    import pyarrow as pa  # the one place the declared schema meets pyarrow: on first use

    if t.kind == "timestamp":
        return pa.timestamp(t.unit or "us", tz=t.tz)
    if t.kind == "list":
        assert t.item is not None
        return pa.list_(t.item.arrow())
    if t.kind == "struct":
        return pa.struct([(n, f.arrow()) for n, f in t.fields])
    constructor: Any = getattr(pa, t.kind)
    return constructor()


@dataclass(frozen=True)
class TableSchema:
    """A table's declared columns, in order, and the metadata of its Arrow schema."""

    name: str
    columns: tuple[tuple[str, ColumnType], ...]
    metadata: tuple[tuple[str, str], ...] = ()

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.columns]

    def empty_select(self) -> str:
        """A ``SELECT`` of no rows with these columns and types (the body of an empty view)."""
        cols = ", ".join(f"CAST(NULL AS {t.sql()}) AS {ident(n)}" for n, t in self.columns)
        return f"SELECT {cols} WHERE false"

    def arrow(self) -> pa.Schema:
        """The Arrow schema (imports pyarrow; built once)."""
        return _arrow_schema(self)


@cache
def _arrow_schema(s: TableSchema) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([pa.field(n, t.arrow()) for n, t in s.columns], metadata=dict(s.metadata) or None)


def _scalar(kind: str) -> ColumnType:
    return ColumnType(kind)


def bool_() -> ColumnType:
    return _scalar("bool_")


def int8() -> ColumnType:
    return _scalar("int8")


def int16() -> ColumnType:
    return _scalar("int16")


def int32() -> ColumnType:
    return _scalar("int32")


def int64() -> ColumnType:
    return _scalar("int64")


def uint8() -> ColumnType:
    return _scalar("uint8")


def uint16() -> ColumnType:
    return _scalar("uint16")


def uint32() -> ColumnType:
    return _scalar("uint32")


def uint64() -> ColumnType:
    return _scalar("uint64")


def float32() -> ColumnType:
    return _scalar("float32")


def float64() -> ColumnType:
    return _scalar("float64")


def string() -> ColumnType:
    return _scalar("string")


def date32() -> ColumnType:
    return _scalar("date32")


def timestamp(unit: str, tz: str | None = None) -> ColumnType:
    if unit not in _TIMESTAMP_SQL:
        raise ValueError(f"timestamp unit must be one of {', '.join(_TIMESTAMP_SQL)}, not {unit!r}")
    return ColumnType("timestamp", unit=unit, tz=tz)


def list_(item: ColumnType) -> ColumnType:
    return ColumnType("list", item=item)


def struct(fields: list[tuple[str, ColumnType]]) -> ColumnType:
    return ColumnType("struct", fields=tuple(fields))
