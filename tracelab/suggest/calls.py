"""The tool calls the miner works on: read once through ``tracelab.connect`` and prepared.

:func:`load` runs ``sql/suggest_calls.sql`` and adds, per call, the tool family, the simple
shell command (see :mod:`.shell`) with its tokens and head, and the ISO week. Everything the
miners and the backtest need is in that one frame.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import polars as pl

from tracelab.failures.normalize import tool_family
from tracelab.store import Store, sql_text

from .shell import simplify

WEEK = dt.timedelta(days=7)


def load(warehouse: str | os.PathLike | Store, *, project: str | None = None, agent: str | None = None, since=None, until=None) -> pl.DataFrame:
    """The prepared calls frame of ``warehouse`` (see :func:`prepare`)."""
    return read(warehouse, project=project, agent=agent, since=since, until=until)[0]


def read(
    warehouse: str | os.PathLike | Store, *, project: str | None = None, agent: str | None = None, since=None, until=None
) -> tuple[pl.DataFrame, set[str]]:
    """(prepared calls frame, ids of suggestions labelled ``rejected``), on one connection."""
    store = warehouse if isinstance(warehouse, Store) else Store(warehouse)
    try:
        params = {"since": since, "until": until, "project": project, "agent": agent}
        table = store.con.sql(sql_text("suggest_calls"), params=params).to_arrow_table()
        rejected = {r[0] for r in store.con.sql(sql_text("suggest_rejected")).fetchall()}
    finally:
        if store is not warehouse:
            store.close()
    return prepare(pl.from_arrow(table)), rejected  # type: ignore[arg-type]


def _argv_script(command: str | None) -> str | None:
    """A Codex ``shell`` argv (JSON text ``["bash", "-lc", "script"]``) → the script; else as is."""
    if command is None or not command.startswith("["):
        return command
    try:
        argv = json.loads(command)
    except ValueError:
        return command
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return command
    if len(argv) >= 3 and argv[1] in ("-lc", "-c"):
        return argv[2]
    return " ".join(argv)


def prepare(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``tool_family``, ``simple``, ``tokens``, ``head``, ``week``, ``run_pos``, ``gap_ms`` and
    ``call_output_tokens`` (the issuing response's output tokens shared among its calls) to a
    ``suggest_calls`` frame, sorted by session and call_no."""
    df = df.with_columns(
        (pl.col("response_output_tokens") / pl.len().over("llm_call_key")).alias("call_output_tokens"),
        pl.col("command").map_elements(_argv_script, return_dtype=pl.String, skip_nulls=True)
        if df["command"].str.starts_with("[").any()
        else pl.col("command"),
    )
    fams = {t: tool_family(t) for t in df["tool_name"].unique().to_list()}
    df = df.with_columns(pl.col("tool_name").replace_strict(fams, default="other", return_dtype=pl.String).alias("tool_family"))
    commands = df.filter(pl.col("tool_family") == "shell")["command"].drop_nulls().unique().to_list()
    parsed = {c: simplify(c) for c in commands}
    keys = list(parsed)
    lookup = pl.DataFrame(
        {
            "command": keys,
            "simple": [parsed[c].text for c in keys],
            "tokens": [list(parsed[c].tokens) for c in keys],
            "head": [" ".join(parsed[c].head) if parsed[c].head else None for c in keys],
        },
        schema={"command": pl.String, "simple": pl.String, "tokens": pl.List(pl.String), "head": pl.String},
    )
    df = df.join(lookup, on="command", how="left")
    df = df.with_columns(
        pl.when(pl.col("tool_family") == "shell").then(pl.col("simple")).alias("simple"),
        pl.col("started_at").dt.truncate("1w").dt.date().alias("week"),
        pl.col("project").fill_null("(no project)"),
        (pl.col("call_no") - pl.col("repeat_run_no")).alias("run_pos"),
    )
    df = df.sort(["session_key", "call_no"], nulls_last=True)
    # time from a call's start to the next call of its session: what a failure cost before
    # the agent moved on (its run time, the model's reaction, the retry's planning)
    nxt = pl.col("started_at").shift(-1).over("session_key")
    return df.with_columns(((nxt - pl.col("started_at")).dt.total_milliseconds().cast(pl.Float64)).alias("gap_ms"))


def n_weeks(df: pl.DataFrame) -> float:
    """Length of the observed window in weeks (at least one)."""
    ts = df["started_at"].drop_nulls()
    if ts.is_empty():
        return 1.0
    lo, hi = ts.min(), ts.max()
    assert isinstance(lo, dt.datetime) and isinstance(hi, dt.datetime)
    return max(1.0, (hi - lo) / WEEK)


class Partitions:
    """A calls frame split by (agent, project): every matcher names both, so a suggestion only
    ever has to look at its own partition."""

    def __init__(self, df: pl.DataFrame) -> None:
        self.empty = df.clear()
        self.parts: dict[tuple[str, str], pl.DataFrame] = {
            (str(k[0]), str(k[1])): v for k, v in df.partition_by(["agent", "project"], as_dict=True, maintain_order=True).items()
        }

    def of(self, agent: str, project: str) -> pl.DataFrame:
        return self.parts.get((agent, project), self.empty)
