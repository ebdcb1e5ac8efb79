"""From an event (a search hit, a failure exemplar) to the step of ``tracelab session`` that
shows it, and the command that opens the timeline there."""

from __future__ import annotations

import bisect
import shlex
from collections.abc import Iterable
from typing import Any

from tracelab.session.timeline import fetch_rows, gather

__all__ = ["around_command", "locate_steps"]


def locate_steps(con: Any, event_keys: Iterable[str]) -> dict[str, tuple[str, int]]:
    """``{event_key: (session_key, step number)}`` for each event: the step of the event
    itself, else of its tool call (a result or progress record), else the last step at or
    before its time. Events of no session are left out."""
    wanted = sorted({k for k in event_keys if k})
    if not wanted:
        return {}
    refs = fetch_rows(con, "timeline_event_refs", events=wanted)
    sessions = sorted({r["session_key"] for r in refs if r["session_key"]})
    if not sessions:
        return {}
    with gather(con, sessions, []):  # the sessions' rows, one equality scan each: see tracelab.session.timeline
        steps = fetch_rows(con, "timeline_steps")
    by_event: dict[str, int] = {}
    by_call: dict[tuple[str, str], int] = {}
    times: dict[str, list[tuple[Any, int]]] = {}
    counter: dict[str, int] = {}
    for r in steps:
        k = r["session_key"]
        n = counter[k] = counter.get(k, 0) + 1
        by_event[r["event_key"]] = n
        if r["tool_call_id"]:
            by_call.setdefault((k, r["tool_call_id"]), n)
        if r["ts_order"] is not None:
            times.setdefault(k, []).append((r["ts_order"], n))
    out: dict[str, tuple[str, int]] = {}
    for r in refs:
        k, e = r["session_key"], r["event_key"]
        if not k or k not in counter:
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
