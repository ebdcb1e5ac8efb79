"""ISO weeks: parsing ``2026-W47``, their UTC bounds, and the default report week.

A report week is an ISO week in UTC: Monday 00:00 (inclusive) to the next Monday 00:00
(exclusive). The default is the *latest week that has events*: the ISO week of the last day
with events, whatever today's date is. Real logs are sparse (weeks or months without a
session), so "the week before the last day" can be empty; the latest week with events never
is. When the data ends before that week's Sunday, the report says the week is incomplete.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``2026-W47`` (also ``2026W47``, ``2026-w7``); raises ``ValueError`` otherwise."""
        m = _WEEK.match(text.strip())
        if not m:
            raise ValueError(f"not an ISO week: {text!r} (expected e.g. 2026-W47)")
        year, week = int(m.group(1)), int(m.group(2))
        try:
            _dt.date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"{year} has no ISO week {week}") from None
        return cls(year, week)

    @classmethod
    def of(cls, day: _dt.date) -> IsoWeek:
        y, w, _ = day.isocalendar()
        return cls(y, w)

    @property
    def start(self) -> _dt.date:
        """Monday."""
        return _dt.date.fromisocalendar(self.year, self.week, 1)

    @property
    def end(self) -> _dt.date:
        """Sunday (inclusive last day)."""
        return self.start + _dt.timedelta(days=6)

    @property
    def since(self) -> _dt.datetime:
        return _dt.datetime.combine(self.start, _dt.time(), tzinfo=_dt.UTC)

    @property
    def until(self) -> _dt.datetime:
        return self.since + _dt.timedelta(days=7)

    def shift(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.start + _dt.timedelta(weeks=weeks))

    @property
    def previous(self) -> IsoWeek:
        return self.shift(-1)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def span(self) -> str:
        """``Nov 16 – Nov 22, 2026``."""
        s, e = self.start, self.end
        return f"{s:%b} {s.day} – {e:%b} {e.day}, {e.year}"


def latest_week(last_day: _dt.date) -> IsoWeek:
    """The default report week for data whose last event day is ``last_day``: its ISO week."""
    return IsoWeek.of(last_day)
