"""What each Parquet part holds, counted once: the totals ``tracelab info`` shows, kept per part
in ``_part_stats.json`` beside the snapshot.

A part never changes once written (new rows go to new parts with new names), so its counts
(events per agent with their time span and unknown line types, main and subagent sessions, LLM
and tool calls, manifest rows and entries, rejected lines by reason; ``tracelab/sql/info_part_*.sql``)
are a function of its name. Every writer publishes a snapshot through
:meth:`~tracelab.store.snapshot.WarehouseFiles.commit`, which then calls :func:`refresh`: it counts
the parts of the new snapshot that have no entry yet (one scan of a few columns per table, over
the new parts only) and drops the entries of parts the snapshot no longer lists. ``tracelab info``
sums the entries (:func:`load`) instead of scanning every part, and without importing DuckDB.

The file is a cache, never the truth: an entry records its part's size and modification time and
counts only while both match; :func:`load` answers None unless every part of the snapshot has a
matching entry (a warehouse written before this file existed, a commit interrupted before the
file was written, a part rewritten in place), and the caller then counts with SQL. :func:`refresh`
never fails a commit: whatever goes wrong leaves the file as it was (or without the entries it
could not count), which costs the next reader a scan, not an answer. The file is replaced
atomically; it is not in lockstep with the snapshot, and need not be: entries are keyed by part.
The rows of an entry are sorted, so the file is a function of the snapshot's parts: after any
sequence of commits it equals, byte for byte, a refresh of the same snapshot from nothing.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracelab.store.sql import load as load_sql

if TYPE_CHECKING:  # pragma: no cover - snapshot.py imports this module
    from tracelab.store.snapshot import Snapshot

__all__ = ["QUERIES", "STATS_FILE", "load", "refresh"]

STATS_FILE = "_part_stats.json"
_FORMAT = 1

#: table -> the queries that count one of its parts (``tracelab/sql/``; each groups by ``filename``)
QUERIES: dict[str, tuple[str, ...]] = {
    "events": ("info_part_events", "info_part_unknown_types"),
    "sessions": ("info_part_sessions",),
    "llm_calls": ("info_part_rows",),
    "tool_calls": ("info_part_rows",),
    "files": ("info_part_files", "info_part_entries"),
    "rejects": ("info_part_rejects",),
}

_TIMESTAMP = "TIMESTAMP WITH TIME ZONE"


def _read(root: Path) -> dict[str, Any]:
    try:
        with open(root / STATS_FILE, "rb") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT or not isinstance(doc.get("parts"), dict):
        return {}
    return doc["parts"]


def _matches(entry: Any, st: os.stat_result) -> bool:
    return isinstance(entry, dict) and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns and isinstance(entry.get("rows"), dict)


def _live(snap: Snapshot) -> list[tuple[str, str]]:
    """(table, part) of every part of the counted tables in ``snap``."""
    return [(table, rel) for table in QUERIES for rel in snap.tables.get(table, [])]


def _json_value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, _dt.datetime) else v


def _row_key(row: list[Any]) -> tuple:
    """Sort key of a counted row: by value column after column, NULLs last (a column holds one
    type)."""
    return tuple((v is None, "" if v is None else v) for v in row)


def _sorted(rows: dict[str, list[list[Any]]]) -> dict[str, list[list[Any]]]:
    """A part's counts with the rows of each query in one order: DuckDB's GROUP BY returns its
    groups in no set order, and without this the file would depend on it."""
    return {name: sorted(r, key=_row_key) for name, r in rows.items()}


def _count(root: Path, todo: Mapping[str, list[str]]) -> dict[str, dict[str, list[list[Any]]]]:
    """part -> query name -> its rows (without the file name), for the parts of ``todo`` (table -> parts)."""
    out: dict[str, dict[str, list[list[Any]]]] = {}
    con = _connect()
    try:
        for table, rels in todo.items():
            paths = {str(root / rel): rel for rel in rels}
            for rel in rels:
                out[rel] = {name: [] for name in QUERIES[table]}
            for name in QUERIES[table]:
                for row in con.execute(load_sql(name).sql, {"files": list(paths)}).fetchall():
                    out[paths[row[0]]][name].append([_json_value(v) for v in row[1:]])
    finally:
        con.close()
    return out


def _connect() -> Any:
    """An in-memory DuckDB with the settings the counts depend on (``scratch_connection``'s,
    which this module cannot import: the store's connection module imports the snapshot module,
    whose commit calls :func:`refresh`): UTC, and no progress bar on the terminal."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:  # inside Jupyter without ipywidgets DuckDB refuses to change it
        pass
    return con


def refresh(root: str | os.PathLike, snap: Snapshot) -> None:
    """Bring ``root``'s ``_part_stats.json`` in line with ``snap`` (just published): count its
    parts that have no matching entry, drop the entries of parts it does not list. Best effort
    (see the module docstring): an error leaves the counts to SQL."""
    root = Path(root)
    try:
        old = _read(root)
        parts: dict[str, Any] = {}
        stats: dict[str, os.stat_result] = {}
        todo: dict[str, list[str]] = {}
        for table, rel in _live(snap):
            st = stats[rel] = os.stat(root / rel)
            if _matches(old.get(rel), st):
                parts[rel] = {**old[rel], "rows": _sorted(old[rel]["rows"])}  # counted by an older tracelab: in any order
            else:
                todo.setdefault(table, []).append(rel)
        if todo:
            for rel, rows in _count(root, todo).items():
                parts[rel] = {"size": stats[rel].st_size, "mtime_ns": stats[rel].st_mtime_ns, "rows": _sorted(rows)}
        if parts == old and (root / STATS_FILE).exists():
            return
        tmp = root / f"{STATS_FILE}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"format": _FORMAT, "parts": dict(sorted(parts.items()))}, fh, separators=(",", ":"))
        os.replace(tmp, root / STATS_FILE)
    except Exception:  # noqa: BLE001 - a cache: without it `tracelab info` counts with SQL
        try:
            (root / f"{STATS_FILE}.{os.getpid()}.tmp").unlink(missing_ok=True)
        except OSError:
            pass


def load(root: str | os.PathLike, snap: Snapshot) -> dict[str, dict[str, list[list[Any]]]] | None:
    """The counts of every part of ``snap``: table -> query name (:data:`QUERIES`) -> the rows of
    all its parts, without the file name, timestamps as ``datetime`` in UTC (as DuckDB returns
    them); None unless every part of the snapshot has an entry matching the file on disk."""
    root = Path(root)
    entries = _read(root)
    if not entries:
        return None
    out: dict[str, dict[str, list[list[Any]]]] = {table: {name: [] for name in names} for table, names in QUERIES.items()}
    for table, rel in _live(snap):
        try:
            st = os.stat(root / rel)
        except OSError:
            return None
        e: dict[str, Any] = entries.get(rel) or {}
        if not _matches(e, st) or set(e["rows"]) != set(QUERIES[table]):
            return None
        for name in QUERIES[table]:
            out[table][name].extend(e["rows"][name])
    for table, names in QUERIES.items():
        for name in names:
            stamps = [i for i, c in enumerate(load_sql(name).returns[1:]) if c.type == _TIMESTAMP]
            for r in out[table][name] if stamps else ():
                for i in stamps:
                    if r[i] is not None:
                        r[i] = _utc(r[i])
    return out


@cache
def _utc_zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("UTC")


def _utc(text: str) -> _dt.datetime:
    """An ISO time written by :func:`refresh`, as DuckDB returns a ``TIMESTAMP WITH TIME ZONE``
    on a connection in UTC: with ``zoneinfo.ZoneInfo('UTC')``."""
    return _dt.datetime.fromisoformat(text).astimezone(_utc_zone())
