"""From an event (a search hit, a failure exemplar) to the step of ``tracelab session`` that
shows it, and the command that opens the timeline there.

Cheap enough to run under every search hit at 10M events, on the search's own store. The
events of the hits' sessions (the few columns the step order needs) are copied into a temp
table, and ``locate_steps.sql`` numbers their steps the way ``timeline_steps`` orders them and
picks each event's step in the same query (a row per event asked for, not the sessions' steps).

The copy filters by ``session_key IN ($k0, $k1, …)``, each key its own parameter, which DuckDB
pushes into the Parquet scans (Bloom filters skip the row groups without those sessions; a
list-valued parameter, ``IN (SELECT unnest(…))`` / ``list_contains``, is not pushed: DuckDB
then decodes every row of the warehouse, ~14 s at 10M events). Given the events parts (``parts``,
the store's files), it reads in two steps: which rows of which part hold each session (the
session key column only: a row group a Bloom filter lets through by mistake costs one column),
then the needed columns of just those row ranges (a session's events sit together in a part),
about a third of reading the columns of every row group the filters let through (0.12 vs
0.37 s CPU for 34 sessions at 10M events). Callers that know each event's session (the search
rows, failure exemplars) pass it, so the events are never looked up by a list of event keys.

Imports neither the session view nor its timeline: ``tracelab search`` loads this module for
its hints."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
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


def locate_steps(
    con: Any, event_keys: Iterable[str | None], sessions: Mapping[str, str | None] | None = None, *, parts: Sequence[str] | None = None
) -> dict[str, tuple[str, int]]:
    """``{event_key: (session_key, step number)}`` for each event: the step of the event
    itself, else of its tool call (a result or progress record), else the last step at or
    before its time. Events of no session are left out.

    ``sessions``: each event's session key when the caller knows it (``{event_key:
    session_key}``). Events without one are looked up in the events view by a list of keys,
    which reads every row of the warehouse: pass the sessions where they are at hand. An
    event given with a session it is not in is left out.

    ``parts``: the events view's Parquet files (``Store.files_of("events")``): the sessions'
    rows are then read by row ranges (see the module); None reads them through the view."""
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
        _copy_sessions(con, keys, [str(p) for p in parts] if parts is not None else None)
        found = _fetch(con, "locate_steps", events=sorted(known))
    finally:
        con.execute(f"DROP TABLE IF EXISTS {LOCATE_TEMP}")
    return {e: (k, int(n)) for e, k, n in found if k == known.get(e)}


#: how the parts are read: as the events view reads them
_READ = "hive_partitioning = false, union_by_name = true"


def _copy_sessions(con: Any, keys: list[str], parts: list[str] | None) -> None:
    """``LOCATE_TEMP``: the :data:`LOCATE_COLUMNS` of sessions ``keys``' events, each key bound
    as its own parameter (``session_key IN ($k0, …)``); from ``parts`` by row ranges, else
    from the events view."""
    params: dict[str, Any] = {f"k{i}": k for i, k in enumerate(keys)}
    in_keys = f"session_key IN ({', '.join(f'${p}' for p in params)})"
    select = ", ".join(LOCATE_COLUMNS)
    body = f"SELECT {select} FROM events WHERE {in_keys}"
    if parts:
        # where each session's rows are: its first and last row in each part holding it
        found = con.execute(
            f"SELECT filename, min(file_row_number), max(file_row_number) FROM read_parquet($parts, {_READ}) WHERE {in_keys} GROUP BY filename, session_key",
            {**params, "parts": parts},
        ).fetchall()
        ranges: list[str] = []
        files: dict[str, str] = {}
        for i, (f, first, last) in enumerate(sorted(found)):
            p = files.setdefault(f, f"f{len(files)}")
            params.update({p: f, f"a{i}": first, f"b{i}": last})
            ranges.append(f"(filename = ${p} AND file_row_number BETWEEN $a{i} AND $b{i})")
        if ranges:
            params["files"] = sorted(files)
            # the session test stays: a range may hold other sessions' rows between its ends
            body = f"SELECT {select} FROM read_parquet($files, {_READ}) WHERE ({' OR '.join(ranges)}) AND {in_keys}"
        else:
            body = f"SELECT {select} FROM events WHERE false"
            params = {}
    con.execute(f"CREATE OR REPLACE TEMP TABLE {LOCATE_TEMP} AS {body}", params or None)


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
