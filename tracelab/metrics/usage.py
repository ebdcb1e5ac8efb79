"""ccusage-compatible usage reports (daily, weekly, monthly, session).

:func:`usage_report` runs the named query ``usage_report`` and shapes its rows exactly like
``ccusage <agent> daily|weekly|monthly|session --json``: the same keys (``date`` / ``week``
/ ``month`` / ``sessionId``, ``inputTokens``, ``outputTokens``, ``cacheCreationTokens``,
``cacheReadTokens``, ``totalTokens``, ``totalCost``, ``modelsUsed``, ``modelBreakdowns`` with
``modelName`` and ``cost``, and a ``totals`` object), with keys sorted as ccusage prints them.

Differences from ccusage, on purpose:

* a cost tracelab cannot know is ``null``, never ``0``: a model missing from the price table
  (``tracelab query run pricing_coverage``) has ``"cost": null`` in the model breakdown;
* totals are the *priced part*: ``totalCost`` sums the calls that have a price, and
  ``unpricedCalls`` / ``unpricedTokens`` say how much it leaves out (calls with tokens but no
  price), so one unpriced model never turns a whole total into ``null``. ``totalCost`` is
  ``null`` only when nothing in the bucket could be priced;
* one shape for every agent (ccusage's Codex report uses a ``models`` object instead of
  ``modelBreakdowns``); ``agent`` filters to one agent, the default reports all of them;
* subagent sessions are rolled up into the session that spawned them in the session report.

Responses without a model (Claude's ``<synthetic>`` stand-ins) count in the day totals but in
no breakdown, as in ccusage. Responses without a timestamp fall in no bucket and are left out,
as in ccusage; ``untimed`` (``{"llmCalls": n, "totalTokens": t}``, next to ``totals``) says how
many there are under the same agent, model, project and subagent filters.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from tracelab import library as q
from tracelab.store import load_sql

__all__ = ["PERIOD_KEY", "REPORTS", "usage_report"]

#: report name -> (query period, key naming the bucket, top-level list key)
REPORTS = {
    "daily": ("daily", "date", "daily"),
    "weekly": ("weekly", "week", "weekly"),
    "monthly": ("monthly", "month", "monthly"),
    "session": ("session", "sessionId", "sessions"),
}
PERIOD_KEY = {k: v[1] for k, v in REPORTS.items()}

_TOKEN_KEYS = (
    ("input_tokens", "inputTokens"),
    ("output_tokens", "outputTokens"),
    ("cache_write_tokens", "cacheCreationTokens"),
    ("cache_read_tokens", "cacheReadTokens"),
)


def _iso(ts: _dt.datetime) -> str:
    return ts.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _cost(x: float | None) -> float | None:
    # sums of float prices carry binary dust (0.34 + 0.12 = 0.45999999999999996)
    return None if x is None else round(x, 9)


def _priced_cost(rows: list[dict[str, Any]]) -> float | None:
    """Cost of the priced calls of ``rows``; ``None`` when some calls are unpriced and none is
    priced (nothing is known), 0 when there is nothing to price."""
    costs = [r["cost_usd"] for r in rows if r["cost_usd"] is not None]
    if not costs:
        return None if any(r["unpriced_calls"] for r in rows) else 0.0
    return _cost(sum(costs))


def _unpriced(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {"unpricedCalls": int(sum(r["unpriced_calls"] for r in rows)), "unpricedTokens": int(sum(r["unpriced_tokens"] for r in rows))}


def _tokens(rows: list[dict[str, Any]]) -> dict[str, int]:
    out = {ck: int(sum(r[k] for r in rows)) for k, ck in _TOKEN_KEYS}
    out["totalTokens"] = sum(out.values())
    return out


def _row_cost(r: dict[str, Any]) -> float | None:
    """Cost of one bucket x model row: unknown if any call with tokens had no cost."""
    if r["unpriced_calls"] > 0:
        return None
    return r["cost_usd"] if r["cost_usd"] is not None else 0.0 if r["total_tokens"] == 0 else None


def usage_report(report: str = "daily", *, warehouse: Any = None, con: Any = None, **filters: Any) -> dict[str, Any]:
    """The ccusage-shaped JSON object of ``report`` (daily, weekly, monthly or session).

    ``filters``: since, until, agent, model, project, include_subagents, timezone,
    start_of_week, cost_mode (auto | calculate | display), as in the ``usage_report`` query.
    """
    if report not in REPORTS:
        raise ValueError(f"report must be one of {', '.join(REPORTS)}; got {report!r}")
    period, key, list_key = REPORTS[report]
    if con is None:
        from tracelab.store import Store

        with Store(warehouse) as store:
            return usage_report(report, con=store.con, **filters)
    df = q.run("usage_report", con, period=period, **filters)
    untimed_filters = {k: filters[k] for k in ("agent", "model", "project", "include_subagents") if k in filters}
    untimed = q.run(load_sql("usage_untimed"), con, **untimed_filters).row(0, named=True)
    buckets: dict[str, list[dict[str, Any]]] = {}
    for r in df.iter_rows(named=True):
        buckets.setdefault(r["bucket"], []).append(r)
    entries = []
    for bucket, rows in buckets.items():
        models = sorted((r for r in rows if r["model"] is not None), key=lambda r: (r["first_activity"], r["model"]))
        breakdowns = [dict(sorted({"modelName": r["model"], **{ck: int(r[k]) for k, ck in _TOKEN_KEYS}, "cost": _cost(_row_cost(r))}.items())) for r in models]
        breakdowns.sort(key=lambda b: (b["cost"] is None, -(b["cost"] or 0.0), b["modelName"]))
        entry: dict[str, Any] = {
            key: bucket,
            **_tokens(rows),
            "totalCost": _priced_cost(rows),
            **_unpriced(rows),
            "modelsUsed": [r["model"] for r in models],
            "modelBreakdowns": breakdowns,
        }
        if report == "session":
            entry["projectPath"] = rows[0]["project"]
            entry["firstActivity"] = _iso(min(r["first_activity"] for r in rows))
            entry["lastActivity"] = _iso(max(r["last_activity"] for r in rows))
        entries.append(dict(sorted(entry.items())))
    if report == "session":
        entries.sort(key=lambda e: (e["lastActivity"], e["sessionId"]), reverse=True)
    else:
        entries.sort(key=lambda e: e[key])
    all_rows = [r for rows in buckets.values() for r in rows]
    totals = (
        {**_tokens(all_rows), "totalCost": _priced_cost(all_rows), **_unpriced(all_rows)}
        if all_rows
        else {
            "cacheCreationTokens": 0,
            "cacheReadTokens": 0,
            "inputTokens": 0,
            "outputTokens": 0,
            "totalCost": 0.0,
            "totalTokens": 0,
            "unpricedCalls": 0,
            "unpricedTokens": 0,
        }
    )
    return {
        list_key: entries,
        "totals": dict(sorted(totals.items())),
        "untimed": {"llmCalls": int(untimed["llm_calls"]), "totalTokens": int(untimed["total_tokens"])},
    }
