"""Frame-agnostic input for chart functions.

Chart functions accept a Polars, pandas or pyarrow table (anything narwhals understands) and
normalise it here to a Polars frame holding only the columns the chart encodes, so a chart never
carries unrelated (possibly sensitive) columns into its embedded data, and a missing column is
reported by name instead of surfacing as an empty chart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import narwhals.stable.v2 as nw
import polars as pl

from tracelab.errors import InputError


class ChartInputError(InputError, ValueError):
    """The frame given to a chart function lacks a column it needs."""


def to_polars(df: Any) -> pl.DataFrame:
    if isinstance(df, pl.DataFrame):
        return df
    if isinstance(df, pl.LazyFrame):
        return df.collect()
    try:
        return nw.from_native(df, eager_only=True).to_polars()
    except TypeError as exc:
        raise ChartInputError(f"expected a Polars, pandas or pyarrow table, got {type(df).__name__}") from exc


def select(df: Any, required: Iterable[str | None], optional: Iterable[str | None] = (), *, chart: str) -> pl.DataFrame:
    """Columns ``required`` (must exist) and ``optional`` (kept if present) of ``df``, as Polars.

    ``None`` entries are skipped (an encoding the caller switched off). Date columns are turned
    into ISO ``YYYY-MM-DD`` strings so charts embed calendar days, not local-midnight instants.
    """
    frame = to_polars(df)
    req = [c for c in required if c is not None]
    missing = [c for c in req if c not in frame.columns]
    if missing:
        raise ChartInputError(f"{chart}: missing column(s) {', '.join(missing)} (have: {', '.join(frame.columns)})")
    cols = list(dict.fromkeys(req + [c for c in optional if c is not None and c in frame.columns]))
    out = frame.select(cols)
    dates = [c for c, t in out.schema.items() if t == pl.Date]
    if dates:
        out = out.with_columns([pl.col(c).dt.strftime("%Y-%m-%d") for c in dates])
    return out


def ordered(frame: pl.DataFrame, key: str, by: str | None = None, *, descending: bool = True) -> list:
    """Distinct values of ``key``, ordered by the sum of ``by`` (descending), else first appearance."""
    if by is None:
        return frame.get_column(key).unique(maintain_order=True).to_list()
    agg = frame.group_by(key, maintain_order=True).agg(pl.col(by).sum().alias("_w"))
    return agg.sort("_w", descending=descending, maintain_order=True).get_column(key).to_list()
