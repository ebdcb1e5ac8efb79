"""Small formatting helpers shared by the text and HTML renderers."""

from __future__ import annotations

__all__ = ["duration", "num", "tokens"]


def duration(seconds: float | None) -> str:
    """``0.4s``, ``12.3s``, ``4m05s``, ``1h43m`` (empty for None)."""
    if seconds is None:
        return ""
    s = abs(seconds)
    sign = "-" if seconds < 0 else ""
    if s < 60:
        return f"{sign}{s:.1f}s"
    if s < 3600:
        return f"{sign}{int(s // 60)}m{int(s % 60):02d}s"
    return f"{sign}{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def tokens(n: int | None) -> str:
    """``950``, ``12.3k``, ``4.56M`` (empty for None)."""
    if n is None:
        return ""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.2f}M"


def num(v: float | None, digits: int = 4) -> str:
    return "" if v is None else f"{v:.{digits}f}"
