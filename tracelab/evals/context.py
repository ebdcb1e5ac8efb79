"""Build :class:`~tracelab.evals.case.Case` objects for anchors: the task context around each failure.

For every anchor the session's tool calls and user prompts are read once (``sql/*.sql``), then:

1. **Position.** A tool-call anchor sits at its call; an event anchor (an API error, an
   interrupt, a hook block) at its (time, file, line) — a tool result event maps to its call.
   A loop's anchor (the run's first call) moves to the first *repetition*: that is the call
   that should not have been made.
2. **User request**: the last user prompt before that position.
3. **Preceding calls**: the calls after that prompt and before the position, the last
   ``context_calls`` of them (the rest are counted, not shown).
4. **Failing call** and **observed failure**: the anchor's call with its error text (or the
   failure event's text), the cluster template and key line.
5. **Feedback** on the event, tool call, session or cluster; the expected behaviour and the
   checks are derived from it by :func:`tracelab.evals.assertions.apply` (after redaction).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from typing import Any

import polars as pl

from tracelab.evals.case import OBSERVED_CAP, Call, Case, clip
from tracelab.evals.select import Anchor
from tracelab.store import sql_text

_FAR = _dt.datetime.max.replace(tzinfo=_dt.UTC)


def _rows(con, name: str, **params) -> list[dict]:
    return pl.DataFrame(con.sql(sql_text(name), params=params).to_arrow_table()).to_dicts()


def _parse_input(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pos(ts, source_file, seq) -> tuple:
    return (ts or _FAR, source_file or "", seq if seq is not None else 0)


def _call_pos(c: dict) -> tuple:
    return _pos(c["started_at"], c["source_file"], c["call_seq"])


def _call(c: dict, *, outcome: bool = True) -> Call:
    text = None
    if outcome:
        text = c["error_text"] if c["status"] not in (None, "ok") and c["error_text"] else c["output_text"]
    return Call(
        tool_name=c["tool_name"],
        input=_parse_input(c["input_json"]),
        status=c["status"],
        outcome=text,
        tool_call_key=c["tool_call_key"],
        tool_call_id=c["tool_call_id"],
        line_no=c["call_line_no"],
    )


def case_id(anchor_key: str, cluster_id: str | None) -> str:
    return "tl-" + hashlib.blake2b(f"{cluster_id or ''}|{anchor_key}".encode(), digest_size=6).hexdigest()


def build(
    con, anchors: list[Anchor], *, cluster_names: dict[str, str] | None = None, feedback: pl.DataFrame | None = None, context_calls: int = 8
) -> list[Case]:
    """One case per distinct anchor, in anchor order (unscrubbed, without checks)."""
    seen: set[tuple] = set()
    uniq = []
    for a in anchors:
        if a.identity() not in seen:
            seen.add(a.identity())
            uniq.append(a)
    if not uniq:
        return []
    keys = sorted({a.session_key for a in uniq})
    sessions = {r["session_key"]: r for r in _rows(con, "sessions", session_keys=keys)}
    calls: dict[str, list[dict]] = {}
    for c in _rows(con, "session_calls", session_keys=keys):
        calls.setdefault(c["session_key"], []).append(c)
    for lst in calls.values():
        lst.sort(key=_call_pos)
    prompts: dict[str, list[dict]] = {}
    for p in _rows(con, "session_prompts", session_keys=keys):
        prompts.setdefault(p["session_key"], []).append(p)
    for lst in prompts.values():
        lst.sort(key=lambda p: _pos(p["ts"], p["source_file"], p["seq"]))
    ev_keys = sorted({a.event_key for a in uniq if a.event_key})
    events = {e["event_key"]: e for e in _rows(con, "events_by_key", event_keys=ev_keys)} if ev_keys else {}
    fb_rows = feedback.to_dicts() if feedback is not None and feedback.height else []
    for r in fb_rows:
        if isinstance(r.get("created_at"), _dt.datetime):
            r["created_at"] = r["created_at"].isoformat()
    names = cluster_names or {}
    return [
        _case(a, sessions.get(a.session_key, {}), calls.get(a.session_key, []), prompts.get(a.session_key, []), events, fb_rows, names, context_calls)
        for a in uniq
    ]


def _case(a: Anchor, sess: dict, calls: list[dict], prompts: list[dict], events: dict, fb_rows: list[dict], names: dict, context_calls: int) -> Case:
    ev = events.get(a.event_key) if a.event_key else None
    idx = None
    if a.tool_call_key:
        idx = next((i for i, c in enumerate(calls) if c["tool_call_key"] == a.tool_call_key), None)
    if idx is None and ev is not None and ev.get("tool_call_id"):
        idx = next((i for i, c in enumerate(calls) if c["tool_call_id"] == ev["tool_call_id"]), None)
    loop = a.family == "loop" or a.repeat
    if idx is not None and loop:
        c0 = calls[idx]
        if idx + 1 < len(calls) and calls[idx + 1]["tool_name"] == c0["tool_name"] and calls[idx + 1]["input_json"] == c0["input_json"]:
            idx += 1
    if idx is not None:
        pos = _call_pos(calls[idx])
    elif ev is not None:
        pos = _pos(ev["ts"], ev["source_file"], ev["seq"])
    else:
        pos = _pos(a.ts, a.source_file, (a.line_no or 0) * 1024)
    request = None
    rpos = None
    for p in prompts:
        if _pos(p["ts"], p["source_file"], p["seq"]) < pos:
            request, rpos = p, _pos(p["ts"], p["source_file"], p["seq"])
        else:
            break
    before = calls[:idx] if idx is not None else [c for c in calls if _call_pos(c) < pos]
    if rpos is not None:
        before = [c for c in before if _call_pos(c) > rpos]
    shown = before[-context_calls:] if context_calls > 0 else []
    failing = calls[idx] if idx is not None else None
    if failing is not None:
        observed = (
            failing["error_text"]
            if failing["status"] not in (None, "ok") and failing["error_text"]
            else (failing["output_text"] if failing["status"] not in (None, "ok") else None)
        )
        status = failing["status"]
    else:
        observed = ev["text"] if ev is not None else None
        status = ev.get("status") if ev is not None else None
    if observed is None and a.excerpt:
        observed = a.excerpt
    ts = failing["started_at"] if failing is not None and loop else (a.ts or (ev["ts"] if ev else None) or (failing["started_at"] if failing else None))
    anchor_key = a.event_key or a.tool_call_key or a.session_key
    if failing is not None and loop:
        anchor_key = failing["tool_call_key"]
    targets = {("session", a.session_key), ("cluster", a.cluster_id), ("event", a.event_key), ("tool_call", a.tool_call_key)}
    if failing is not None:
        targets.add(("tool_call", failing["tool_call_key"]))
    fb = [r for r in fb_rows if (r["target_type"], r["target_key"]) in targets]
    model = sess.get("primary_model")
    return Case(
        case_id=case_id(anchor_key, a.cluster_id),
        origin=a.origin,
        cluster_id=a.cluster_id,
        family=a.family,
        cluster_name=names.get(a.cluster_id) if a.cluster_id else None,
        template=a.template,
        excerpt=a.excerpt,
        status=status,
        observed=clip(observed, OBSERVED_CAP),
        agent=sess.get("agent"),
        model=model,
        session_key=a.session_key,
        session_id=sess.get("session_id"),
        project=sess.get("project"),
        cwd=sess.get("cwd"),
        git_branch=sess.get("git_branch"),
        event_key=a.event_key,
        tool_call_key=failing["tool_call_key"] if failing is not None else a.tool_call_key,
        source_file=(failing["source_file"] if failing is not None and loop else a.source_file)
        or (failing["source_file"] if failing else None)
        or (ev["source_file"] if ev else None),
        line_no=a.line_no
        if a.line_no is not None and not loop
        else ((failing["result_line_no"] or failing["call_line_no"]) if failing is not None else (ev["line_no"] if ev else None)),
        call_line_no=failing["call_line_no"] if failing is not None else None,
        ts=ts.isoformat() if isinstance(ts, _dt.datetime) else None,
        user_request=request["text"] if request else None,
        preceding_calls=[_call(c) for c in shown],
        omitted_calls=len(before) - len(shown),
        failing_call=_call(failing, outcome=True) if failing is not None else None,
        feedback=fb,
    )
