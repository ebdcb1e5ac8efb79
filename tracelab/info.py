"""What a warehouse holds, at a glance (``tracelab info``): snapshot, storage, per-agent
counts and time span, rejected lines by reason, line types kept as ``unknown``.

The counts come from the per-part counts each commit keeps (:mod:`tracelab.store.part_stats`),
summed here the way the SQL of ``info_agents``, ``info_rejects``, ``info_entries`` and
``unknown_types`` aggregates: no Parquet is read and DuckDB is not loaded (start-up of
``tracelab info``). Where those counts do not cover the snapshot (a warehouse written before
they were kept), and for one project's sessions, the SQL runs; both give the same answer
(``tests/test_info_part_stats.py``). DuckDB is imported by the SQL path only, for that reason.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tracelab.store import part_stats
from tracelab.store.snapshot import Snapshot, WarehouseFiles, default_warehouse

__all__ = ["warehouse_info"]


def warehouse_info(warehouse: str | os.PathLike | None = None, *, project: str | None = None) -> dict[str, Any]:
    """A JSON-ready description of ``warehouse``: ``snapshot`` (version, commit time, schema
    version), ``storage`` (parts and bytes per table), ``agents`` (one row per agent:
    files, line accounting, sessions, events, LLM and tool calls, first/last event time),
    ``rejects`` (agent, reason, lines) and ``unknown_types`` (agent -> native type -> lines).
    With ``project``, the counts are that project's sessions only (storage stays the whole
    warehouse's); an unknown project draws a warning listing the closest names."""
    if project is None:
        counted = _from_part_stats(WarehouseFiles(warehouse if warehouse is not None else default_warehouse()))
        if counted is not None:
            return counted
    return _from_sql(warehouse, project)


def _storage(root: Path, snap: Snapshot) -> dict[str, dict[str, int]]:
    storage = {}
    for table, rels in sorted(snap.tables.items()):
        sizes = [(root / r).stat().st_size for r in rels]
        storage[table] = {"parts": len(rels), "bytes": sum(sizes)}
    return storage


def _describe(root: Path, snap: Snapshot, project: str | None, storage: dict, agents: list, rejects: list, entries: list, unknown: dict) -> dict[str, Any]:
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


def _from_sql(warehouse: str | os.PathLike | None, project: str | None) -> dict[str, Any]:
    """The counts by SQL over the warehouse's views (the whole of it, or ``project``'s sessions)."""
    import duckdb

    from tracelab.scope import check_project, restrict_to_project
    from tracelab.store.connection import Store
    from tracelab.store.sql import sql_text

    queries = {name: sql_text(name) for name in ("info_agents", "info_rejects", "info_entries", "unknown_types")}
    # only the views these read (no macros, no price table): start-up of `tracelab info`
    with Store(warehouse, needs=[*queries.values(), "sessions events"]) as store:
        root, snap, con = store.root, store.snapshot, store.con
        storage = _storage(root, snap)
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
    return _describe(root, snap, project, storage, agents, rejects, entries, unknown)


def _add(a: Any, b: Any) -> Any:
    """SQL ``sum`` of two partial sums: NULL only when both are."""
    return b if a is None else a if b is None else a + b


def _pick(a: Any, b: Any, f: Any) -> Any:
    """SQL ``min`` / ``max`` (``f``) of two partial results, ignoring NULL."""
    return b if a is None else a if b is None else f(a, b)


def _by_agent(rows: list[list[Any]]) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for agent, n in rows:
        out[agent] = out.get(agent, 0) + n
    return out


def _from_part_stats(wh: WarehouseFiles) -> dict[str, Any] | None:
    """:func:`warehouse_info` from the per-part counts, merged as the SQL aggregates them; None
    when they do not cover the snapshot, or when an agent (or reason) is NULL: the SQL's FULL
    JOIN on agent keeps NULL agents of different tables apart, which is left to the SQL path."""
    if not wh.exists:
        return None  # the SQL path reports a missing or corrupt warehouse
    snap = wh.snapshot()
    parts = part_stats.load(wh.root, snap)
    if parts is None:
        return None
    try:
        storage = _storage(wh.root, snap)
    except OSError:
        return None
    files: dict[str, list[Any]] = {}
    for agent, n, nbytes, total, ingested, duplicate, rejected, last in parts["files"]["info_part_files"]:
        f = files.setdefault(agent, [0, None, None, None, None, None, None])
        f[:] = [f[0] + n, _add(f[1], nbytes), _add(f[2], total), _add(f[3], ingested), _add(f[4], duplicate), _add(f[5], rejected), _pick(f[6], last, max)]
    sessions: dict[Any, list[int]] = {}
    for agent, main, sub in parts["sessions"]["info_part_sessions"]:
        s = sessions.setdefault(agent, [0, 0])
        s[:] = [s[0] + main, s[1] + sub]
    events: dict[Any, list[Any]] = {}
    for agent, n, unknown_n, first, last in parts["events"]["info_part_events"]:
        e = events.setdefault(agent, [0, 0, None, None])
        e[:] = [e[0] + n, e[1] + unknown_n, _pick(e[2], first, min), _pick(e[3], last, max)]
    llm, tool = _by_agent(parts["llm_calls"]["info_part_rows"]), _by_agent(parts["tool_calls"]["info_part_rows"])
    if any(None in d for d in (sessions, events, llm, tool)):
        return None
    agents = []
    for agent in sorted(set(files) | set(sessions) | set(events) | set(llm) | set(tool)):
        f = files.get(agent, [None] * 7)
        s = sessions.get(agent, [0, 0])
        e = events.get(agent, [0, 0, None, None])
        agents.append(
            {
                "agent": agent,
                "files": f[0] or 0,
                "bytes": f[1] or 0,
                "lines_total": f[2] or 0,
                "lines_ingested": f[3] or 0,
                "lines_duplicate": f[4] or 0,
                "lines_rejected": f[5] or 0,
                "sessions": s[0],
                "subagent_sessions": s[1],
                "events": e[0],
                "unknown_events": e[1],
                "llm_calls": llm.get(agent, 0),
                "tool_calls": tool.get(agent, 0),
                "first_ts": e[2],
                "last_ts": e[3],
                "last_ingested_at": f[6],
            }
        )
    rejects: dict[tuple[Any, Any], int] = {}
    for agent, reason, n in parts["rejects"]["info_part_rejects"]:
        rejects[agent, reason] = rejects.get((agent, reason), 0) + n
    entries: dict[tuple[Any, Any], int] = {}
    for status, reason, n in parts["files"]["info_part_entries"]:
        entries[status, reason] = entries.get((status, reason), 0) + n
    types: dict[tuple[Any, Any], int] = {}
    for agent, native_type, n in parts["events"]["info_part_unknown_types"]:
        types[agent, native_type] = types.get((agent, native_type), 0) + n
    if any(None in k for k in rejects) or any(None in k for k in types) or any(st is None for st, _ in entries):
        return None
    # the ORDER BYs of info_rejects, info_entries and unknown_types (strings in byte order, NULLs last)
    unknown: dict[str, dict[str, int]] = {}
    for (agent, native_type), n in sorted(types.items(), key=lambda kv: (-kv[1], kv[0])):
        unknown.setdefault(agent, {})[native_type] = n
    return _describe(
        wh.root,
        snap,
        None,
        storage,
        agents,
        [{"agent": a, "reason": r, "lines": n} for (a, r), n in sorted(rejects.items(), key=lambda kv: (-kv[1], kv[0]))],
        [
            {"status": st, "reason": r, "files": n}
            for (st, r), n in sorted(entries.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1] is None, kv[0][1] or ""))
        ],
        unknown,
    )
