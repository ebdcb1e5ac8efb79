"""What a warehouse holds, at a glance (``tracelab info``): snapshot, storage, per-agent
counts and time span, rejected lines by reason, line types kept as ``unknown``."""

from __future__ import annotations

import os
from typing import Any

import duckdb

from tracelab.scope import check_project, restrict_to_project
from tracelab.store import sql_text
from tracelab.store.connection import Store


def warehouse_info(warehouse: str | os.PathLike | None = None, *, project: str | None = None) -> dict[str, Any]:
    """A JSON-ready description of ``warehouse``: ``snapshot`` (version, commit time, schema
    version), ``storage`` (parts and bytes per table), ``agents`` (one row per agent:
    files, line accounting, sessions, events, LLM and tool calls, first/last event time),
    ``rejects`` (agent, reason, lines) and ``unknown_types`` (agent -> native type -> lines).
    With ``project``, the counts are that project's sessions only (storage stays the whole
    warehouse's); an unknown project draws a warning listing the closest names."""
    queries = {name: sql_text(name) for name in ("info_agents", "info_rejects", "info_entries", "unknown_types")}
    # only the views these read (no macros, no price table): start-up of `tracelab info`
    with Store(warehouse, needs=[*queries.values(), "sessions events"]) as store:
        root, snap, con = store.root, store.snapshot, store.con
        storage = {}
        for table, rels in sorted(snap.tables.items()):
            sizes = [(root / r).stat().st_size for r in rels]
            storage[table] = {"parts": len(rels), "bytes": sum(sizes)}
        if project:
            check_project(con, project)
            restrict_to_project(con, project)
        cur = con.execute(queries["info_agents"])
        cols = [d[0] for d in cur.description]
        agents = [dict(zip(cols, r)) for r in cur.fetchall()]
        rejects = [{"agent": a, "reason": r, "lines": n} for a, r, n in con.execute(queries["info_rejects"]).fetchall()]
        try:
            entries = [{"status": s, "reason": r, "files": n} for s, r, n in con.execute(queries["info_entries"]).fetchall()]
        except duckdb.BinderException:  # a manifest written before files.status existed
            entries = []
        unknown: dict[str, dict[str, int]] = {}
        con.execute("CREATE TEMP VIEW events_in_scope AS SELECT * FROM events")
        for a, t, n in con.execute(queries["unknown_types"]).fetchall():
            unknown.setdefault(a, {})[t] = n
    return {
        "warehouse": str(root),
        "project": project,
        "snapshot": {"version": snap.version, "committed_at": snap.committed_at, "schema_version": snap.schema_version},
        "storage": storage,
        "agents": agents,
        "rejects": rejects,
        "entries": entries,
        "unknown_types": unknown,
    }
