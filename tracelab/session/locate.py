"""From an event (a search hit, a failure exemplar) to the step of ``tracelab session`` that
shows it, and the command that opens the timeline there.

Cheap enough to run under every search hit at 10M events: the events of the hits' sessions
(the few columns the step order needs) are copied into a temp table with one equality scan
per session (``session_key = $k``, which DuckDB pushes into the Parquet scans; Bloom filters
and row-group statistics skip the other parts), and ``timeline_step_numbers`` numbers their
steps in one query, the way ``timeline_steps`` orders them. Callers that know each event's
session (the search rows, failure exemplars) pass it, so the events are never filtered by a
list of keys (an ``IN`` / ``list_contains`` test is not pushed into the scans: DuckDB then
decodes every row of the warehouse, ~14 s at 10M events)."""

from __future__ import annotations

import bisect
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from tracelab.session.timeline import _copy, fetch_rows, load_query

__all__ = ["LOCATE_COLUMNS", "LOCATE_TEMP", "around_command", "locate_needs", "locate_steps"]

#: the temp table :func:`locate_steps` fills with the sessions' events, and its columns
LOCATE_TEMP = "tl_locate_events"
LOCATE_COLUMNS = ("session_key", "event_key", "ts", "source_file", "seq", "kind", "tool_call_id")


def locate_needs() -> list[str]:
    """What :func:`locate_steps` runs when every event's session is given, as ``Store(...,
    needs=...)`` takes it: the events view (the session's rows are copied from it) and its two
    queries; a store opened so binds no other view and makes no other macro (start-up of
    ``tracelab search``'s hints)."""
    return ['"events"', load_query("timeline_step_numbers").sql, load_query("locate_event_refs").sql]


def locate_steps(con: Any, event_keys: Iterable[str | None], sessions: Mapping[str, str | None] | None = None) -> dict[str, tuple[str, int]]:
    """``{event_key: (session_key, step number)}`` for each event: the step of the event
    itself, else of its tool call (a result or progress record), else the last step at or
    before its time. Events of no session are left out.

    ``sessions``: each event's session key when the caller knows it (``{event_key:
    session_key}``). Events without one are looked up in the events view by a list of keys,
    which reads every row of the warehouse: pass the sessions where they are at hand."""
    wanted = sorted({k for k in event_keys if k})
    if not wanted:
        return {}
    known = {e: sessions[e] for e in wanted if sessions is not None and sessions.get(e)}
    unknown = [e for e in wanted if e not in known]
    if unknown:  # slow path: the events view filtered by a list of keys (decodes every row)
        known.update({r["event_key"]: r["session_key"] for r in fetch_rows(con, "timeline_event_refs", events=unknown) if r["session_key"]})
    keys = sorted({k for k in known.values() if k})
    if not keys:
        return {}
    try:
        _copy(con, "events", LOCATE_TEMP, LOCATE_COLUMNS, keys, None, {})
        steps = fetch_rows(con, "timeline_step_numbers")
        refs = fetch_rows(con, "locate_event_refs", events=sorted(known))
    finally:
        con.execute(f"DROP TABLE IF EXISTS {LOCATE_TEMP}")
    by_event: dict[str, int] = {}
    by_call: dict[tuple[str, str], int] = {}
    times: dict[str, list[tuple[Any, int]]] = {}
    for r in steps:
        k, n = r["session_key"], r["step"]
        by_event[r["event_key"]] = n
        if r["tool_call_id"]:
            by_call.setdefault((k, r["tool_call_id"]), n)
        if r["ts_order"] is not None:
            times.setdefault(k, []).append((r["ts_order"], n))
    with_steps = {r["session_key"] for r in steps}
    out: dict[str, tuple[str, int]] = {}
    for r in refs:
        k, e = r["session_key"], r["event_key"]
        if not k or k != known.get(e) or k not in with_steps:
            continue
        step = by_event.get(e) or (by_call.get((k, r["tool_call_id"])) if r["tool_call_id"] else None)
        if step is None:
            seq = times.get(k, [])
            i = bisect.bisect_right([t for t, _ in seq], r["ts"]) - 1 if r["ts"] is not None else -1
            step = seq[i][1] if i >= 0 else 1
        out[e] = (k, step)
    return out


def around_command(session_key: str, step: int) -> str:
    """``tracelab session KEY --around N``, quoted for a shell."""
    return f"tracelab session {shlex.quote(session_key)} --around {step}"
