"""``tracelab.suggest(...)``: harness changes learnt from the warehouse, as a Polars frame."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from typing import Any

import polars as pl

from tracelab.errors import NotFound, ParameterError
from tracelab.store import Store

from . import backtest, calls, hooks, instructions, permissions, render
from .model import DEFAULT_THRESHOLDS, EXAMPLES, KINDS, Suggestion, Thresholds

#: Columns of the frame :func:`suggest` returns, in order.
COLUMNS = (
    "id",
    "kind",
    "decision",
    "agent",
    "project",
    "tool",
    "tool_family",
    "pattern",
    "title",
    "rule",
    "target",
    "confidence",
    "n_events",
    "n_sessions",
    "first_seen",
    "last_seen",
    "cluster_ids",
    "examples",
    "example_commands",
    "calls_per_week",
    "minutes_per_week",
    "tokens_per_week",
    "backtest_calls",
    "backtest_minutes",
    "backtest_tokens",
    "expected_effect",
    "oot",
    "oot_test_events",
    "claude",
    "codex",
    "gemini",
    "pi",
    "details",
)


def mine(df: pl.DataFrame, kinds: Sequence[str] = KINDS, th: Thresholds = DEFAULT_THRESHOLDS) -> list[Suggestion]:
    out: list[Suggestion] = []
    if "permission" in kinds:
        out += permissions.mine(df.filter(pl.col("agent") != "pi"), th)  # pi has no permission prompts
    if "instruction" in kinds:
        out += instructions.mine(df, th)
    if {"hook", "boundary", "loop"} & set(kinds):
        out += [s for s in hooks.mine(df, th) if s.kind in kinds]
    return out


def find(warehouse: str | os.PathLike | Store, suggestion_id: str, *, min_events: int | None = None, min_sessions: int | None = None) -> Suggestion:
    """The suggestion with this id (mined again from ``warehouse``), with its evidence calls."""
    df = calls.load(warehouse)
    for s in mine(df, KINDS, Thresholds.of(min_events, min_sessions)):
        if s.id == suggestion_id:
            return s
    raise NotFound(f"no suggestion {suggestion_id} in this warehouse (run `tracelab suggest` for the list)", suggestion=suggestion_id)


def _examples(s: Suggestion) -> tuple[list[str], list[str]]:
    ev = s.evidence.sort("started_at", nulls_last=True)
    picked = ev.unique(subset=["session_key"], keep="first", maintain_order=True).head(EXAMPLES)
    cmds, texts = [], []
    for r in picked.iter_rows(named=True):
        cmds.append(f"tracelab session {r['session_id'] or r['session_key']} --around {r['call_no']}")
        what = r["simple"] or r["command"] or r["file_path"] or r["tool_name"]
        status = r["status"] if r["status"] != "error" else f"error: {(r['error_line'] or '')[:80]}"
        texts.append(f"{r['tool_name']} {what!s:.100} → {status}")
    return cmds, texts


def _expected(s: Suggestion, eff: dict[str, float]) -> str:
    per = f"{eff['calls']} calls, {eff['minutes']} min, {eff['tokens']:.0f} tokens over the window"
    if s.effect == "approval_wait":
        return f"no approval prompt for {eff['calls']} calls; {eff['minutes']} min of waiting saved ({per})"
    if s.effect == "blocked":
        return f"{eff['calls']} calls refused before running ({per})"
    if s.effect == "asked":
        return f"{eff['calls']} rejected calls would be asked for explicitly"
    if s.effect == "loop_tail":
        return f"{eff['calls']} repeated calls skipped ({per})"
    return f"{eff['calls']} failures avoided ({per})"


def suggest(
    warehouse: str | os.PathLike | Store = "warehouse",
    *,
    kinds: Sequence[str] = KINDS,
    project: str | None = None,
    agent: str | None = None,
    since: str | dt.datetime | None = None,
    until: str | dt.datetime | None = None,
    holdout_weeks: int = 1,
    min_confidence: float = 0.0,
    min_events: int | None = None,
    min_sessions: int | None = None,
    include_rejected: bool = False,
    frame: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Suggested harness changes with evidence, backtest and out-of-time check.

    One row per suggestion (columns :data:`COLUMNS`), best first (minutes saved per week,
    then events). Deterministic: the same warehouse gives the same rows and ids. ``frame`` is a
    prepared calls frame (:func:`tracelab.suggest.calls.load`) to reuse instead of reading
    ``warehouse``. Suggestions labelled ``rejected`` are left out unless ``include_rejected``.
    ``min_events`` / ``min_sessions`` lower or raise every evidence threshold at once
    (defaults: :class:`.model.Thresholds`).
    """
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ParameterError(f"unknown suggestion kind(s) {bad}; choose from {', '.join(KINDS)}", param="kinds")
    if holdout_weeks < 0:
        raise ParameterError("holdout_weeks must be >= 0", param="holdout_weeks")
    if (min_events is not None and min_events < 1) or (min_sessions is not None and min_sessions < 1):
        raise ParameterError("min_events and min_sessions must be >= 1", param="min_events")
    th = Thresholds.of(min_events, min_sessions)
    since_ts = _ts(since, "since")
    until_ts = _ts(until, "until")
    if frame is not None:
        df, rejected = frame, set[str]()
    else:
        df, rejected = calls.read(warehouse, project=project, agent=agent, since=since_ts, until=until_ts)
    if include_rejected:
        rejected = set()
    found = mine(df, kinds, th)
    weeks = calls.n_weeks(df)
    oot = backtest.out_of_time(found, df, lambda d: mine(d, kinds, th), holdout_weeks)
    rows: list[dict[str, Any]] = []
    parts = calls.Partitions(df)
    fam = dict(zip(df["tool_name"].to_list(), df["tool_family"].to_list(), strict=True)) if df.height else {}
    for s in found:
        if s.id in rejected:
            continue
        eff = backtest.effect(s, parts.of(s.agent, s.project))
        ex_cmds, ex_texts = _examples(s)
        ev = s.evidence
        clusters = sorted(set(ev["cluster_id"].drop_nulls().to_list()) | set(s.details.get("clusters", [])))
        row: dict[str, Any] = {
            "id": s.id,
            "kind": s.kind,
            "decision": s.decision,
            "agent": s.agent,
            "project": s.project,
            "tool": s.tool,
            "tool_family": fam.get(s.tool, "other"),
            "pattern": s.pattern,
            "title": s.title,
            "rule": s.rule,
            "confidence": s.confidence(),
            "n_events": ev.height,
            "n_sessions": ev["session_key"].n_unique(),
            "first_seen": ev["started_at"].min(),
            "last_seen": ev["started_at"].max(),
            "cluster_ids": clusters,
            "examples": ex_cmds,
            "example_commands": ex_texts,
            "calls_per_week": round(eff["calls"] / weeks, 2),
            "minutes_per_week": round(eff["minutes"] / weeks, 2),
            "tokens_per_week": round(eff["tokens"] / weeks, 1),
            "backtest_calls": int(eff["calls"]),
            "backtest_minutes": eff["minutes"],
            "backtest_tokens": eff["tokens"],
            "expected_effect": _expected(s, eff),
            **oot[s.id],
            "details": s.details,
        }
        row["target"] = render.target_file(row)
        row.update(render.renderings(row))
        row["details"] = json.dumps(s.details, sort_keys=True, default=str)
        if row["confidence"] >= min_confidence:
            rows.append(row)
    rows.sort(key=lambda r: (-r["minutes_per_week"], -r["n_events"], KINDS.index(r["kind"]), r["id"]))
    return _frame(rows)


def _ts(v: str | dt.datetime | None, name: str) -> dt.datetime | None:
    if v is None or isinstance(v, dt.datetime):
        return v
    try:
        out = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ParameterError(f"{name}: {v!r} is not an ISO date or time", param=name) from exc
    return out if out.tzinfo else out.replace(tzinfo=dt.UTC)


SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "id": pl.String,
    "kind": pl.String,
    "decision": pl.String,
    "agent": pl.String,
    "project": pl.String,
    "tool": pl.String,
    "tool_family": pl.String,
    "pattern": pl.String,
    "title": pl.String,
    "rule": pl.String,
    "target": pl.String,
    "confidence": pl.Float64,
    "n_events": pl.Int64,
    "n_sessions": pl.Int64,
    "first_seen": pl.Datetime("ms", "UTC"),
    "last_seen": pl.Datetime("ms", "UTC"),
    "cluster_ids": pl.List(pl.String),
    "examples": pl.List(pl.String),
    "example_commands": pl.List(pl.String),
    "calls_per_week": pl.Float64,
    "minutes_per_week": pl.Float64,
    "tokens_per_week": pl.Float64,
    "backtest_calls": pl.Int64,
    "backtest_minutes": pl.Float64,
    "backtest_tokens": pl.Float64,
    "expected_effect": pl.String,
    "oot": pl.String,
    "oot_test_events": pl.Int64,
    "claude": pl.String,
    "codex": pl.String,
    "gemini": pl.String,
    "pi": pl.String,
    "details": pl.String,
}


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame([{k: r.get(k) for k in COLUMNS} for r in rows], schema=SCHEMA, orient="row") if rows else pl.DataFrame(schema=SCHEMA)
