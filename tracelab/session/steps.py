"""A session's steps, calls and facts assembled in Python from its plain rows.

``tracelab session`` reads each table's rows of the sessions it shows (one scan each, see
:func:`tracelab.session.timeline.load`) and puts the timeline together here: what the queries
``timeline_steps``, ``timeline_calls`` and ``timeline_facts`` (``tracelab/sql/``) compute over
the same rows, row for row and in the same order (``tests/test_session_steps.py`` checks it on
every sample session). On a session of a few hundred rows DuckDB spends ~2-4 ms planning each
window, join and aggregate of those queries, ~20 ms of a command that starts in ~0.25 s; the
same work is well under a millisecond of Python, and at 10M events (a session of thousands of
rows) still a few milliseconds.

Rows are dicts of DuckDB's Python values. Orderings follow the SQL: ``NULLS LAST`` unless the
query says ``NULLS FIRST``; text compares by code point (DuckDB: by UTF-8 bytes, the same order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["STEP_EVENT_KINDS", "calls", "facts", "steps"]

#: event kinds that are steps (the macro ``tl_is_step_kind`` of ``queries/_macros.sql``)
STEP_EVENT_KINDS = frozenset(
    {
        "user_prompt",
        "user_context",
        "assistant_text",
        "thinking",
        "tool_call",
        "tool_result",
        "compaction",
        "microcompaction",
        "compaction_summary",
        "api_error",
        "interrupt",
        "model_change",
        "hook",
        "image",
        "system",
        "unknown",
    }
)
_TOOL_KINDS = ("tool_call", "tool_result")


def _last(v: Any) -> tuple[bool, Any]:
    """Sort key of a value ascending, NULLS LAST."""
    return (v is None, v if v is not None else 0)


def _first(v: Any) -> tuple[bool, Any]:
    """Sort key of a value ascending, NULLS FIRST."""
    return (v is not None, v if v is not None else 0)


def steps(
    events: Iterable[dict[str, Any]],
    tool_calls: Iterable[dict[str, Any]],
    llm_calls: Iterable[dict[str, Any]],
    failure_members: Iterable[dict[str, Any]],
    distinct: Callable[[list[list[Any]]], list[list[str]]],
) -> list[dict[str, Any]]:
    """The rows of ``timeline_steps`` over these rows of events, tool calls, LLM calls and
    failure members (the columns of :data:`tracelab.session.timeline.GATHERED`).

    ``distinct``: DuckDB's ``list_distinct`` of each of some lists (one call for all of them).
    A step's clusters are that of its event's and its tool call's clusters; the order it
    gives two or more is its hash table's, which Python cannot reproduce, so those lists go
    to DuckDB (a step of one cluster, most, or none does not)."""
    ev = [dict(e) for e in events if e["kind"] in STEP_EVENT_KINDS]
    # ts_fill: the last non-NULL time up to the row, per session and file in seq order
    by_file: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for e in ev:
        by_file.setdefault((e["session_key"], e["source_file"]), []).append(e)
    for rows in by_file.values():
        fill = None
        for e in sorted(rows, key=lambda r: _last(r["seq"])):
            if e["ts"] is not None:
                fill = e["ts"]
            e["ts_fill"] = fill
    # one step per tool call id: the call, else the first result
    first: dict[tuple[Any, Any], dict[str, Any]] = {}
    for e in ev:
        if e["tool_call_id"] is not None and e["kind"] in _TOOL_KINDS:
            k = (e["session_key"], e["tool_call_id"])
            if k not in first or _tool_order(e) < _tool_order(first[k]):
                first[k] = e
    kept = [e for e in ev if e["tool_call_id"] is None or e["kind"] not in _TOOL_KINDS or first[(e["session_key"], e["tool_call_id"])] is e]
    tc: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for t in tool_calls:
        if t["session_key"] is not None and t["tool_call_id"] is not None:
            tc.setdefault((t["session_key"], t["tool_call_id"]), []).append(t)
    lc: dict[Any, list[dict[str, Any]]] = {}
    for c in llm_calls:
        if c["llm_call_key"] is not None:
            lc.setdefault(c["llm_call_key"], []).append(c)
    # fm: the clusters of each (event, tool call) pair, distinct and sorted (NULLS LAST)
    groups: dict[tuple[Any, Any], set[Any]] = {}
    for m in failure_members:
        name = None if m["family"] is None or m["cluster_id"] is None else f"{m['family']}:{m['cluster_id']}"
        groups.setdefault((m["event_key"], m["tool_call_key"]), set()).add(name)
    fm_event: dict[Any, list[Any]] = {}
    fm_call: dict[Any, list[list[Any]]] = {}
    for (event_key, call_key), names in groups.items():
        clusters = sorted(names, key=_last)
        if call_key is None:
            if event_key is not None:
                fm_event[event_key] = clusters
        else:
            fm_call.setdefault(call_key, []).append(clusters)
    out: list[dict[str, Any]] = []
    none: list[Any] = [None]  # a LEFT JOIN's row without a match
    for s in kept:
        is_tool = s["kind"] in _TOOL_KINDS
        for t in (tc.get((s["session_key"], s["tool_call_id"])) if is_tool else None) or none:
            call_key = s["llm_call_key"] if s["llm_call_key"] is not None else (t["llm_call_key"] if t is not None else None)
            for c in lc.get(call_key, ()) or none:
                ft_lists = (fm_call.get(t["tool_call_key"]) if t is not None and t["tool_call_key"] is not None else None) or none
                for ft in ft_lists:
                    out.append(_row(s, t, c, call_key, fm_event.get(s["event_key"]) if s["event_key"] is not None else None, ft))
    several = []
    for r in out:
        names = {c for c in r["clusters"] if c is not None}
        if len(names) > 1:
            several.append(r)
        else:
            r["clusters"] = list(names)
    if several:
        for r, clusters in zip(several, distinct([r["clusters"] for r in several]), strict=True):
            r["clusters"] = clusters
    out.sort(key=lambda r: (_last(r["session_key"]), _first(r["ts_order"]), _last(r["source_file"]), _last(r["seq"])))
    return out


def _tool_order(e: dict[str, Any]) -> tuple[Any, ...]:
    """ORDER BY kind = 'tool_call' DESC, ts_fill NULLS FIRST, source_file, seq."""
    return (e["kind"] != "tool_call", _first(e["ts_fill"]), _last(e["source_file"]), _last(e["seq"]))


def _coalesce(*vs: Any) -> Any:
    return next((v for v in vs if v is not None), None)


def _row(s: dict[str, Any], t: dict[str, Any] | None, c: dict[str, Any] | None, call_key: Any, fe: list[Any] | None, ft: list[Any] | None) -> dict[str, Any]:
    t = t or {}
    c = c or {}
    return {
        "session_key": s["session_key"],
        "event_key": s["event_key"],
        "ts": s["ts"],
        "ts_order": _coalesce(s["ts_fill"], s["ts"]),
        "source_file": s["source_file"],
        "line_no": s["line_no"],
        "seq": s["seq"],
        "kind": s["kind"],
        "native_type": s["native_type"],
        "is_meta": s["is_meta"],
        "branch": s["branch"],
        "text": s["text"],
        "text_bytes": s["text_bytes"],
        "is_error": s["is_error"],
        "tool_call_id": s["tool_call_id"],
        "tool_name": s["tool_name"],
        "tool_kind": t.get("tool_kind"),
        "input_json": _coalesce(t.get("input_json"), s["tool_input"]),
        "input_bytes": t.get("input_bytes"),
        "output_text": _coalesce(t.get("output_text"), s["text"] if s["kind"] == "tool_result" else None),
        "output_bytes": t.get("output_bytes"),
        "status": _coalesce(t.get("status"), s["status"]),
        "exit_code": _coalesce(t.get("exit_code"), s["exit_code"]),
        "tool_latency_ms": t.get("latency_ms"),
        "subagent_session_key": _coalesce(t.get("subagent_session_key"), s["spawned_session_key"]),
        "tool_call_key": t.get("tool_call_key"),
        "llm_call_key": call_key,
        "model": _coalesce(c.get("model"), s["model"]),
        "is_synthetic": c.get("is_synthetic"),
        "call_input_tokens": c.get("input_tokens"),
        "call_output_tokens": c.get("output_tokens"),
        "call_cache_read_tokens": c.get("cache_read_tokens"),
        "call_cache_write_tokens": c.get("cache_write_tokens"),
        "call_latency_ms": c.get("latency_ms"),
        "clusters": [*(fe or []), *(ft or [])],  # flattened: made distinct by steps()
    }


def calls(llm_calls: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of ``timeline_calls``: each session's LLM calls numbered by finish time."""
    by_session: dict[Any, list[dict[str, Any]]] = {}
    for c in llm_calls:
        by_session.setdefault(c["session_key"], []).append(c)
    out: list[dict[str, Any]] = []
    for key in sorted(by_session, key=_last):
        ordered = sorted(by_session[key], key=lambda c: (_last(c["ts"]), _last(c["line_no"]), _last(c["llm_call_key"])))
        for n, c in enumerate(ordered, 1):
            out.append(
                {
                    "session_key": key,
                    "call_no": n,
                    "llm_call_key": c["llm_call_key"],
                    "ts": c["ts"],
                    "model": c["model"],
                    "is_synthetic": c["is_synthetic"],
                    "input_tokens": c["input_tokens"],
                    "output_tokens": c["output_tokens"],
                    "cache_read_tokens": c["cache_read_tokens"],
                    "cache_write_tokens": c["cache_write_tokens"],
                    "context_tokens": (c["input_tokens"] or 0) + (c["cache_read_tokens"] or 0) + (c["cache_write_tokens"] or 0),
                    "latency_ms": c["latency_ms"],
                }
            )
    return out


#: the columns of ``timeline_facts``: the ``sessions`` columns gathered, ``is_subagent`` and
#: ``is_warmup`` false where NULL
_FACT_FLAGS = ("is_subagent", "is_warmup")


def facts(sessions: Iterable[dict[str, Any]], columns: Iterable[str]) -> list[dict[str, Any]]:
    """The rows of ``timeline_facts`` over these ``sessions`` rows: ``columns`` of each (its
    flags false where NULL), by start time (NULLS LAST), then key."""
    out = []
    for r in sessions:
        row = {c: r[c] for c in columns}
        for flag in _FACT_FLAGS:
            row[flag] = bool(row[flag]) if row[flag] is not None else False
        out.append(row)
    out.sort(key=lambda r: (_last(r["started_at"]), _last(r["session_key"])))
    return out
