"""Session metrics on Polars frames: runs of identical tool calls and loops (twins of the
``tl_tool_runs`` macro and the ``tool_loops`` query)."""

from __future__ import annotations

import polars as pl

from tracelab.metrics._frames import frame
from tracelab.metrics.tool_errors import CALL_ORDER

__all__ = ["loops", "tool_runs"]


def tool_runs(tool_calls: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Runs of consecutive calls in a session (ordered by start time, call line, call id) with
    the same tool and byte-identical input. Columns: session_key, run_id, agent, model (first
    call), tool_name, input_json, repeats, errors, any_interrupted, first_at, last_at."""
    lf = frame(tool_calls).sort(["session_key", *CALL_ORDER], nulls_last=False)
    same = (pl.col("tool_name") == pl.col("tool_name").shift(1).over("session_key")) & pl.col("input_json").eq_missing(
        pl.col("input_json").shift(1).over("session_key")
    )
    lf = lf.with_columns(pl.when(same).then(0).otherwise(1).alias("_brk")).with_columns(pl.col("_brk").cum_sum().over("session_key").alias("run_id"))
    return (
        lf.group_by("session_key", "run_id")
        .agg(
            pl.col("agent").first(),
            pl.col("model").first(),
            pl.col("tool_name").first(),
            pl.col("input_json").first(),
            pl.len().cast(pl.Int64).alias("repeats"),
            (pl.col("status") == "error").sum().cast(pl.Int64).alias("errors"),
            (pl.col("status") == "interrupted").any().alias("any_interrupted"),
            pl.col("started_at").min().alias("first_at"),
            pl.col("started_at").max().alias("last_at"),
        )
        .sort("session_key", "run_id")
        .collect()
    )


def loops(tool_calls: pl.DataFrame | pl.LazyFrame, min_repeats: int = 3) -> pl.DataFrame:
    """Runs of at least ``min_repeats`` identical consecutive tool calls (one row per run)."""
    return tool_runs(tool_calls).filter(pl.col("repeats") >= min_repeats)
