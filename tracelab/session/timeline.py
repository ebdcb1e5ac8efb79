"""Build the timeline of a session (and the subagents it spawned) from the warehouse.

Three queries on a catalog connection (``tracelab.connect``), all in ``tracelab/sql/``:
``timeline_tree`` (the session and its descendants), ``timeline_steps`` (their steps in order)
and ``timeline_calls`` (their LLM calls). Subagents are attached to the tool step whose call
started them (``tool_calls.subagent_session_key``, else the child's ``parent_tool_call_id``).
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any

from tracelab import library as q
from tracelab.errors import NotFound
from tracelab.session.model import Call, SessionNode, Step
from tracelab.session.summary import input_summary, one_line
from tracelab.store.sql import load as load_sql

__all__ = ["STEP_KINDS", "load", "load_query", "resolve", "AmbiguousSession"]

#: events.kind -> the step kind a timeline shows
STEP_KINDS = {
    "user_prompt": "prompt",
    "user_context": "context",
    "assistant_text": "text",
    "thinking": "thinking",
    "tool_call": "tool",
    "tool_result": "tool",
    "compaction": "compaction",
    "microcompaction": "microcompaction",
    "compaction_summary": "compaction_summary",
    "api_error": "api_error",
    "interrupt": "interrupt",
    "model_change": "model_change",
    "hook": "hook",
    "image": "image",
    "system": "system",
    "unknown": "unknown",
}

_STATUS_HIGHLIGHT = {"error": "error", "user_rejected": "rejected", "interrupted": "interrupted"}


class AmbiguousSession(NotFound):
    """A prefix that names more than one session; ``context['candidates']`` lists them."""


def load_query(name: str) -> q.Query:
    """A query of ``tracelab/sql/`` parsed from its header (by the one SQL loader)."""
    return load_sql(name)


def _rows(con: Any, name: str, **params: Any) -> list[dict[str, Any]]:
    return q.run_rows(load_query(name), con, **params)


def key_range(keys: list[str]) -> dict[str, Any]:
    """``keys`` with their smallest and largest: the queries filter on the range first, which
    DuckDB pushes into the Parquet scans (a list test alone makes it read every row's text; a
    session's subagents share its key as a prefix, so the range is narrow)."""
    return {"keys": keys, "lo": min(keys) if keys else None, "hi": max(keys) if keys else None}


def resolve(con: Any, prefix: str) -> str:
    """The session key ``prefix`` names: an exact key or id, else the only session whose key,
    native id or subagent id starts with it (a main session wins over its own subagents).
    Raises :class:`NotFound` (no match) or :class:`AmbiguousSession` (several)."""
    rows = _rows(con, "timeline_match", prefix=prefix, limit=20)
    if not rows:
        raise NotFound(
            f"no session matches {prefix!r} (give a session key, a native session id or a unique prefix; `tracelab sessions` lists them)", prefix=prefix
        )
    exact = [r for r in rows if r["exact"]]
    if len(exact) == 1:
        return str(exact[0]["session_key"])
    mains = [r for r in rows if not r["is_subagent"]]
    if len(mains) == 1 and all(r["session_key"] == mains[0]["session_key"] or r["session_id"] == mains[0]["session_id"] for r in rows):
        return str(mains[0]["session_key"])
    if len(rows) == 1:
        return str(rows[0]["session_key"])
    cands = [r["session_key"] for r in rows]
    lines = "; ".join(
        f"{r['session_key']} ({r['started_at']:%Y-%m-%d %H:%M}, {r['project'] or '-'})" if r["started_at"] else r["session_key"] for r in rows[:10]
    )
    more = "" if len(rows) <= 10 else f" and {len(rows) - 10} more"
    count = f"at least {len(rows)}" if len(rows) == 20 else str(len(rows))
    raise AmbiguousSession(f"{prefix!r} matches {count} sessions: {lines}{more}; give more of the id", prefix=prefix, candidates=cands)


def _int(v: Any) -> int:
    return int(v) if v is not None else 0


def _offset(ts: _dt.datetime | None, start: _dt.datetime | None) -> float | None:
    if ts is None or start is None:
        return None
    return (ts - start).total_seconds()


def _step(n: int, r: dict[str, Any], call_no: dict[str, int], call_tokens: dict[str, int], root_start: _dt.datetime | None) -> Step:
    kind = STEP_KINDS.get(r["kind"], r["kind"])
    if r["kind"] == "tool_result" and r["tool_call_key"] is None:
        kind = "tool_result"  # a result whose call is not in the trace
    tool = r["tool_name"] if kind == "tool" else None
    status = r["status"] if kind == "tool" else None
    if kind == "tool":
        summary = input_summary(tool, r["input_json"]) if r["input_json"] else one_line(r["output_text"])
    elif kind == "image":
        summary = f"image ({_int(r['text_bytes'])} bytes)"
    else:
        summary = one_line(r["text"]) or (r["native_type"] or "")
    highlight = _STATUS_HIGHLIGHT.get(status or "")
    if kind == "api_error" or (kind == "hook" and r["is_error"]):
        highlight = "error"
    elif kind == "interrupt":
        highlight = "interrupted"
    key = r["llm_call_key"]
    return Step(
        n=n,
        kind=kind,
        ts=r["ts"],
        offset_s=_offset(r["ts"], root_start),
        summary=summary,
        source=f"{os.path.basename(r['source_file'] or '')}:{r['line_no']}",
        event_key=r["event_key"],
        tool=tool,
        tool_call_id=r["tool_call_id"] if kind == "tool" else None,
        tool_call_key=r["tool_call_key"],
        status=status,
        exit_code=r["exit_code"] if kind == "tool" else None,
        latency_ms=r["tool_latency_ms"] if kind == "tool" else None,
        call_no=call_no.get(key) if key else None,
        call_tokens=call_tokens.get(key) if key else None,
        model=r["model"] if key else None,
        highlight=highlight,
        clusters=list(r["clusters"] or []),
        branch=r["branch"],
        text=r["text"] if kind != "tool" else None,
        text_bytes=r["text_bytes"] if kind != "tool" else None,
        input=r["input_json"] if kind == "tool" else None,
        input_bytes=(r["input_bytes"] if r["input_bytes"] is not None else (len(r["input_json"].encode()) if r["input_json"] else None))
        if kind == "tool"
        else None,
        output=r["output_text"] if kind == "tool" else None,
        output_bytes=(r["output_bytes"] if r["output_bytes"] is not None else (len(r["output_text"].encode()) if r["output_text"] else None))
        if kind == "tool"
        else None,
        subagent_key=r["subagent_session_key"] if kind == "tool" else None,
    )


def load(con: Any, key: str, depth: int | None = None) -> SessionNode:
    """The timeline of session ``key`` with its subagents nested ``depth`` levels deep (None =
    all; 0 = none: the subagents appear by key and totals only)."""
    tree = _rows(con, "timeline_tree", key=key, max_depth=8)
    if not tree:
        raise NotFound(f"no session {key!r}", session=key)
    limit = 8 if depth is None else max(0, depth)
    expanded = [r["session_key"] for r in tree if r["depth"] <= limit]
    # one query per session, with lo = hi = its key: an equality DuckDB pushes into the Parquet
    # scans, so only the pages holding the session's rows are decoded (a list of keys makes
    # it decode every row's text: ~15 s instead of ~0.3 s per session at 10M events)
    steps_by: dict[str, list[dict[str, Any]]] = {}
    calls_by: dict[str, list[dict[str, Any]]] = {}
    for f in tree:
        k = f["session_key"]
        if k in expanded:
            steps_by[k] = _rows(con, "timeline_steps", **key_range([k]))
        calls_by[k] = _rows(con, "timeline_calls", **key_range([k]))
    for f in tree:  # cost of the session's own priced, non-synthetic responses
        costs = [c["cost_usd"] for c in calls_by.get(f["session_key"], []) if not c["is_synthetic"] and c["cost_usd"] is not None]
        f["cost_usd"] = sum(costs) if costs else None
    root_start = tree[0]["started_at"]
    nodes: dict[str, SessionNode] = {}
    for f in tree:
        k = f["session_key"]
        node = SessionNode(facts=f, expanded=f["depth"] <= limit)
        if node.expanded:
            calls = calls_by.get(k, [])
            node.calls = [
                Call(
                    call_no=int(c["call_no"]),
                    ts=c["ts"],
                    model=c["model"],
                    is_synthetic=bool(c["is_synthetic"]),
                    input_tokens=_int(c["input_tokens"]),
                    output_tokens=_int(c["output_tokens"]),
                    cache_read_tokens=_int(c["cache_read_tokens"]),
                    cache_write_tokens=_int(c["cache_write_tokens"]),
                    latency_ms=c["latency_ms"],
                    cost_usd=c["cost_usd"],
                )
                for c in calls
            ]
            call_no = {c["llm_call_key"]: int(c["call_no"]) for c in calls}
            call_tokens = {
                c["llm_call_key"]: _int(c["input_tokens"]) + _int(c["output_tokens"]) + _int(c["cache_read_tokens"]) + _int(c["cache_write_tokens"])
                for c in calls
            }
            node.steps = [_step(i, r, call_no, call_tokens, root_start) for i, r in enumerate(steps_by.get(k, []), 1)]
        nodes[k] = node
    # attach every child to the tool step that started it, else to its parent's unlinked list
    for f in tree[1:]:
        child = nodes[f["session_key"]]
        parent = nodes.get(f["parent_session_key"])
        if parent is None:
            continue
        target = next((s for s in parent.steps if s.subagent_key == child.key and s.subagent is None), None)
        if target is None and f["parent_tool_call_id"]:
            target = next((s for s in parent.steps if s.tool_call_id == f["parent_tool_call_id"] and s.subagent is None), None)
        if target is not None:
            target.subagent = child
            target.subagent_key = child.key
        else:
            parent.unlinked.append(child)
    return nodes[key]
