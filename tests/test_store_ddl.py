"""The SQL types :mod:`tracelab.store.ddl` gives Arrow schemas are the types DuckDB itself gives
Arrow data, for every table tracelab declares and the price table: an empty view made from SQL
(no pandas import) reads exactly like one registered from an empty Arrow table."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from tracelab import schema as S
from tracelab.pricing import price_rows, price_schema, price_table
from tracelab.store.ddl import create_table, empty_select

SCHEMAS = {**S.TABLES, **S.ANALYSIS_TABLES, "prices": price_schema()}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_empty_select_has_duckdbs_arrow_types(name):
    schema = SCHEMAS[name]
    con = duckdb.connect()
    con.register("arrow_empty", schema.empty_table())
    want = con.execute("DESCRIBE SELECT * FROM arrow_empty").fetchall()
    got = con.execute(f"DESCRIBE {empty_select(schema)}").fetchall()
    assert [(r[0], r[1]) for r in got] == [(r[0], r[1]) for r in want]
    assert con.execute(f"SELECT count(*) FROM ({empty_select(schema)})").fetchone() == (0,)


def test_price_table_from_rows_equals_the_arrow_table():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    create_table(con, "from_rows", price_schema(), price_rows())
    con.register("from_arrow", price_table())
    a = con.execute("SELECT * FROM from_rows ORDER BY ALL").fetchall()
    b = con.execute("SELECT * FROM from_arrow ORDER BY ALL").fetchall()
    assert a == b and len(a) > 10
    assert con.execute("DESCRIBE from_rows").fetchall() == con.execute("DESCRIBE from_arrow").fetchall()


def test_nested_and_odd_types():
    schema = pa.schema(
        [
            ("m", pa.map_(pa.string(), pa.int64())),
            ("d", pa.dictionary(pa.int32(), pa.string())),
            ("dec", pa.decimal128(12, 3)),
            ("ts", pa.timestamp("us")),
            ("tss", pa.timestamp("s")),
            ("nested", pa.list_(pa.struct([("a b", pa.list_(pa.float32()))]))),
        ]
    )
    con = duckdb.connect()
    con.register("arrow_empty", schema.empty_table())
    assert con.execute(f"DESCRIBE {empty_select(schema)}").fetchall() == con.execute("DESCRIBE SELECT * FROM arrow_empty").fetchall()
