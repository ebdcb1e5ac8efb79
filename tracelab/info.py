"""What a warehouse holds, at a glance (``tracelab info``): snapshot, storage, per-agent
counts and time span, rejected lines by reason, line types kept as ``unknown``."""

from __future__ import annotations

import os
from typing import Any

import duckdb


def warehouse_info(warehouse: str | os.PathLike | None = None) -> dict[str, Any]:
    """A JSON-ready description of ``warehouse``: ``snapshot`` (version, commit time, schema
    version), ``storage`` (parts and bytes per table), ``agents`` (one row per agent:
    files, line accounting, sessions, events, LLM and tool calls, first/last event time),
    ``rejects`` (agent, reason, lines) and ``unknown_types`` (agent -> native type -> lines)."""
    from tracelab.catalog import CatalogError, connect, default_warehouse
    from tracelab.store.derive import sql_text
    from tracelab.store.warehouse import Warehouse

    wh = Warehouse(warehouse if warehouse is not None else default_warehouse())
    if not wh.exists:
        raise CatalogError(f"no tracelab warehouse at {wh.root} (run `tracelab ingest --warehouse {wh.root}` first)")
    snap = wh.snapshot()
    storage = {}
    for table, rels in sorted(snap.tables.items()):
        sizes = [(wh.root / r).stat().st_size for r in rels]
        storage[table] = {"parts": len(rels), "bytes": sum(sizes)}
    con = connect(wh.root)
    try:
        cur = con.execute(sql_text("info_agents"))
        cols = [d[0] for d in cur.description]
        agents = [dict(zip(cols, r)) for r in cur.fetchall()]
        rejects = [{"agent": a, "reason": r, "lines": n} for a, r, n in con.execute(sql_text("info_rejects")).fetchall()]
        try:
            entries = [{"status": s, "reason": r, "files": n} for s, r, n in con.execute(sql_text("info_entries")).fetchall()]
        except duckdb.BinderException:  # a manifest written before files.status existed
            entries = []
        unknown: dict[str, dict[str, int]] = {}
        con.execute("CREATE TEMP VIEW events_in_scope AS SELECT * FROM events")
        for a, t, n in con.execute(sql_text("unknown_types")).fetchall():
            unknown.setdefault(a, {})[t] = n
    finally:
        con.close()
    return {
        "warehouse": str(wh.root),
        "snapshot": {"version": snap.version, "committed_at": snap.committed_at, "schema_version": snap.schema_version},
        "storage": storage,
        "agents": agents,
        "rejects": rejects,
        "entries": entries,
        "unknown_types": unknown,
    }
