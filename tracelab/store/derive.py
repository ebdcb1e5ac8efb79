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

import hashlib

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracelab import schema as S
from tracelab.store.connection import MEMORY_LIMIT, no_progress_bar, register_views, scratch_connection
from tracelab.store.sql import sql_files, sql_text
from tracelab.store.warehouse import Snapshot, Warehouse, sql_list

__all__ = ["DERIVED", "MEMORY_LIMIT", "derive_connection", "install_macros", "no_progress_bar", "rebuild", "refresh", "sql_text", "stamp"]


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The macros the derived columns are computed with (``derive_macros.sql``); every store
    connection installs them too, so a stored value and the same value computed by a query agree."""
    con.execute(sql_text("derive_macros"))


def derive_connection(wh: Warehouse, snap: Snapshot) -> duckdb.DuckDBPyConnection:
    """A scratch engine (memory limit :data:`MEMORY_LIMIT`, spilling under the warehouse) with
    the derive macros and a view ``events`` over ``snap``'s event parts."""
    con = scratch_connection(memory_limit=MEMORY_LIMIT, temp_directory=wh.root / ".duckdb_tmp")
    con.execute("SET preserve_insertion_order = false")
    install_macros(con)
    register_views(con, wh, snap, ("events",), union_by_name=False)
    return con


#: Rows per streamed batch (and Parquet row group) of each derived table: ~20-60 MB of Arrow
#: memory each (a tool call row carries up to 32 KiB of output and averages ~3 KB).
BATCH_ROWS = {"llm_calls": 64 * 1024, "tool_calls": 16 * 1024}


def _stream_partitioned(wh: Warehouse, con: duckdb.DuckDBPyConnection, sql: str, table: str, batch: str) -> list[str]:
    """Run ``sql`` and write its rows as ``table`` parts, one per month, batch by batch."""
    reader = con.sql(sql).to_arrow_reader(batch_size=BATCH_ROWS[table])
    return wh.write_stream(table, (S.cast_table(pa.Table.from_batches([rb]), table) for rb in reader), batch)


def _derive(wh: Warehouse, con: duckdb.DuckDBPyConnection, batch: str) -> tuple[list[str], list[str], pa.Table]:
    """The derived tables of the events ``con``'s ``events`` view holds: (llm_calls parts,
    tool_calls parts, sessions rows)."""
    llm_rel = _stream_partitioned(wh, con, sql_text("derive_llm_calls"), "llm_calls", batch)
    _view_of_parts(wh, con, "llm_calls", llm_rel)
    tool_rel = _stream_partitioned(wh, con, sql_text("derive_tool_calls"), "tool_calls", batch)
    _view_of_parts(wh, con, "tool_calls", tool_rel)
    sessions = S.cast_table(con.sql(sql_text("derive_sessions")).to_arrow_table(), "sessions")
    return llm_rel, tool_rel, sessions


#: What a session contributes to project naming: (tl_project_dir(cwd), repository).
PRIOR_ROOTS = pa.schema([pa.field("dir", pa.string()), pa.field("repository", pa.string())])


def _session_dims(con: duckdb.DuckDBPyConnection, prior: pa.Table | None = None) -> None:
    """Per-session dimensions first (one row per session, temp table ``session_dims``): the call
    tables carry them and derive_sessions reads them, so all three agree. Project names depend
    on every session's (dir, repository) pair: ``prior`` holds the pairs of the sessions kept
    from an earlier derive (a refresh), so names computed here see the whole warehouse."""
    con.register("_prior_roots", prior if prior is not None else PRIOR_ROOTS.empty_table())
    con.execute(f"CREATE TEMP TABLE session_roots AS {sql_text('derive_session_roots')}")
    con.execute(f"CREATE TEMP TABLE project_names AS {sql_text('derive_project_names')}")
    con.execute(f"CREATE TEMP TABLE session_dims AS {sql_text('derive_session_dims')}")


def _kept_projects_change(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a kept session (``_kept``) would get another project or root from the names
    just computed (``project_names``): a clash appeared or went, or a dir gained a repository."""
    n = con.execute(
        "SELECT count(*) FROM _kept k LEFT JOIN project_names n "
        "ON n.dir IS NOT DISTINCT FROM tl_project_dir(k.cwd) AND n.repository IS NOT DISTINCT FROM k.repository "
        "WHERE n.project IS DISTINCT FROM k.project OR n.project_root IS DISTINCT FROM k.project_root"
    ).fetchall()
    return bool(n[0][0])


def _view_of_parts(wh: Warehouse, con: duckdb.DuckDBPyConnection, table: str, rel: list[str]) -> None:
    if rel:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({sql_list([str(wh.root / r) for r in rel])})")
    else:
        _register_empty(con, f"_empty_{table}", table)
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM _empty_{table}")


def rebuild(wh: Warehouse, snap: Snapshot, batch: str) -> None:
    """Derive ``llm_calls``, ``tool_calls`` and ``sessions`` from all of ``snap``'s events."""
    con = derive_connection(wh, snap)
    try:
        _session_dims(con)
        llm_rel, tool_rel, sessions = _derive(wh, con, batch)
    finally:
        con.close()
    snap.tables["llm_calls"] = llm_rel
    snap.tables["tool_calls"] = tool_rel
    snap.tables["sessions"] = [wh.write_part("sessions", sessions, batch)]
    snap.extra["derive"] = {"stamp": stamp()}


#: A refresh whose affected sessions exceed this share of all sessions rebuilds instead.
REFRESH_MAX_SHARE = 0.5


def refresh(wh: Warehouse, snap: Snapshot, batch: str, new_events: list[str]) -> set[str] | None:
    """Bring the derived tables up to date after ``new_events`` (relative paths of event parts
    this ingest added to ``snap``; no event row was removed) by re-deriving only the sessions
    they touch. Returns the sessions that were re-derived, or None, changing nothing, when a
    full :func:`rebuild` is needed instead: the derived tables were built by another tracelab
    (stamp) or the affected sessions are more than ``REFRESH_MAX_SHARE`` of all.

    Affected sessions: those with rows in ``new_events``, closed under the links of
    ``derive_links.sql`` (parent/child, fork, spawn, a shared llm_call_key), so every derived
    row that reads an event of a touched session is re-derived from all the events it reads.
    Their rows are derived from the event parts that hold them; the old derived parts that
    hold any of their rows are rewritten without them; the rest stays as it was. The result
    equals a rebuild's (``tests/test_derive_refresh.py``)."""
    if snap.extra.get("derive", {}).get("stamp") != stamp() or not snap.tables.get("sessions"):
        return None
    if not new_events:
        return set()
    con = derive_connection(wh, snap)
    try:
        touched = {
            r[0] for r in con.execute("SELECT DISTINCT session_key FROM read_parquet($files)", {"files": [str(wh.root / r) for r in new_events]}).fetchall()
        }
        affected = _connected(touched, con.execute(sql_text("derive_links")).fetchall())
        n_sessions = sum(pq.ParquetFile(wh.root / r).metadata.num_rows for r in snap.tables["sessions"])
        if len(affected) > REFRESH_MAX_SHARE * max(n_sessions, 1):
            return None
        keys = pa.table({"session_key": pa.array(sorted(affected), pa.string())})
        con.register("_affected", keys)
        ev_files = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT filename FROM read_parquet($files, filename = true) WHERE session_key IN (SELECT session_key FROM _affected)",
                {"files": [str(p) for p in wh.files_of("events", snap)]},
            ).fetchall()
        ]
        con.execute("DROP VIEW events")
        con.execute(
            f"CREATE VIEW events AS SELECT * FROM read_parquet({sql_list(sorted(ev_files))}, hive_partitioning = false) "
            "WHERE session_key IN (SELECT session_key FROM _affected)"
        )
        # project names depend on every session's (dir, repository) pair: names are computed
        # with the kept sessions' pairs too, and when a kept session's name or root would
        # change (a new clash, a dir that gained a repository), everything is derived again
        con.register("_old_sessions", wh.read_table("sessions", snap, columns=["session_key", "cwd", "repository", "project_root", "project"]))
        con.execute("CREATE TEMP TABLE _kept AS SELECT * FROM _old_sessions WHERE session_key NOT IN (SELECT session_key FROM _affected)")
        _session_dims(con, con.sql("SELECT DISTINCT tl_project_dir(cwd) AS dir, repository FROM _kept").to_arrow_table().cast(PRIOR_ROOTS))
        if _kept_projects_change(con):
            return None
        llm_rel, tool_rel, sessions = _derive(wh, con, batch)
    finally:
        con.close()
    drop = keys.column("session_key")
    snap.tables["llm_calls"] = sorted(wh.without_rows("llm_calls", snap, "session_key", drop, f"{batch}-kept") + llm_rel)
    snap.tables["tool_calls"] = sorted(wh.without_rows("tool_calls", snap, "session_key", drop, f"{batch}-kept") + tool_rel)
    old = wh.read_table("sessions", snap)
    kept = S.cast_table(old.filter(pc.invert(pc.is_in(old.column("session_key"), value_set=drop))), "sessions")
    snap.tables["sessions"] = [wh.write_part("sessions", pa.concat_tables([kept, sessions]), batch)]
    return affected


def _connected(start: set[str], pairs: list[tuple[str, str]]) -> set[str]:
    """Every key reachable from ``start`` over the undirected ``pairs``."""
    adj: dict[str, list[str]] = {}
    for a, b in pairs:
        adj.setdefault(a, []).append(b)
        adj.setdefault(b, []).append(a)
    seen = set(start)
    todo = list(start)
    while todo:
        for nxt in adj.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


DERIVED = ("llm_calls", "tool_calls", "sessions")


def stamp() -> str:
    """What the derived and failure tables were built with: the text of every derive and
    failures SQL file and the declared schemas of the derived tables. ``rebuild`` stores it in
    the snapshot; an ingest that finds a different one re-derives even when no file changed,
    so upgrading tracelab never leaves tables without the columns its queries read."""
    h = hashlib.sha256()
    for name, (area, entry) in sorted(sql_files().items()):
        if area == "internal" and name.startswith(("derive_", "failures_")):
            h.update(f"{name}.sql".encode() + b"\0" + entry.read_bytes() + b"\0")
    for t in DERIVED:
        h.update(str(S.TABLES[t]).encode())
    return h.hexdigest()[:16]


def _register_empty(con: duckdb.DuckDBPyConnection, name: str, table: str) -> None:
    con.register(name, S.TABLES[table].empty_table())
