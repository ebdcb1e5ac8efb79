"""From an event (a search hit, a failure exemplar) to the step of ``tracelab session`` that
shows it, and the command that opens the timeline there.

Cheap enough to run under every search hit at 10M events, on the search's own store. The
events of the hits' sessions (the few columns the step order needs) are copied into a temp
table by one scan of the events view filtered by ``session_key IN ($k0, $k1, …)``, each key its
own parameter, which DuckDB pushes into the Parquet scans (Bloom filters skip the row groups
without those sessions; a list-valued parameter, ``IN (SELECT unnest(…))`` / ``list_contains``,
is not pushed: DuckDB then decodes every row of the warehouse, ~14 s at 10M events). Then
``locate_steps.sql`` numbers their steps the way ``timeline_steps`` orders them and picks each
event's step in the same query (a row per event asked for, not the sessions' steps). Callers
that know each event's session (the search rows, failure exemplars) pass it, so the events are
never looked up by a list of event keys.

(Reading the sessions' row ranges of the parts instead, found by a first scan of the session
key column, was 2-3x cheaper for ENOENT's 34 sessions at 10M, which sit close together, but
2x dearer for 18 sessions spread over the parts and ~15x for ~500: DuckDB evaluates the OR of
the ranges on every row it reads. See benchmarks/results/search_table.md.)

Imports neither the session view nor its timeline: ``tracelab search`` loads this module for
its hints."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

from tracelab import library as q
from tracelab.store.sql import load as load_sql

__all__ = ["LOCATE_COLUMNS", "LOCATE_TEMP", "around_command", "locate_needs", "locate_steps"]

#: the temp table :func:`locate_steps` fills with the sessions' events, and its columns
LOCATE_TEMP = "tl_locate_events"
LOCATE_COLUMNS = ("session_key", "event_key", "ts", "source_file", "seq", "kind", "tool_call_id")


def locate_needs() -> list[str]:
    """What :func:`locate_steps` runs, as ``Store(..., needs=...)`` takes it: the events view
    (the sessions' rows are copied from it) and its queries; a store opened so binds no other
    view and makes no other macro (``tracelab search`` adds it to the search's needs and numbers
    its hits' steps on the search's store)."""
    return ['"events"', load_sql("locate_steps").sql, load_sql("timeline_event_refs").sql]


def locate_steps(con: Any, event_keys: Iterable[str | None], sessions: Mapping[str, str | None] | None = None) -> dict[str, tuple[str, int]]:
    """``{event_key: (session_key, step number)}`` for each event: the step of the event
    itself, else of its tool call (a result or progress record), else the last step at or
    before its time. Events of no session are left out.

    ``sessions``: each event's session key when the caller knows it (``{event_key:
    session_key}``). Events without one are looked up in the events view by a list of keys,
    which reads every row of the warehouse: pass the sessions where they are at hand. An
    event given with a session it is not in is left out."""
    wanted = sorted({k for k in event_keys if k})
    if not wanted:
        return {}
    known = {e: sessions[e] for e in wanted if sessions is not None and sessions.get(e)}
    unknown = [e for e in wanted if e not in known]
    if unknown:  # slow path: the events view filtered by a list of keys (decodes every row)
        known.update({r[0]: r[1] for r in _fetch(con, "timeline_event_refs", events=unknown) if r[1]})
    keys = sorted({k for k in known.values() if k})
    if not keys:
        return {}
    try:
        _copy_sessions(con, keys)
        found = _fetch(con, "locate_steps", events=sorted(known))
    finally:
        con.execute(f"DROP TABLE IF EXISTS {LOCATE_TEMP}")
    return {e: (k, int(n)) for e, k, n in found if k == known.get(e)}


def _copy_sessions(con: Any, keys: list[str]) -> None:
    """``LOCATE_TEMP``: the :data:`LOCATE_COLUMNS` of sessions ``keys``' events, by one scan of
    the events view with the keys bound one parameter each (``session_key IN ($k0, …)``)."""
    params = {f"k{i}": k for i, k in enumerate(keys)}
    where = ", ".join(f"${p}" for p in params)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {LOCATE_TEMP} AS SELECT {', '.join(LOCATE_COLUMNS)} FROM events WHERE session_key IN ({where})", params)


def _fetch(con: Any, name: str, **params: Any) -> list[tuple]:
    """The rows of the ``tracelab/sql`` query ``name`` (its ``returns`` columns, in order)."""
    query = load_sql(name)
    try:
        return con.execute(query.sql, q.bind(query, params)).fetchall()
    except duckdb.Error as exc:
        raise q.QueryError(f"query {name!r}: {exc}") from exc


def around_command(session_key: str, step: int) -> str:
    """``tracelab session KEY --around N``, quoted for a shell."""
    return f"tracelab session {shlex.quote(session_key)} --around {step}"
