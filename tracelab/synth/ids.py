"""Identifiers and timestamps, generated from a seeded :class:`random.Random` so output is
reproducible byte for byte.

All times inside the generator are integer milliseconds since the Unix epoch (UTC). They are
formatted the way all three agents write them: ISO-8601 with milliseconds and ``Z``. Formatting
goes through a per-day prefix cache because the generator formats millions of timestamps.
"""

from __future__ import annotations

import datetime as _dt
import random
import string

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_HEX = "0123456789abcdef"
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
_day_prefix: dict[int, str] = {}


def day_str(ms: int) -> str:
    """``YYYY-MM-DD`` (UTC) of an epoch-ms instant."""
    day = ms // DAY_MS
    prefix = _day_prefix.get(day)
    if prefix is None:
        prefix = _dt.date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
        _day_prefix[day] = prefix
    return prefix


def iso(ms: int) -> str:
    """``2026-10-05T09:12:03.123Z`` for an epoch-ms instant."""
    rem = ms % DAY_MS
    h, rem = divmod(rem, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, milli = divmod(rem, 1000)
    return f"{day_str(ms)}T{h:02d}:{m:02d}:{s:02d}.{milli:03d}Z"


def iso_compact(ms: int, sep: str = "-") -> str:
    """Timestamp usable in a file name: ``2026-10-05T09-12-03`` (Codex) style, no millis."""
    rem = ms % DAY_MS
    h, rem = divmod(rem, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s = rem // 1000
    return f"{day_str(ms)}T{h:02d}{sep}{m:02d}{sep}{s:02d}"


def pi_file_stamp(ms: int) -> str:
    """Pi's file-name timestamp: ISO with ``:`` and ``.`` replaced by ``-``."""
    return iso(ms).replace(":", "-").replace(".", "-")


def midnight(ms: int) -> int:
    """Start of the UTC day containing ``ms``."""
    return ms - ms % DAY_MS


def date_to_ms(d: _dt.date) -> int:
    return (d.toordinal() - _EPOCH_ORDINAL) * DAY_MS


def uuid4(rng: random.Random) -> str:
    n = rng.getrandbits(128)
    n = (n & ~(0xF << 76)) | (0x4 << 76)
    n = (n & ~(0x3 << 62)) | (0x2 << 62)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid7(rng: random.Random, ms: int) -> str:
    """Time-ordered UUIDv7 as Codex uses for thread ids since late 2025."""
    rand = rng.getrandbits(74)
    n = (ms & ((1 << 48) - 1)) << 80
    n |= 0x7 << 76
    n |= ((rand >> 62) & 0xFFF) << 64
    n |= 0x2 << 62
    n |= rand & ((1 << 62) - 1)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def hex_id(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def base62(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(_BASE62, k=n))


def anthropic_msg_id(rng: random.Random) -> str:
    return "msg_01" + base62(rng, 22)


def anthropic_request_id(rng: random.Random) -> str:
    return "req_011C" + base62(rng, 20)


def anthropic_tool_id(rng: random.Random) -> str:
    return "toolu_01" + base62(rng, 22)


def openai_call_id(rng: random.Random) -> str:
    return "call_" + base62(rng, 24)
