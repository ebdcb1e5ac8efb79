"""Hooks, tool boundaries and loop rules.

* **hook**: a shell command (by head, see :mod:`.shell`) or MCP tool that failed every time
  it ran (at least ``Thresholds.failures`` calls in ``Thresholds.sessions`` sessions, never ok, never rejected): a
  pre-tool hook that blocks it with the error it always ends in saves the round trip.
* **boundary**: one failure cluster of one tool that is about a limit (timeouts, output or
  file size, binary files) with enough failures (``Thresholds``): raise the
  timeout, cap the output, or filter the paths, depending on the limit.
* **loop**: the same call (same tool and input) repeated three or more times in a row
  (``tool_calls.repeat_run_no``), ``Thresholds.loops`` times in ``Thresholds.sessions`` sessions: a rule that stops after the second
  identical attempt, with the loop's signature. Calls whose input was not recorded
  (``input_known`` false, e.g. OTel spans without arguments) all hash alike and are no
  evidence of a loop; a loop without a readable signature is not actionable and is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl

from .model import DEFAULT_THRESHOLDS, Suggestion, Thresholds
from .shell import allow_safe, common_prefix

MIN_RUN = 3
_LIMITS = (
    ("timeout", re.compile(r"time[d ]?\s*out|timeout|deadline exceeded", re.I)),
    ("size", re.compile(r"exceeds maximum|too large|output (?:was )?truncated|maximum allowed size|token limit|too long", re.I)),
    ("binary", re.compile(r"binary file|cannot read binary|not valid utf-?8|image", re.I)),
)


def _always_failing(df: pl.DataFrame, th: Thresholds) -> list[Suggestion]:
    out = []
    keys = ["agent", "project", "tool_name", "head"]
    shell = df.filter((pl.col("tool_family") == "shell") & pl.col("head").is_not_null() & pl.col("status").is_in(["ok", "error", "user_rejected"]))
    cand = (
        shell.group_by(keys)
        .agg(pl.len().alias("n"), (pl.col("status") == "error").sum().alias("n_err"), pl.col("session_key").n_unique().alias("s"))
        .filter((pl.col("n") == pl.col("n_err")) & (pl.col("n") >= th.failures) & (pl.col("s") >= th.sessions))
        .select(keys)
    )
    shell = shell.join(cand, on=keys, how="semi")
    for (agent, project, tool, _head), g in shell.group_by(keys, maintain_order=True):
        if g.height < th.failures or (g["status"] != "error").any() or g["session_key"].n_unique() < th.sessions:
            continue
        prefix = common_prefix(g["tokens"].to_list())
        if not allow_safe(prefix) or (prefix[-1].startswith("-") and g["simple"].n_unique() > 1):
            continue  # blocking a bare runner (`python`, `python -m`) would be wider than the evidence
        text = " ".join(prefix)
        message = (g["error_line"].drop_nulls().mode().sort().to_list() or ["fails"])[0]
        lit = list(prefix)
        a, p, t = str(agent), str(project), str(tool)

        def match(d: pl.DataFrame, a: str = a, p: str = p, t: str = t, lit: list[str] = lit) -> pl.Expr:
            return (
                (pl.col("agent") == a)
                & (pl.col("project") == p)
                & (pl.col("tool_name") == t)
                & (pl.col("tokens").list.len() >= len(lit))
                & (pl.col("tokens").list.head(len(lit)) == pl.lit(lit, dtype=pl.List(pl.String)))
            )

        out.append(
            Suggestion(
                kind="hook",
                decision="hook",
                agent=a,
                project=p,
                tool=t,
                pattern=text,
                title=f"block `{text}` before it runs: failed {g.height}/{g.height}×",
                rule=f"`{text}` always fails here ({message[:120]}); block it before it runs and say so.",
                matcher=match,
                effect="blocked",
                evidence=g,
                consistency=1.0,
                details={"prefix": lit, "message": message, "clusters": sorted(g["cluster_id"].drop_nulls().unique().to_list())},
            )
        )
    return out


def _boundaries(df: pl.DataFrame, th: Thresholds) -> list[Suggestion]:
    out = []
    keys = ["agent", "project", "tool_name", "cluster_id"]
    errs = df.filter((pl.col("status") == "error") & pl.col("cluster_id").is_not_null())
    limit_rx = "|".join(rx.pattern for _name, rx in _LIMITS)
    cand = (
        errs.group_by(keys)
        .agg(pl.len().alias("n"), pl.col("session_key").n_unique().alias("s"), pl.col("template").first().alias("t"), pl.col("error_line").first().alias("e"))
        .filter((pl.col("n") >= th.failures) & (pl.col("s") >= th.sessions))
        .filter(pl.coalesce("t", "e").fill_null("").str.contains("(?i)" + limit_rx))
        .select(keys)
    )
    errs = errs.join(cand, on=keys, how="semi")
    for (agent, project, tool, cluster), g in errs.group_by(["agent", "project", "tool_name", "cluster_id"], maintain_order=True):
        if g.height < th.failures or g["session_key"].n_unique() < th.sessions:
            continue
        template = str(g["template"][0] or g["error_line"][0] or "")
        limit = next((name for name, rx in _LIMITS if rx.search(template)), None)
        if limit is None:
            continue
        calls = df.filter((pl.col("agent") == agent) & (pl.col("project") == project) & (pl.col("tool_name") == tool)).height
        if limit == "timeout":
            rule = f"`{tool}` calls time out ({g.height} of {calls}): run long commands in the background or raise the timeout (Claude Code: env BASH_DEFAULT_TIMEOUT_MS)."
        elif limit == "size":
            rule = f"`{tool}` output or input is too large ({g.height} of {calls}): read large files in parts (offset/limit) or search them instead."
        else:
            rule = f"`{tool}` hits binary files ({g.height} of {calls}): exclude binary paths from what the agent reads."
        a, p, t, c = str(agent), str(project), str(tool), str(cluster)

        def match(d: pl.DataFrame, a: str = a, p: str = p, t: str = t, c: str = c) -> pl.Expr:
            return (pl.col("agent") == a) & (pl.col("project") == p) & (pl.col("tool_name") == t) & (pl.col("cluster_id") == c)

        out.append(
            Suggestion(
                kind="boundary",
                decision=limit,
                agent=a,
                project=p,
                tool=t,
                pattern=c,
                title=f"{limit} boundary for {t}: {g.height} failures ({template[:60]})",
                rule=rule,
                matcher=match,
                effect="prevented_failure",
                evidence=g,
                consistency=g.height / max(calls, 1),
                details={"limit": limit, "clusters": [c], "template": template},
            )
        )
    return out


def _loops(df: pl.DataFrame, th: Thresholds) -> list[Suggestion]:
    runs = (
        df.filter(pl.col("repeat_run_no").is_not_null() & pl.col("input_known"))
        .group_by(["session_key", "is_sidechain", "repeat_run_no"])
        .agg(
            pl.len().alias("run_length"),
            pl.col("agent").first(),
            pl.col("project").first(),
            pl.col("tool_name").first(),
            pl.col("input_hash").first(),
            pl.col("simple").first(),
            pl.col("input_preview").first(),
        )
        .filter(pl.col("run_length") >= MIN_RUN)
    )
    out = []
    for (agent, project, tool, ihash), g in runs.group_by(["agent", "project", "tool_name", "input_hash"], maintain_order=True):
        if g.height < th.loops or g["session_key"].n_unique() < th.sessions:
            continue
        first_simple, first_input = g["simple"][0], g["input_preview"][0]
        sig = first_simple if isinstance(first_simple, str) else (first_input if isinstance(first_input, str) else "")[:120]
        if not sig.strip():
            continue  # no readable signature: "do not repeat ``" tells the agent nothing
        a, p, t, h = str(agent), str(project), str(tool), ihash

        def match(d: pl.DataFrame, a: str = a, p: str = p, t: str = t, h: int = h) -> pl.Expr:
            return (
                (pl.col("agent") == a)
                & (pl.col("project") == p)
                & (pl.col("tool_name") == t)
                & (pl.col("input_hash") == h)
                & pl.col("input_known")
                & pl.col("repeat_run_no").is_not_null()
            )

        evidence = df.filter(match(df))
        max_run = int(g["run_length"].cast(pl.Int64).max() or 0)  # type: ignore[arg-type]
        out.append(
            Suggestion(
                kind="loop",
                decision="rule",
                agent=a,
                project=p,
                tool=t,
                pattern=sig,
                title=f"stop repeating `{sig[:60]}`: {g.height} loops, up to {max_run} identical calls",
                rule=f"Do not repeat `{sig[:120]}` unchanged: after two identical attempts, read the output and change the command or the code first.",
                matcher=match,
                effect="loop_tail",
                evidence=evidence,
                consistency=1.0,
                details={"input_hash": h, "loops": g.height, "max_run": max_run, "signature": sig},
            )
        )
    return out


def mine(df: pl.DataFrame, th: Thresholds = DEFAULT_THRESHOLDS) -> list[Suggestion]:
    return [*_always_failing(df, th), *_boundaries(df, th), *_loops(df, th)]


Matcher = Callable[[pl.DataFrame], pl.Expr]
