"""Number formatting for report tables: one place decides how a rate, a latency or a cost reads.

Every function accepts ``None`` (and NaN) and returns an en dash, so a missing value never
renders as ``None`` or ``nan``.
"""

from __future__ import annotations

import math
from typing import Any

DASH = "–"


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def integer(v: Any) -> str:
    return DASH if _missing(v) else f"{int(v):,}"


def pct(v: Any, digits: int = 1) -> str:
    """0.1234 → ``12.3%``."""
    return DASH if _missing(v) else f"{100 * v:.{digits}f}%"


def pp(v: Any) -> str:
    """A change already in percentage points: 4.0 → ``+4.0 pp``."""
    return DASH if _missing(v) else f"{v:+.1f} pp"


def change_pct(v: Any) -> str:
    """A relative change in percent: 12.0 → ``+12%``."""
    if _missing(v):
        return DASH
    return f"{v:+.0f}%" if abs(v) >= 10 else f"{v:+.1f}%"


#: Shown instead of a change that a small sample cannot support.
SMALL_N = "n too small"
#: A change is shown only when both weeks have at least this many observations ...
MIN_CHANGE_N = 10
#: ... and it is within this bound (a larger percent change is an artefact of a tiny base).
MAX_CHANGE_PCT = 500.0


#: A percentile (p50, p95 …) is shown only from this many observations, the same minimum as a
#: change: the p50 of one call is that call's latency, not a typical value.
MIN_PERCENTILE_N = MIN_CHANGE_N


def ms_n(v: Any, n: Any, *, min_n: int = MIN_PERCENTILE_N) -> str:
    """:func:`ms`, or ``n too small`` when the percentile ``v`` comes from fewer than ``min_n``
    observations."""
    if _missing(v):
        return DASH
    return ms(v) if not _missing(n) and n >= min_n else SMALL_N


def meaningful_change(v: Any, n: Any, n_previous: Any, *, min_n: int = MIN_CHANGE_N, max_pct: float = MAX_CHANGE_PCT) -> bool:
    """Whether a relative change ``v`` (percent) over samples of ``n`` and ``n_previous`` may be shown."""
    if _missing(v) or _missing(n) or _missing(n_previous):
        return False
    return min(n, n_previous) >= min_n and abs(v) <= max_pct


def change_pct_n(v: Any, n: Any, n_previous: Any, *, min_n: int = MIN_CHANGE_N, max_pct: float = MAX_CHANGE_PCT) -> str:
    """:func:`change_pct`, or ``n too small`` when the samples (``n`` this week,
    ``n_previous`` the week before) are below ``min_n`` or the change exceeds ``max_pct``."""
    if _missing(v):
        return DASH
    return change_pct(v) if meaningful_change(v, n, n_previous, min_n=min_n, max_pct=max_pct) else SMALL_N


def rel_change(cur: Any, prev: Any) -> float | None:
    """Relative change in percent, ``None`` when undefined."""
    if _missing(cur) or _missing(prev) or prev == 0:
        return None
    return 100.0 * (cur / prev - 1.0)


def ms(v: Any) -> str:
    """Milliseconds as ``850 ms``, ``4.27 s``, ``2.5 min``."""
    if _missing(v):
        return DASH
    if v < 1000:
        return f"{v:.0f} ms"
    if v < 60_000:
        return f"{v / 1000:.2f} s" if v < 10_000 else f"{v / 1000:.1f} s"
    return f"{v / 60_000:.1f} min"


def si(v: Any) -> str:
    """Large counts: 72_975_659 → ``73.0M``."""
    if _missing(v):
        return DASH
    a = abs(v)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{v / div:.1f}{suffix}"
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"


def usd(v: Any) -> str:
    """``$1,234``, ``$12.34``, ``$0.031``, ``$0.0024``: about three significant digits."""
    if _missing(v):
        return DASH
    a = abs(v)
    if a >= 1000:
        return f"${v:,.0f}"
    if a >= 1 or v == 0:
        return f"${v:,.2f}"
    return f"${v:.3f}" if a >= 0.01 else f"${v:.4f}"


def pvalue(v: Any) -> str:
    if _missing(v):
        return DASH
    return "<0.001" if v < 0.001 else f"{v:.3f}"


def p_is(v: Any) -> str:
    """A p-value in a sentence: ``p = 0.032``, ``p < 0.001``."""
    if _missing(v):
        return "p = " + DASH
    return "p < 0.001" if v < 0.001 else f"p = {v:.3f}"


def rate_ci(rate: Any, lo: Any, hi: Any) -> str:
    """``12.3% [8.1–17.9]``."""
    if _missing(rate):
        return DASH
    if _missing(lo) or _missing(hi):
        return pct(rate)
    return f"{pct(rate)} [{100 * lo:.1f}–{100 * hi:.1f}]"
