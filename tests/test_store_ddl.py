"""The SQL types of the declared schemas (:mod:`tracelab.schema_types`, used by
:mod:`tracelab.store.ddl` without pyarrow) are the types DuckDB itself gives the Arrow schemas
built from the same declarations, for every table tracelab declares and the price table: an empty
view made from SQL (no pyarrow, no pandas import) reads exactly like one registered from an empty
Arrow table."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from tracelab import schema as S
from tracelab import schema_types as ct
from tracelab.pricing import PRICE_COLUMNS, price_rows, price_schema, price_table
from tracelab.store.ddl import create_table, empty_select

SCHEMAS = {**S.SCHEMAS, "prices": PRICE_COLUMNS}


def _arrow_describe(schema: pa.Schema) -> list[tuple[str, str]]:
    con = duckdb.connect()
    con.register("arrow_empty", schema.empty_table())
    return [(r[0], r[1]) for r in con.execute("DESCRIBE SELECT * FROM arrow_empty").fetchall()]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_empty_select_has_duckdbs_arrow_types(name):
    decl = SCHEMAS[name]
    con = duckdb.connect()
    got = con.execute(f"DESCRIBE {empty_select(decl)}").fetchall()
    assert [(r[0], r[1]) for r in got] == _arrow_describe(decl.arrow())
    assert con.execute(f"SELECT count(*) FROM ({empty_select(decl)})").fetchone() == (0,)


def test_the_arrow_schemas_are_the_declarations():
    """``S.TABLES`` / ``S.ANALYSIS_TABLES`` / ``S.EVENTS`` … are built from :data:`S.SCHEMAS`,
    once: the same objects on every access, with the table metadata."""
    assert list(S.TABLES) == list(S.TABLE_NAMES) and list(S.ANALYSIS_TABLES) == list(S.ANALYSIS_TABLE_NAMES)
    for name, decl in S.SCHEMAS.items():
        arrow = {**S.TABLES, **S.ANALYSIS_TABLES}[name]
        assert arrow is decl.arrow() is getattr(S, name.upper())
        assert arrow.names == decl.names and arrow.metadata[b"tracelab_table"] == name.encode()
    assert S.EVENTS.metadata[b"tracelab_schema_version"] == str(S.SCHEMA_VERSION).encode()
    assert S.SESSIONS.field("turns").type == pa.list_(S.TURN)
    assert price_schema() == pa.schema([(n, t.arrow()) for n, t in PRICE_COLUMNS.columns])


def test_price_table_from_rows_equals_the_arrow_table():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    create_table(con, "from_rows", PRICE_COLUMNS, price_rows())
    con.register("from_arrow", price_table())
    a = con.execute("SELECT * FROM from_rows ORDER BY ALL").fetchall()
    b = con.execute("SELECT * FROM from_arrow ORDER BY ALL").fetchall()
    assert a == b and len(a) > 10
    assert con.execute("DESCRIBE from_rows").fetchall() == con.execute("DESCRIBE from_arrow").fetchall()


def test_every_type_of_the_vocabulary():
    """Each constructor of :mod:`tracelab.schema_types` (every timestamp unit, with and without
    a zone, nested lists and structs, odd names) gives DuckDB's type of its Arrow twin."""
    scalars = [ct.bool_(), ct.int8(), ct.int16(), ct.int32(), ct.int64(), ct.uint8(), ct.uint16(), ct.uint32(), ct.uint64()]
    scalars += [ct.float32(), ct.float64(), ct.string(), ct.date32()]
    stamps = [ct.timestamp(u, tz=tz) for u in ("s", "ms", "us", "ns") for tz in (None, "UTC")]
    nested = [
        ct.list_(ct.struct([("a b", ct.list_(ct.float32())), ('q"uote', ct.timestamp("ms", tz="UTC"))])),
        ct.struct([("x", ct.list_(ct.list_(ct.string())))]),
    ]
    decl = ct.TableSchema("odd", tuple((f"c{i}", t) for i, t in enumerate(scalars + stamps + nested)))
    con = duckdb.connect()
    got = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {empty_select(decl)}").fetchall()]
    assert got == _arrow_describe(decl.arrow())
    with pytest.raises(ValueError, match="timestamp unit"):
        ct.timestamp("h")
