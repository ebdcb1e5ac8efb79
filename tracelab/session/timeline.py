"""Build the timeline of a session (and the subagents it spawned) from the warehouse.

Queries on a catalog connection (``tracelab.connect``), all in ``tracelab/sql/``:
``timeline_match`` (:func:`resolve`), ``timeline_tree`` (the session and its descendants;
``timeline_children`` first, which answers alone for a session without subagents). Then
:func:`read_rows` fetches the rows of those sessions, one statement per table, and
:mod:`tracelab.session.steps` puts their steps in order and numbers their LLM calls in
Python: what the queries ``timeline_steps``, ``timeline_calls`` and ``timeline_facts`` compute
over the temp tables :func:`gather` fills (the SQL they are tested against). Subagents are
attached to the tool step whose call started them (``tool_calls.subagent_session_key``, else
the child's ``parent_tool_call_id``).

Each table's rows are read in one scan per set of parts, ``session_key = $k0`` or
``session_key IN ($k0, $k1, …)`` with each key its own parameter, which DuckDB pushes into the
Parquet scans (row-group statistics and Bloom filters), so only the row groups that can hold
the sessions are decoded. A list-valued parameter (``IN (SELECT unnest($keys))``,
``list_contains``) is not pushed: DuckDB then decodes every row of the warehouse (~15 s at 10M
events). Results come back as Python rows (``fetchall``), not Arrow: converting to Arrow
imports pyarrow and pandas (~1.5 s).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from tracelab import library as q
from tracelab import pricing
from tracelab import schema as S
from tracelab.errors import NotFound
from tracelab.session import steps as assemble
from tracelab.session.model import Call, SessionNode, Step
from tracelab.session.summary import input_summary, one_line
from tracelab.store import engine
from tracelab.store.sql import load as load_sql

__all__ = [
    "GATHERED",
    "PART_TABLES",
    "STEP_KINDS",
    "TIMELINE_QUERIES",
    "AmbiguousSession",
    "catalog_needs",
    "fetch_rows",
    "gather",
    "load",
    "load_query",
    "month_of_part",
    "resolve",
    "tree_depths",
]

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


def fetch_rows(con: Any, name: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of a ``tracelab/sql`` query as dicts (DuckDB's Python values, no Arrow)."""
    query = load_query(name)
    try:
        cur = con.execute(query.sql, q.bind(query, params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    except engine.error() as exc:
        raise q.QueryError(f"query {name!r}: {exc}") from exc


#: table -> (temp table, the columns the timeline queries read)
GATHERED: dict[str, tuple[str, tuple[str, ...]]] = {
    # first: its started_at .. ended_at choose the parts of the others
    "sessions": (
        "tl_timeline_sessions",
        (
            "session_key", "parent_session_key", "parent_tool_call_id", "session_id", "subagent_id", "agent", "agent_version", "project", "cwd",
            "git_branch", "title", "forked_from", "is_subagent", "is_warmup", "started_at", "ended_at", "duration_s", "models", "source_files",
            "n_events", "n_user_prompts", "n_llm_calls", "n_tool_calls", "n_tool_errors", "n_user_rejections", "n_interrupts", "n_api_errors",
            "n_compactions", "n_interrupted_tools", "n_subagents", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
        ),
    ),
    "events": (
        "tl_timeline_events",
        (
            "session_key", "event_key", "ts", "source_file", "line_no", "seq", "kind", "native_type", "is_meta", "branch", "text", "text_bytes",
            "is_error", "tool_call_id", "tool_name", "tool_input", "status", "exit_code", "llm_call_key", "model", "spawned_session_key",
        ),
    ),
    "tool_calls": (
        "tl_timeline_tool_calls",
        (
            "session_key", "tool_call_id", "tool_call_key", "tool_kind", "input_json", "input_bytes", "output_text", "output_bytes", "status",
            "exit_code", "latency_ms", "subagent_session_key", "llm_call_key",
        ),
    ),
    "llm_calls": (
        "tl_timeline_llm_calls",
        (
            "session_key", "llm_call_key", "ts", "line_no", "model", "is_synthetic", "input_tokens", "output_tokens", "cache_read_tokens",
            "cache_write_tokens", "latency_ms",
        ),
    ),
    "failure_members": ("tl_timeline_failure_members", ("session_key", "event_key", "tool_call_key", "family", "cluster_id")),
}  # fmt: skip
#: the tables gathered for every session of a tree (the others: for the expanded ones)
_EVERY_SESSION = ("llm_calls", "sessions")


def _months(start: _dt.datetime | None, end: _dt.datetime | None) -> set[str] | None:
    """``YYYY-MM`` of every month from a day before ``start`` to a day after ``end`` (UTC; the
    margin covers a row whose time was filled from a neighbouring line); None when unknown."""
    if start is None or end is None:
        return None
    lo, hi = (start - _dt.timedelta(days=1)).astimezone(_dt.UTC), (end + _dt.timedelta(days=1)).astimezone(_dt.UTC)
    out, y, m = set(), lo.year, lo.month
    while (y, m) <= (hi.year, hi.month):
        out.add(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_of_part(path: str) -> str | None:
    """The month partition a part sits in (``…/month=2026-05/part-….parquet`` → ``2026-05``;
    ``unknown`` for rows without a time), None for a table that is not partitioned."""
    parent = os.path.basename(os.path.dirname(path))
    return parent.partition("=")[2] if parent.startswith("month=") else None


def _branch(table: str, select: str, i: int, keys: list[str], files: list[str] | None, params: dict[str, Any]) -> str | None:
    """Sessions ``keys``' rows of ``table``: from the view, or from ``files`` only (None: no part
    can hold them). The keys are bound one parameter each: DuckDB pushes ``session_key = $k`` and
    ``session_key IN ($k0, $k1, …)`` into the Parquet scans (row-group statistics and Bloom
    filters), not a list-valued parameter."""
    if files is not None and not files:
        return None
    names = []
    for j, k in enumerate(keys):
        params[f"k{i}_{j}"] = k
        names.append(f"$k{i}_{j}")
    where = f"session_key = {names[0]}" if len(names) == 1 else f"session_key IN ({', '.join(names)})"
    if files is None:
        return f'SELECT {select} FROM "{table}" WHERE {where}'
    params[f"f{i}"] = files
    return f"SELECT {select} FROM read_parquet($f{i}, hive_partitioning = false, union_by_name = true) WHERE {where}"


def _select(
    table: str,
    cols: tuple[str, ...],
    keys: list[str],
    files: list[str] | None,
    spans: dict[str, set[str] | None],
    *,
    every_part: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The statement (and its parameters) reading the rows of sessions ``keys`` of ``table``:
    one scan per set of parts, of the sessions that set can hold.

    ``files``: None reads the view ``table``; else the table's parts (the view's files), each
    session's rows from those of the months it spans (all of them when its span is unknown or
    with ``every_part``: then as the view reads them). With ``files`` the table needs no view."""
    params: dict[str, Any] = {}
    select = ", ".join(cols)
    # sessions that read the same parts share a scan (a session and its subagents mostly do)
    groups: dict[tuple[str, ...] | None, list[str]] = {}
    for k in keys:
        months = spans.get(k) if files is not None and not every_part else None
        chosen = files if months is None else [f for f in files or [] if month_of_part(f) in months or month_of_part(f) in (None, "unknown")]
        groups.setdefault(None if chosen is None else tuple(chosen), []).append(k)
    branches = [b for i, (chosen, ks) in enumerate(groups.items()) if (b := _branch(table, select, i, ks, None if chosen is None else list(chosen), params))]
    if branches:
        body = " UNION ALL ".join(branches)
    elif files is not None and table in S.SCHEMAS:  # no part can hold them: no rows, typed as declared (no view, no footer read)
        body = f"SELECT {select} FROM ({S.SCHEMAS[table].empty_select()})"
    else:
        body = f'SELECT {select} FROM "{table}" WHERE false'
    return body, params


def _copy(
    con: Any,
    table: str,
    temp: str,
    cols: tuple[str, ...],
    keys: list[str],
    files: list[str] | None,
    spans: dict[str, set[str] | None],
    *,
    every_part: bool = False,
) -> None:
    """``CREATE TEMP TABLE temp`` with the rows of sessions ``keys`` of ``table`` (see :func:`_select`)."""
    body, params = _select(table, cols, keys, files, spans, every_part=every_part)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {temp} AS {body}", params or None)


def _read(con: Any, table: str, keys: list[str], files: list[str] | None, spans: dict[str, set[str] | None]) -> list[dict[str, Any]]:
    """The rows of sessions ``keys`` of ``table`` (its :data:`GATHERED` columns) as dicts: read
    from ``files`` as :func:`_select` reads them; where those parts cannot be read alone (parts
    of an older tracelab lacking a column others have), from the view, or where the store made
    none (see :func:`catalog_needs`), from all of the table's parts by name, as its view would."""
    cols = GATHERED[table][1]

    def fetch(files: list[str] | None, every_part: bool = False) -> list[dict[str, Any]]:
        body, params = _select(table, cols, keys, files, spans, every_part=every_part)
        cur = con.execute(body, params or None)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    try:
        return fetch(files)
    except engine.error():
        if files is None:
            raise
        try:
            return fetch(None)
        except engine.catalog_exception():
            return fetch(files, every_part=True)


@contextmanager
def gather(
    con: Any, keys: list[str], every: list[str] | None = None, *, parts: Mapping[str, list[str]] | None = None, drop: bool = True
) -> Iterator[list[dict[str, Any]]]:
    """Copy the rows of sessions ``keys`` of each :data:`GATHERED` table (``llm_calls`` and
    ``sessions``: of ``every``, default ``keys``) into its temp table for ``timeline_steps``,
    ``timeline_calls`` and ``timeline_facts``; drop them on leaving. One statement per table,
    a ``UNION ALL`` of one scan per set of parts, filtered by ``session_key`` equal to / ``IN``
    the keys bound one parameter each (pushed into the Parquet scans).

    ``parts``: the snapshot's Parquet files of the month-partitioned tables (table -> paths,
    :meth:`tracelab.store.connection.Store.files_of`). Each session's rows are then read from
    the parts of the months it spans (by its ``started_at`` .. ``ended_at``, a day either side)
    and of ``month=unknown`` only, not from every part of the warehouse; those tables need no
    view then (see :func:`catalog_needs`).

    Yields the rows of ``timeline_facts`` (the sessions' facts: read once the ``sessions`` rows
    are in, their times also choosing the parts). ``drop``: False leaves the temp tables to the connection (a store closed right after: one
    statement fewer per table)."""
    try:
        spans: dict[str, set[str] | None] = {}
        facts: list[dict[str, Any]] = []
        for table, (temp, cols) in GATHERED.items():
            wanted = sorted(set(every if every is not None and table in _EVERY_SESSION else keys))
            files = parts.get(table) if parts is not None else None
            try:
                _copy(con, table, temp, cols, wanted, files, spans)
            except engine.error():
                if files is None:
                    raise
                # the chosen parts cannot be read alone (parts of an older tracelab lacking a
                # column others have): read the view, or where the store made none (see
                # catalog_needs) all of the table's parts by name, as its view would
                try:
                    _copy(con, table, temp, cols, wanted, None, spans)
                except engine.catalog_exception():
                    _copy(con, table, temp, cols, wanted, files, spans, every_part=True)
            if table == "sessions":
                facts = fetch_rows(con, "timeline_facts")
                if parts is not None:
                    spans = {f["session_key"]: _months(f["started_at"], f["ended_at"]) for f in facts}
        yield facts
    finally:
        for temp, _ in GATHERED.values() if drop else ():
            con.execute(f"DROP TABLE IF EXISTS {temp}")


def read_rows(
    con: Any, keys: list[str], every: list[str] | None = None, *, parts: Mapping[str, list[str]] | None = None
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The rows :func:`gather` copies, fetched instead (one statement per table, no temp
    table): the sessions' facts (as ``timeline_facts``, :func:`tracelab.session.steps.facts`)
    and table -> rows of the other :data:`GATHERED` tables, for the Python twins of
    ``timeline_steps`` and ``timeline_calls`` (:mod:`tracelab.session.steps`). ``parts``: see
    :func:`gather`."""
    spans: dict[str, set[str] | None] = {}
    facts: list[dict[str, Any]] = []
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in GATHERED:
        wanted = sorted(set(every if every is not None and table in _EVERY_SESSION else keys))
        got = _read(con, table, wanted, parts.get(table) if parts is not None else None, spans)
        if table == "sessions":
            facts = assemble.facts(got, _FACT_COLUMNS)
            if parts is not None:
                spans = {f["session_key"]: _months(f["started_at"], f["ended_at"]) for f in facts}
        else:
            rows[table] = got
    return facts, rows


def distinct_lists(con: Any) -> Callable[[list[list[Any]]], list[list[str]]]:
    """DuckDB's ``list_distinct`` of each of some lists on ``con``, in one statement
    (``timeline_distinct_clusters``): the ``distinct`` of :func:`tracelab.session.steps.steps`."""

    def distinct(lists: list[list[Any]]) -> list[list[str]]:
        return [list(r["clusters"]) for r in fetch_rows(con, "timeline_distinct_clusters", lists=json.dumps(lists))]

    return distinct


#: the columns of ``timeline_facts``, in its order (its header's ``returns``)
_FACT_COLUMNS = (
    "session_key", "parent_session_key", "parent_tool_call_id", "session_id", "subagent_id", "agent", "agent_version", "project", "cwd",
    "git_branch", "title", "forked_from", "is_subagent", "is_warmup", "started_at", "ended_at", "duration_s", "models", "source_files",
    "n_events", "n_user_prompts", "n_llm_calls", "n_tool_calls", "n_tool_errors", "n_user_rejections", "n_interrupts", "n_interrupted_tools",
    "n_api_errors", "n_compactions", "n_subagents", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
)  # fmt: skip


#: the tables :func:`tracelab.session` has :func:`gather` read from their parts (no view): the
#: month-partitioned ones and ``failure_members`` (``sessions`` has its view: resolve reads it)
PART_TABLES = (*S.PARTITIONED, "failure_members")

#: the queries :func:`resolve` and :func:`load` run (``timeline_facts``, ``timeline_steps`` and
#: ``timeline_calls`` are computed in Python by :mod:`tracelab.session.steps` over the rows
#: :func:`read_rows` fetches; :func:`gather` and the tests run them)
TIMELINE_QUERIES = ("timeline_match", "timeline_children", "timeline_tree", "timeline_step_counts", "timeline_distinct_clusters")


def catalog_needs() -> list[str]:
    """What :func:`resolve` and :func:`load` (given ``parts``) run, as ``Store(..., needs=...)``
    takes it: the timeline queries' statements and the view :func:`read_rows` reads (``sessions``;
    the :data:`PART_TABLES` are read from their parts). The store then binds no view over the
    events, LLM- and tool-call or failure-member parts and makes no macro."""
    return [load_query(name).sql for name in TIMELINE_QUERIES] + [f'"{t}"' for t in GATHERED if t not in PART_TABLES]


def resolve(con: Any, prefix: str) -> str:
    """The session key ``prefix`` names: an exact key or id, else the only session whose key,
    native id or subagent id starts with it (a main session wins over its own subagents).
    Raises :class:`NotFound` (no match) or :class:`AmbiguousSession` (several)."""
    rows = fetch_rows(con, "timeline_match", prefix=prefix, limit=20)
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
    raise AmbiguousSession(f"{prefix!r} matches {count} sessions: {lines}{more}; give more of the id, or one of these keys", prefix=prefix, candidates=cands)


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


def _cost(call: dict[str, Any]) -> float | None:
    """Cost of a ``timeline_calls`` row in USD (None when unpriced or without a time): the price
    in effect at its time (:func:`tracelab.pricing.cost_usd`, the arithmetic of the SQL macro
    ``tl_cost`` over ``tl_price_ranges``), so that a session needs no price table in DuckDB."""
    if call["ts"] is None:
        return None
    return pricing.cost_usd(
        call["model"], call["ts"], _int(call["input_tokens"]), _int(call["output_tokens"]), _int(call["cache_read_tokens"]), _int(call["cache_write_tokens"])
    )


def tree_depths(con: Any, key: str, max_depth: int = 8) -> dict[str, int]:
    """Session ``key`` and every session it spawned, ``max_depth`` levels down: key -> depth (0
    for ``key``; empty when there is no such session), as ``timeline_tree`` returns them, the
    root first. A session that spawned none (most) takes one scan of ``sessions``
    (``timeline_children``), not the recursive query's two."""
    family = fetch_rows(con, "timeline_children", key=key)
    if not any(r["is_root"] for r in family):
        return {}
    if all(r["is_root"] for r in family) or max_depth == 0:
        return {key: 0}
    return {r["session_key"]: r["depth"] for r in fetch_rows(con, "timeline_tree", key=key, max_depth=max_depth)}


def _step_counts(con: Any, keys: list[str], facts: list[dict[str, Any]], parts: Mapping[str, list[str]] | None) -> dict[str, int]:
    """Steps of sessions ``keys`` (collapsed by --depth): their events' kinds and tool call ids
    copied as :func:`gather` copies events (each session from the months it spans), counted by
    ``timeline_step_counts``."""
    files = parts.get("events") if parts is not None else None
    spans = {f["session_key"]: _months(f["started_at"], f["ended_at"]) for f in facts} if files is not None else {}
    try:
        _copy(con, "events", "tl_timeline_step_events", ("session_key", "kind", "tool_call_id"), keys, files, spans)
        return {r["session_key"]: int(r["steps"]) for r in fetch_rows(con, "timeline_step_counts")}
    finally:
        con.execute("DROP TABLE IF EXISTS tl_timeline_step_events")


def load(con: Any, key: str, depth: int | None = None, parts: Mapping[str, list[str]] | None = None) -> SessionNode:
    """The timeline of session ``key`` with its subagents nested ``depth`` levels deep (None =
    all; 0 = none: the subagents appear by key and totals only). ``parts``: see :func:`gather`.
    The rows are fetched (:func:`read_rows`) and put together in Python (:mod:`tracelab.session.steps`)."""
    depths = tree_depths(con, key)
    if not depths:
        raise NotFound(f"no session {key!r}", session=key)
    limit = 8 if depth is None else max(0, depth)
    expanded = {k for k, d in depths.items() if d <= limit}
    steps_by: dict[str, list[dict[str, Any]]] = {}
    calls_by: dict[str, list[dict[str, Any]]] = {}
    # facts and calls of every session of the tree (a collapsed subagent's totals), the steps of the expanded ones
    facts, rows = read_rows(con, sorted(expanded), sorted(depths), parts=parts)
    tree = [{**f, "depth": depths[f["session_key"]]} for f in facts]
    tree.sort(key=lambda f: f["depth"])  # stable: within a level, by start time and key
    for r in assemble.steps(rows["events"], rows["tool_calls"], rows["llm_calls"], rows["failure_members"], distinct_lists(con)):
        steps_by.setdefault(r["session_key"], []).append(r)
    for r in assemble.calls(rows["llm_calls"]):
        r["cost_usd"] = _cost(r)
        calls_by.setdefault(r["session_key"], []).append(r)
    collapsed = sorted(k for k in depths if k not in expanded)
    if collapsed:  # their step counts (a footer's totals with subagents hold every step)
        counts = _step_counts(con, collapsed, tree, parts)
        for f in tree:
            f["n_steps"] = counts.get(f["session_key"], 0)
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
