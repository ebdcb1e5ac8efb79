"""Replay the history as if a suggested change had been in place, and check it out of time.

Effects, per suggestion, over the calls its matcher selects:

* ``approval_wait`` (allow rules): every successful matching call would have run without a
  prompt. The wait saved per call is its latency minus the fastest matching call's latency
  (that fastest call is taken as "no human in the loop"); calls = prompts saved, tokens 0.
* ``blocked`` (deny rules, hooks): the matching calls would have been refused before they ran.
  Minutes = their latency (the user's time to reject, or the run time of a command that always
  fails); tokens = the output tokens spent issuing them plus their result text (bytes / 4).
* ``asked`` (ask rules): the rejected calls would have been asked for explicitly; calls only.
* ``prevented_failure`` (instruction rules, boundaries): the matching failures would not have
  happened. Minutes = time from the failing call to the next call of its session; tokens as for
  ``blocked``.
* ``loop_tail`` (loops): every identical call after the second in a run would have been skipped.

Totals are divided by the window length in weeks (:func:`.calls.n_weeks`).

Out of time: the suggestions are mined again from all weeks but the last ``holdout_weeks``
(ISO weeks) and each is scored on those last weeks. ``holds`` when its pattern recurs there and
is not contradicted (an allow rule whose command was rejected, a deny rule whose command ran,
a hook whose command succeeded); ``does not hold`` otherwise (the project was active in the
held-out weeks and the pattern did not come back, or was contradicted); ``untested`` when the
project had no calls in the held-out weeks; ``new`` when the suggestion is only learnt with the
last weeks included; ``n/a`` when the window has no earlier weeks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl

from .calls import Partitions
from .model import Suggestion

TOKENS_PER_BYTE = 0.25


def affected(s: Suggestion, df: pl.DataFrame) -> pl.DataFrame:
    hit = df.filter(s.matcher(df))
    if s.effect == "approval_wait":
        return hit.filter(pl.col("status") == "ok")
    if s.effect == "asked":
        return hit.filter(pl.col("status") == "user_rejected")
    if s.effect == "loop_tail":
        return hit.filter(pl.col("run_pos") >= 2)
    if s.effect == "prevented_failure":
        return hit.filter(pl.col("status") == "error")
    return hit.filter(pl.col("status").is_in(["user_rejected", "error"]))


def effect(s: Suggestion, df: pl.DataFrame) -> dict[str, float]:
    rows = affected(s, df)
    if rows.is_empty():
        return {"calls": 0, "minutes": 0.0, "tokens": 0.0}
    lat = rows["latency_ms"].fill_null(0.0)
    tokens = (rows["call_output_tokens"].fill_null(0.0) + rows["output_bytes"].fill_null(0).cast(pl.Float64) * TOKENS_PER_BYTE).sum()
    if s.effect == "approval_wait":
        ms = float((lat - lat.min()).clip(lower_bound=0).sum())
        tokens = 0.0
    elif s.effect == "asked":
        ms, tokens = 0.0, 0.0
    elif s.effect in ("prevented_failure", "loop_tail"):
        ms = float(rows["gap_ms"].fill_null(rows["latency_ms"]).fill_null(0.0).sum())
    else:
        ms = float(lat.sum())
    return {"calls": rows.height, "minutes": round(ms / 60_000, 2), "tokens": round(float(tokens), 1)}


def _holds(s: Suggestion, test: pl.DataFrame) -> tuple[bool, int]:
    hit = test.filter(s.matcher(test))
    status = hit["status"]
    if s.effect == "approval_wait":
        n = int((status == "ok").sum())
        return n > 0 and not (status == "user_rejected").any(), n
    if s.kind == "permission" and s.decision == "deny":
        n = int((status == "user_rejected").sum())
        return n > 0 and not status.is_in(["ok", "error"]).any(), n
    if s.kind == "hook":
        n = int((status == "error").sum())
        return n > 0 and not (status == "ok").any(), n
    n = affected(s, test).height
    return n > 0, n


def cutoff(df: pl.DataFrame, holdout_weeks: int) -> dt.datetime | None:
    """Start (Monday 00:00 UTC) of the first held-out week, or None when nothing is left to learn from."""
    weeks = df["week"].drop_nulls()
    if weeks.is_empty() or holdout_weeks < 1:
        return None
    last = weeks.max()
    first = weeks.min()
    start = last - dt.timedelta(weeks=holdout_weeks - 1)  # type: ignore[operator]
    if start <= first:  # type: ignore[operator]
        return None
    return dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)  # type: ignore[arg-type]


def out_of_time(
    final: list[Suggestion], df: pl.DataFrame, mine: Callable[[pl.DataFrame], list[Suggestion]], holdout_weeks: int
) -> dict[str, dict[str, object]]:
    cut = cutoff(df, holdout_weeks)
    if cut is None:
        return {s.id: {"oot": "n/a", "oot_test_events": None} for s in final}
    train = df.filter(pl.col("started_at") < cut)
    test = Partitions(df.filter(pl.col("started_at") >= cut))
    learnt = {s.id: s for s in mine(train)}
    active = set(test.parts)
    out: dict[str, dict[str, object]] = {}
    for s in final:
        t = learnt.get(s.id)
        if t is None:
            out[s.id] = {"oot": "new", "oot_test_events": None}
            continue
        if (s.agent, s.project) not in active:
            out[s.id] = {"oot": "untested", "oot_test_events": None}
            continue
        ok, n = _holds(t, test.of(s.agent, s.project))
        out[s.id] = {"oot": "holds" if ok else "does not hold", "oot_test_events": n}
    return out
