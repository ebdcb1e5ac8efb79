"""Open a warehouse as a DuckDB connection with one view per table.

Views read exactly the Parquet files of the committed snapshot, so a concurrent ingest never
shows a half-written state. Every connection runs with ``TimeZone = 'UTC'``.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from tracelab import schema as S
from tracelab.errors import WarehouseMissing
from tracelab.store.warehouse import Warehouse, sql_list


class CatalogError(WarehouseMissing):
    pass


def default_warehouse() -> Path:
    return Path(os.environ.get("TRACELAB_WAREHOUSE", "warehouse"))


def connect(warehouse: str | os.PathLike | None = None, *, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with views ``sessions``, ``events``, ``llm_calls``, ``tool_calls``,
    ``rejects``, ``files`` (and any extra tables the snapshot lists) over ``warehouse``."""
    wh = Warehouse(warehouse if warehouse is not None else default_warehouse())
    if not wh.exists:
        raise CatalogError(f"no tracelab warehouse at {wh.root} (run `tracelab ingest --warehouse {wh.root}` first)")
    con = duckdb.connect(database)
    con.execute("SET TimeZone = 'UTC'")
    register_views(con, wh)
    from tracelab.query import install  # shared macros + price table (queries/_macros.sql)

    install(con)
    return con


def known_schemas() -> dict:
    """Every table tracelab declares: the core tables plus failure clustering and feedback, so
    their views exist (empty) before anything wrote them."""
    return {**S.TABLES, **S.ANALYSIS_TABLES}


def register_views(con: duckdb.DuckDBPyConnection, wh: Warehouse) -> None:
    snap = wh.snapshot()
    schemas = known_schemas()
    names = list(schemas) + [t for t in snap.tables if t not in schemas]
    for name in names:
        files = [str(p) for p in wh.files_of(name, snap)]
        if files:
            con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM read_parquet({sql_list(files)}, hive_partitioning = false, union_by_name = true)')
        elif name in schemas:
            con.register(f"_empty_{name}", schemas[name].empty_table())
            con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM "_empty_{name}"')
