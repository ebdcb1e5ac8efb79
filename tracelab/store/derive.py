"""Rebuild the derived tables (``llm_calls``, ``tool_calls``, ``sessions``) from ``events``.

The derivation is SQL (``tracelab/sql/derive_*.sql``) run by DuckDB over the snapshot's
event files; results are cast to the declared schema and written as new Parquet parts.
"""

from __future__ import annotations

from importlib import resources

import duckdb
import pyarrow as pa

from tracelab import schema as S
from tracelab.store.warehouse import Snapshot, Warehouse


def sql_text(name: str) -> str:
    return resources.files("tracelab.sql").joinpath(f"{name}.sql").read_text()


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    return con.sql(sql).to_arrow_table()


def rebuild(wh: Warehouse, snap: Snapshot, batch: str) -> None:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        files = [str(p) for p in wh.files_of("events", snap)]
        if files:
            con.execute(
                "CREATE TEMP TABLE events AS SELECT * FROM read_parquet($files, hive_partitioning = false, union_by_name = true)",
                {"files": files},
            )
        else:
            con.register("_empty_events", S.EVENTS.empty_table())
            con.execute("CREATE TEMP TABLE events AS SELECT * FROM _empty_events")
        llm = S.cast_table(_arrow(con, sql_text("derive_llm_calls")), "llm_calls")
        con.register("llm_calls", llm)
        tools = S.cast_table(_arrow(con, sql_text("derive_tool_calls")), "tool_calls")
        con.register("tool_calls", tools)
        sessions = S.cast_table(_arrow(con, sql_text("derive_sessions")), "sessions")
    finally:
        con.close()
    snap.tables["llm_calls"] = wh.write_partitioned("llm_calls", llm, batch)
    snap.tables["tool_calls"] = wh.write_partitioned("tool_calls", tools, batch)
    snap.tables["sessions"] = [wh.write_part("sessions", sessions, batch)]
