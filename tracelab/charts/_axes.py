"""Axis helpers shared by time-series charts."""

from __future__ import annotations

import altair as alt


def period_x(period: str, unit: str) -> alt.X:
    """Days on a UTC time axis; weeks as ordinal bands labelled by their Monday (a time axis
    would draw a week-long bucket one day wide)."""
    if unit == "week":
        return alt.X(f"{period}:O", title="week starting", axis=alt.Axis(labelAngle=0, labelExpr="utcFormat(toDate(datum.value), '%b %d')"))
    if unit == "day":
        return alt.X(f"{period}:T", title=None, timeUnit=alt.TimeUnitParams(unit="yearmonthdate", utc=True), axis=alt.Axis(format="%b %d", labelAngle=0))
    raise ValueError(f"unit must be 'day' or 'week', got {unit!r}")
