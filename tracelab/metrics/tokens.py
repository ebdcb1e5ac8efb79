"""Token and cost metrics on an ``llm_calls`` frame (twins of ``token_usage`` and the cost
columns of ``tl_llm_calls``).

Cost is priced from the packaged table (:mod:`tracelab.pricing`) with an as-of join on the
call time; a call that cannot be priced keeps a null cost (unknown, never zero).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from tracelab.metrics._frames import frame, group_cols, period_start
from tracelab.pricing import price_table

__all__ = ["token_totals", "with_cost"]

TOKEN_COLS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "total_tokens")


def with_cost(llm_calls: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """``llm_calls`` plus price_model, price_effective_from and cost_usd (USD, null = unknown)."""
    prices = pl.DataFrame(price_table()).lazy().sort("effective_from")
    lf = (
        frame(llm_calls)
        .with_row_index("_row")
        .with_columns(pl.col("model").str.strip_chars().str.to_lowercase().str.replace(r"^.*/", "").alias("_key"))
        .with_columns(pl.when(pl.col("_key") != "").then(pl.col("_key")).alias("_key"))
    )
    ts_dtype = lf.collect_schema()["ts"]
    prices = prices.with_columns(pl.col("effective_from").cast(ts_dtype))
    with_ts = lf.filter(pl.col("ts").is_not_null()).sort("ts")
    joined = with_ts.join_asof(
        prices.select("match_key", "price_model", "effective_from", "input_per_mtok", "output_per_mtok", "cache_read_per_mtok", "cache_write_per_mtok"),
        left_on="ts",
        right_on="effective_from",
        by_left="_key",
        by_right="match_key",
        strategy="backward",
        check_sortedness=False,  # both sides are sorted on the time column globally, hence per group
    )
    no_ts = lf.filter(pl.col("ts").is_null())
    joined = pl.concat([joined, no_ts], how="diagonal_relaxed").sort("_row")
    parts = [
        ("input_tokens", "input_per_mtok"),
        ("output_tokens", "output_per_mtok"),
        ("cache_read_tokens", "cache_read_per_mtok"),
        ("cache_write_tokens", "cache_write_per_mtok"),
    ]
    missing = pl.lit(False)
    total = pl.lit(0.0)
    for tok, price in parts:
        used = pl.col(tok).fill_null(0) > 0
        missing = missing | (used & pl.col(price).is_null())
        total = total + pl.col(tok).fill_null(0).cast(pl.Float64) * pl.col(price).fill_null(0.0)
    cost = pl.when(pl.col("price_model").is_null() | missing).then(None).otherwise(total / 1e6)
    return joined.with_columns(cost.alias("cost_usd"), pl.col("effective_from").alias("price_effective_from")).drop(
        "_row", "_key", "effective_from", "input_per_mtok", "output_per_mtok", "cache_read_per_mtok", "cache_write_per_mtok"
    )


def token_totals(
    llm_calls: pl.DataFrame | pl.LazyFrame,
    by: Sequence[str] = ("agent", "model"),
    period: str | None = None,
    include_synthetic: bool = False,
) -> pl.DataFrame:
    """Token sums, cache hit ratio, cost and unpriced calls per ``by`` (and period of ``ts``).

    Synthetic stand-in responses are dropped unless ``include_synthetic``. Cost columns appear
    when the frame has ``cost_usd`` (see :func:`with_cost`).
    """
    lf = frame(llm_calls)
    if not include_synthetic:
        lf = lf.filter(~pl.col("is_synthetic").fill_null(False))
    if period is not None:
        lf = lf.with_columns(period_start("ts", period))
    keys = group_cols(by, period)
    has_cost = "cost_usd" in lf.collect_schema().names()
    aggs = [pl.len().cast(pl.Int64).alias("llm_calls"), pl.col("session_key").n_unique().cast(pl.Int64).alias("sessions")]
    aggs += [pl.col(c).sum().cast(pl.Int64).alias(c) for c in TOKEN_COLS]
    if has_cost:
        aggs += [
            pl.when(pl.col("cost_usd").count() > 0).then(pl.col("cost_usd").sum()).alias("cost_usd"),
            pl.col("cost_usd").is_null().sum().cast(pl.Int64).alias("unpriced_calls"),
        ]
    out = lf.group_by(keys).agg(aggs)
    prompt = pl.col("input_tokens") + pl.col("cache_read_tokens") + pl.col("cache_write_tokens")
    out = out.with_columns(pl.when(prompt > 0).then(pl.col("cache_read_tokens") / prompt).alias("cache_hit_ratio"))
    return out.sort(keys, nulls_last=True).collect()
