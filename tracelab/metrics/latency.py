"""Latency metrics on Polars frames (twins of ``latency_percentiles``, ``latency_histogram``,
``latency_ecdf`` and the ``tl_turns`` macro).

The four latencies and how each is derived are documented in ``docs/metrics.md``:

* model response latency: ``llm_calls.latency_ms``
* tool latency: ``tool_calls.latency_ms``
* turn duration and human wait: :func:`turns` (prompts from ``events``, activity from
  ``llm_calls``, ``tool_calls`` and a few event kinds)

Percentiles are exact and linearly interpolated between closest ranks (Polars
``interpolation='linear'``, DuckDB ``quantile_cont``, NumPy's default).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from tracelab.metrics._frames import frame

__all__ = ["ecdf", "histogram", "percentiles", "turns"]

QUANTILES = (0.5, 0.9, 0.95, 0.99)


def percentiles(
    samples: pl.DataFrame | pl.LazyFrame,
    value: str = "latency_ms",
    by: Sequence[str] = ("agent", "model"),
    quantiles: Sequence[float] = QUANTILES,
) -> pl.DataFrame:
    """n, mean, p50/p90/p95/p99 (or ``quantiles``) and max of ``value`` per ``by``; nulls dropped."""
    v = pl.col(value)
    aggs = [pl.len().cast(pl.Int64).alias("n"), v.mean().alias("mean_ms")]
    aggs += [v.quantile(q, interpolation="linear").alias(f"p{round(q * 100):d}_ms") for q in quantiles]
    aggs.append(v.max().cast(pl.Float64).alias("max_ms"))
    lf = frame(samples).filter(v.is_not_null())
    return lf.group_by(list(by)).agg(aggs).sort(["n", *by], descending=[True] + [False] * len(by), nulls_last=True).collect()


def histogram(
    samples: pl.DataFrame | pl.LazyFrame,
    value: str = "latency_ms",
    by: Sequence[str] = ("agent", "model"),
    bins: int = 30,
    log_scale: bool = True,
) -> pl.DataFrame:
    """Counts in ``bins`` bins shared by all groups (log10(ms) bins by default; values under
    1 ms fall in the first). Columns: ``by``, bin, bin_lo_ms, bin_hi_ms, n, share. Empty bins
    are not returned."""
    if bins < 1:
        raise ValueError("bins must be >= 1")
    v = pl.col(value).cast(pl.Float64)
    x = v.clip(lower_bound=1.0).log10() if log_scale else v
    df = frame(samples).filter(pl.col(value).is_not_null()).with_columns(x.alias("_x")).collect()
    if df.height == 0:
        return pl.DataFrame(
            schema={**{b: df.schema[b] for b in by}, "bin": pl.Int32, "bin_lo_ms": pl.Float64, "bin_hi_ms": pl.Float64, "n": pl.Int64, "share": pl.Float64}
        )
    lo, hi = (float(x) for x in df.select(pl.col("_x").min().alias("lo"), pl.col("_x").max().alias("hi")).row(0))
    width = hi - lo
    if width == 0:
        binexpr = pl.lit(0, dtype=pl.Int32)
    else:
        binexpr = (((pl.col("_x") - lo) / width * bins).floor().cast(pl.Int32)).clip(upper_bound=bins - 1)
    out = df.with_columns(binexpr.alias("bin")).group_by([*by, "bin"]).agg(pl.len().cast(pl.Int64).alias("n"))
    edge_lo = lo + width * pl.col("bin") / bins
    edge_hi = lo + width * (pl.col("bin") + 1) / bins
    out = out.with_columns(
        (10**edge_lo if log_scale else edge_lo).alias("bin_lo_ms"),
        (10**edge_hi if log_scale else edge_hi).alias("bin_hi_ms"),
        (pl.col("n") / pl.col("n").sum().over(list(by))).alias("share"),
    )
    return out.select([*by, "bin", "bin_lo_ms", "bin_hi_ms", "n", "share"]).sort([*by, "bin"], nulls_last=True)


def ecdf(
    samples: pl.DataFrame | pl.LazyFrame,
    value: str = "latency_ms",
    by: Sequence[str] = ("agent", "model"),
    points: int = 100,
) -> pl.DataFrame:
    """ECDF points per group: the distinct values whose step crosses a multiple of 1/points
    (always including the maximum). Columns: ``by``, value_ms, ecdf, n."""
    keys = list(by)
    d = (
        frame(samples)
        .filter(pl.col(value).is_not_null())
        .group_by([*keys, value])
        .agg(pl.len().cast(pl.Int64).alias("_c"))
        .sort([*keys, value], nulls_last=True)
        .with_columns(
            pl.col("_c").cum_sum().over(keys).alias("_cum"),
            pl.col("_c").sum().over(keys).alias("n"),
        )
    )
    keep = (pl.col("_cum") == pl.col("n")) | (
        (pl.col("_cum") * points / pl.col("n")).floor() > ((pl.col("_cum") - pl.col("_c")) * points / pl.col("n")).floor()
    )
    return d.filter(keep).select(*keys, pl.col(value).cast(pl.Float64).alias("value_ms"), (pl.col("_cum") / pl.col("n")).alias("ecdf"), "n").collect()


def turns(
    events: pl.DataFrame | pl.LazyFrame,
    llm_calls: pl.DataFrame | pl.LazyFrame,
    tool_calls: pl.DataFrame | pl.LazyFrame,
) -> pl.DataFrame:
    """One row per turn: a human prompt (``events.kind == 'user_prompt'``) up to the next prompt
    of the same session; the same definition as the SQL macro ``tl_turns``.

    Agent activity in a turn: model responses (``llm_calls.ts``), tool calls (result time, or
    start when there is none) and API errors / interrupts (``events``) with a time in
    [prompt, next prompt). Columns: session_key, turn_no (1-based), agent, model (of the last
    response), started_at, ended_at, duration_ms, human_wait_ms (prompt minus the previous
    turn's last activity), n_tool_calls, interrupted. Durations are null when the turn has no
    activity or the clock ran backwards.
    """
    ev = frame(events)
    prompts = (
        ev.filter((pl.col("kind") == "user_prompt") & pl.col("ts").is_not_null())
        .sort("session_key", "ts", "seq")
        .select(
            "session_key",
            "agent",
            pl.col("ts").alias("started_at"),
            (pl.int_range(pl.len()).over("session_key") + 1).cast(pl.Int64).alias("turn_no"),
            pl.col("ts").shift(-1).over("session_key").alias("next_at"),
        )
    )
    ts_type = ev.collect_schema()["ts"]
    acts = pl.concat(
        [
            frame(llm_calls)
            .filter(pl.col("ts").is_not_null())
            .select("session_key", pl.col("ts").cast(ts_type), "model", pl.lit(0, dtype=pl.Int64).alias("n_tool"), pl.lit(False).alias("intr")),
            frame(tool_calls)
            .filter(pl.col("started_at").is_not_null())
            .select(
                "session_key",
                pl.coalesce("ended_at", "started_at").cast(ts_type).alias("ts"),
                pl.lit(None, dtype=pl.String).alias("model"),
                pl.lit(1, dtype=pl.Int64).alias("n_tool"),
                (pl.col("status") == "interrupted").alias("intr"),
            ),
            ev.filter(pl.col("kind").is_in(["api_error", "interrupt"]) & pl.col("ts").is_not_null()).select(
                "session_key",
                "ts",
                pl.lit(None, dtype=pl.String).alias("model"),
                pl.lit(0, dtype=pl.Int64).alias("n_tool"),
                (pl.col("kind") == "interrupt").alias("intr"),
            ),
        ]
    )
    inside = (pl.col("ts") >= pl.col("started_at")) & (pl.col("next_at").is_null() | (pl.col("ts") < pl.col("next_at")))
    matched = prompts.join(acts, on="session_key", how="inner").filter(inside)
    per_turn = matched.group_by("session_key", "turn_no").agg(
        pl.col("ts").max().alias("ended_at"),
        pl.col("model").filter(pl.col("model").is_not_null()).sort_by(pl.col("ts").filter(pl.col("model").is_not_null())).last().alias("model"),
        pl.col("n_tool").sum().alias("n_tool_calls"),
        pl.col("intr").any().alias("interrupted"),
    )
    t = (
        prompts.join(per_turn, on=["session_key", "turn_no"], how="left")
        .with_columns(pl.col("n_tool_calls").fill_null(0), pl.col("interrupted").fill_null(False))
        .sort("session_key", "turn_no")
        .with_columns(pl.col("ended_at").shift(1).over("session_key").alias("_prev_end"))
    )
    ms = pl.Duration("ms")
    dur = (pl.col("ended_at") - pl.col("started_at")).cast(ms).dt.total_milliseconds().cast(pl.Float64)
    wait = (pl.col("started_at") - pl.col("_prev_end")).cast(ms).dt.total_milliseconds().cast(pl.Float64)
    return (
        t.with_columns(
            pl.when(pl.col("ended_at") >= pl.col("started_at")).then(dur).alias("duration_ms"),
            pl.when(pl.col("started_at") >= pl.col("_prev_end")).then(wait).alias("human_wait_ms"),
        )
        .select("session_key", "turn_no", "agent", "model", "started_at", "ended_at", "duration_ms", "human_wait_ms", "n_tool_calls", "interrupted")
        .collect()
    )
