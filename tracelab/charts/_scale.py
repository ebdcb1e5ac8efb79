"""Keeping charts readable on real data: few colours, no null categories, time axes with gaps.

Real warehouses hold dozens of models, months-long gaps and rows without a model or a
timestamp. The chart functions use these helpers so that a chart over such data still has at most
:data:`MAX_SERIES` colours (the largest series plus ``"other"``), labels missing categories
``"unknown"`` instead of ``null``, and draws periods on a true (UTC) time axis on which a gap in the
data stays a gap.
"""

from __future__ import annotations

import datetime as _dt

import altair as alt
import polars as pl

#: Most colours a chart uses: the ``MAX_SERIES - 1`` largest series and ``"other"``.
MAX_SERIES = 10
UNKNOWN = "unknown"
OTHER = "other"
#: Length of one period of each unit, for the end of a bar and for finding gaps.
PERIOD_DAYS = {"day": 1, "week": 7}


def unknown_labels(frame: pl.DataFrame, *cols: str | None) -> pl.DataFrame:
    """Null values of the string columns ``cols`` become ``"unknown"``."""
    present = [c for c in cols if c is not None and c in frame.columns]
    return frame.with_columns([pl.col(c).cast(pl.String).fill_null(UNKNOWN) for c in present]) if present else frame


def top_series(frame: pl.DataFrame, key: str, weight: str, max_series: int | None = MAX_SERIES) -> tuple[pl.DataFrame, list[str], int]:
    """Fold the series of ``key`` beyond the ``max_series - 1`` largest (by the sum of ``weight``)
    into ``"other"``. Returns the frame, the series in order (largest first, ``"other"`` last) and
    how many series were folded. With ``max_series`` None or enough room nothing is folded."""
    totals = frame.group_by(key).agg(pl.col(weight).sum().alias("_w")).sort(["_w", key], descending=[True, False], nulls_last=True)
    order = [str(k) for k in totals.get_column(key).to_list()]
    if max_series is None or len(order) <= max_series:
        return frame, order, 0
    keep = order[: max(max_series - 1, 1)]
    folded = len(order) - len(keep)
    frame = frame.with_columns(pl.when(pl.col(key).is_in(keep)).then(pl.col(key)).otherwise(pl.lit(OTHER)).alias(key))
    return frame, [*keep, OTHER], folded


def as_dates(frame: pl.DataFrame, col: str) -> pl.DataFrame:
    """``col`` as a Date column (from a date, a datetime or an ISO ``YYYY-MM-DD`` string)."""
    dtype = frame.schema[col]
    if dtype == pl.Date:
        return frame
    if isinstance(dtype, pl.Datetime):
        return frame.with_columns(pl.col(col).dt.date())
    return frame.with_columns(pl.col(col).cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))


def drop_undated(frame: pl.DataFrame, period: str) -> tuple[pl.DataFrame, int]:
    """Rows with a period, and how many rows had none (they cannot be placed on a time axis)."""
    frame = as_dates(frame, period)
    kept = frame.filter(pl.col(period).is_not_null())
    return kept, frame.height - kept.height


def segments(periods: list[_dt.date], unit: str) -> dict[_dt.date, int]:
    """Number each run of consecutive periods: a line is drawn within a run, never across a gap."""
    step = _dt.timedelta(days=PERIOD_DAYS[unit])
    out: dict[_dt.date, int] = {}
    seg, prev = 0, None
    for p in sorted(set(periods)):
        if prev is not None and p - prev > step:
            seg += 1
        out[p] = seg
        prev = p
    return out


def time_x(period: str, unit: str, *, title: str | None = None) -> alt.X:
    """A UTC time axis for period starts (ISO dates): real spacing between periods, so a
    months-long gap looks like one; Vega thins labels that would overlap."""
    if unit not in PERIOD_DAYS:
        raise ValueError(f"unit must be 'day' or 'week', got {unit!r}")
    return alt.X(
        f"{period}:T",
        title=title if title is not None else ("week starting" if unit == "week" else None),
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(labelOverlap=True, labelFlush=True, labelAngle=0, grid=False),
    )


def subtitle(base: str | None, *notes: str) -> str | list[str] | None:
    """``base`` with the notes about what a chart left out (each on its own line)."""
    lines = [x for x in (base, *notes) if x]
    if not lines:
        return None
    return lines[0] if len(lines) == 1 else lines
