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
