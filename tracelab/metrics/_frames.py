"""Helpers shared by the Polars metric modules."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from tracelab.metrics.stats import Z95

#: Period name -> Polars truncation interval (weeks start Monday, like DuckDB date_trunc).
PERIODS = {"day": "1d", "week": "1w", "month": "1mo"}


def frame(df: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    return df.lazy() if isinstance(df, pl.DataFrame) else df


def period_start(col: str, period: str | None) -> pl.Expr:
    """First day (Date) of the ``period`` bucket holding ``col``; None/'all' -> a null Date."""
    if period in (None, "all"):
        return pl.lit(None, dtype=pl.Date).alias("period_start")
    if period not in PERIODS:
        raise ValueError(f"period must be one of day, week, month, all; got {period!r}")
    return pl.col(col).dt.truncate(PERIODS[period]).dt.date().alias("period_start")


def wilson(k: pl.Expr, n: pl.Expr, z: float = Z95) -> tuple[pl.Expr, pl.Expr]:
    """Wilson score bounds (lo, hi) as expressions; null where n == 0."""
    kf, nf = k.cast(pl.Float64), n.cast(pl.Float64)
    p = kf / nf
    centre = p + z * z / (2 * nf)
    half = z * (p * (1 - p) / nf + z * z / (4 * nf * nf)).clip(lower_bound=0).sqrt()
    denom = 1 + z * z / nf
    # k = 0 and k = n have exact bounds 0 and 1; the formula leaves rounding dust there
    lo = pl.when(nf > 0).then(pl.when(kf == 0).then(0.0).otherwise(((centre - half) / denom).clip(lower_bound=0.0)))
    hi = pl.when(nf > 0).then(pl.when(kf == nf).then(1.0).otherwise(((centre + half) / denom).clip(upper_bound=1.0)))
    return lo, hi


def group_cols(by: Sequence[str], period: str | None) -> list[str]:
    return (["period_start"] if period is not None else []) + list(by)
