"""Rebuild the derived tables (``llm_calls``, ``tool_calls``, ``sessions``) from ``events``.

The derivation is SQL (``tracelab/sql/derive_*.sql``) run by DuckDB over the snapshot's event
files (a view, so DuckDB reads only the columns each query needs and spills to disk under its
memory limit). Results are streamed in record batches, cast to the declared schema and written
as new Parquet parts, one writer per month partition, so memory stays bounded at any size.

Order: ``session_dims`` (one row per session, a temp table) → ``llm_calls`` → ``tool_calls`` →
``sessions``. What the named queries would otherwise recompute on every call is computed here
once: each call carries its session's project / subagent flag, each tool call its position in
the session, its next call of the same tool and its run of identical calls, and each session
its outcomes and turns. The SQL never aggregates or windows over wide rows: rows are picked by
``event_key`` in narrow aggregates and their wide texts joined in at the end.
"""

from __future__ import annotations

import os
from importlib import resources

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from tracelab import schema as S
from tracelab.store.warehouse import Snapshot, Warehouse, month_parts

#: DuckDB memory limit while deriving (env TRACELAB_DUCKDB_MEMORY overrides).
MEMORY_LIMIT = os.environ.get("TRACELAB_DUCKDB_MEMORY", "768MB")


def sql_text(name: str) -> str:
    return resources.files("tracelab.sql").joinpath(f"{name}.sql").read_text()


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The macros the derived columns are computed with (``derive_macros.sql``); the query
    library installs them too, so a stored value and the same value computed by a query agree."""
    con.execute(sql_text("derive_macros"))


def _files_list(files: list[str]) -> str:
    # CREATE VIEW cannot take parameters; paths are quoted as SQL string literals
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def no_progress_bar(con: duckdb.DuckDBPyConnection) -> None:
    """No DuckDB progress bar on stderr during an ingest (the CLI draws its own). Inside Jupyter
    DuckDB refuses to change the setting unless ipywidgets is installed; leave it alone there."""
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:
        pass


def derive_connection(wh: Warehouse, snap: Snapshot) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    no_progress_bar(con)
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute("SET preserve_insertion_order = false")
    install_macros(con)
    tmp = wh.root / ".duckdb_tmp"
    con.execute(f"SET temp_directory = '{str(tmp).replace(chr(39), chr(39) * 2)}'")
    files = [str(p) for p in wh.files_of("events", snap)]
    if files:
        con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet({_files_list(files)}, hive_partitioning = false)")
    else:
        con.register("_empty_events", S.EVENTS.empty_table())
        con.execute("CREATE VIEW events AS SELECT * FROM _empty_events")
    return con


def _stream_partitioned(wh: Warehouse, con: duckdb.DuckDBPyConnection, sql: str, table: str, batch: str) -> list[str]:
    """Run ``sql`` and write its rows as ``table`` parts, one Parquet writer per month."""
    reader = con.sql(sql).to_arrow_reader(batch_size=64 * 1024)
    schema = S.TABLES[table]
    writers: dict[str, tuple[pq.ParquetWriter, str, str]] = {}

    def write(t: pa.Table) -> None:
        for key, part in month_parts(t):
            if key not in writers:
                rel = f"{table}/month={key}/part-{batch}-{len(writers):04d}.parquet"
                dest = wh.root / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                tmp = str(dest) + ".tmp"
                writers[key] = (pq.ParquetWriter(tmp, schema, compression="zstd"), tmp, rel)
            writers[key][0].write_table(part)

    try:
        for rb in reader:
            write(S.cast_table(pa.Table.from_batches([rb]), table))
    finally:
        for w, _, _ in writers.values():
            w.close()
    out = []
    for _, tmp, rel in writers.values():
        os.replace(tmp, wh.root / rel)
        out.append(rel)
    return sorted(out)


def rebuild(wh: Warehouse, snap: Snapshot, batch: str) -> None:
    con = derive_connection(wh, snap)
    try:
        # per-session dimensions first (one row per session): the call tables carry them and
        # derive_sessions reads them, so all three agree
        con.execute(f"CREATE TEMP TABLE session_dims AS {sql_text('derive_session_dims')}")
        llm_rel = _stream_partitioned(wh, con, sql_text("derive_llm_calls"), "llm_calls", batch)
        if llm_rel:
            con.execute(f"CREATE VIEW llm_calls AS SELECT * FROM read_parquet({_files_list([str(wh.root / r) for r in llm_rel])})")
        else:
            _register_empty(con, "_empty_llm", "llm_calls")
            con.execute("CREATE VIEW llm_calls AS SELECT * FROM _empty_llm")
        tool_rel = _stream_partitioned(wh, con, sql_text("derive_tool_calls"), "tool_calls", batch)
        if tool_rel:
            con.execute(f"CREATE VIEW tool_calls AS SELECT * FROM read_parquet({_files_list([str(wh.root / r) for r in tool_rel])})")
        else:
            _register_empty(con, "_empty_tools", "tool_calls")
            con.execute("CREATE VIEW tool_calls AS SELECT * FROM _empty_tools")
        sessions = S.cast_table(con.sql(sql_text("derive_sessions")).to_arrow_table(), "sessions")
    finally:
        con.close()
    snap.tables["llm_calls"] = llm_rel
    snap.tables["tool_calls"] = tool_rel
    snap.tables["sessions"] = [wh.write_part("sessions", sessions, batch)]
    snap.extra["derive"] = {"stamp": stamp()}


DERIVED = ("llm_calls", "tool_calls", "sessions")


def stamp() -> str:
    """What the derived and failure tables were built with: the text of every derive and
    failures SQL file and the declared schemas of the derived tables. ``rebuild`` stores it in
    the snapshot; an ingest that finds a different one re-derives even when no file changed,
    so upgrading tracelab never leaves tables without the columns its queries read."""
    import hashlib

    h = hashlib.sha256()
    root = resources.files("tracelab.sql")
    for name in sorted(r.name for r in root.iterdir() if r.name.endswith(".sql") and r.name.startswith(("derive_", "failures_"))):
        h.update(name.encode() + b"\0" + root.joinpath(name).read_bytes() + b"\0")
    for t in DERIVED:
        h.update(str(S.TABLES[t]).encode())
    return h.hexdigest()[:16]


def _register_empty(con: duckdb.DuckDBPyConnection, name: str, table: str) -> None:
    con.register(name, S.TABLES[table].empty_table())
