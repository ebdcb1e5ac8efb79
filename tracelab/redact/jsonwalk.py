"""Format-preserving JSON edits: change only the string tokens that were redacted.

A trace line is parsed (orjson, falling back to the standard library) so detectors see *decoded*
string values — JSON escaping cannot split a secret — but the output is not re-serialised.
Instead the raw line is scanned for its string tokens, which appear in the same order in which a
depth-first walk of the parsed value visits keys and strings, and only the tokens whose decoded
value changed are re-encoded. Numbers, whitespace, key order, escape style and every unchanged
string stay byte-identical. The same routine is applied to strings that themselves hold JSON
(Codex ``arguments``, JSON tool outputs), so nested documents keep their own style too.

Duplicate keys break the walk/token correspondence (a ``dict`` keeps one value); those documents
are re-parsed into :class:`Pairs` so every key/value is visited.

The string tokenizer uses Python's ``re`` with a fixed unambiguous pattern over text that has
already been validated as JSON; it is not a detector and cannot backtrack.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = [
    "Pairs",
    "NESTED",
    "NOT_JSON",
    "parse",
    "parse_pairs",
    "encode_like",
    "patch_tokens",
    "looks_like_json",
    "render_path",
    "is_image_dict",
]

_STRING_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NON_ASCII_ESCAPE = re.compile(rb"\\u(?:00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})")


class Pairs(list):
    """An object parsed with duplicate keys kept: a list of ``(key, value)`` pairs."""


class _Nested:
    def __repr__(self) -> str:  # pragma: no cover - debug aid
        return "#json"


#: Path component marking a step into a string that holds JSON.
NESTED = _Nested()
#: Sentinel returned when text is not JSON.
NOT_JSON = object()


def parse(raw: bytes | str) -> Any:
    """Parse JSON (orjson first; stdlib for NaN, huge integers, lone surrogates)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def parse_pairs(raw: bytes | str) -> Any:
    """Parse keeping duplicate keys (objects become :class:`Pairs`)."""
    return json.loads(raw, object_pairs_hook=Pairs)


def _line_style(line: bytes) -> bool:
    """Line-level default: escape non-ASCII iff the line has ``\\uXXXX`` escapes and no raw UTF-8."""
    if not line.isascii():
        return False
    return _NON_ASCII_ESCAPE.search(line) is not None


def encode_like(value: str, original_token: bytes, line_ascii_style: bool) -> bytes:
    """Encode ``value`` as a JSON string token in the escaping style of ``original_token``.

    Non-ASCII is written raw unless the original token (or, for ASCII-only tokens, the line)
    escaped it as ``\\uXXXX``; lone surrogates are always escaped; ``\\/`` is kept if the
    original used it.
    """
    if not original_token.isascii():
        ascii_style = False
    elif _NON_ASCII_ESCAPE.search(original_token):
        ascii_style = True
    else:
        ascii_style = line_ascii_style
    if not ascii_style and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates can only be written escaped
            ascii_style = True
    out = json.dumps(value, ensure_ascii=ascii_style).encode("utf-8")
    if b"\\/" in original_token:
        out = out.replace(b"/", b"\\/")
    return out


def _decode_token(token: bytes) -> str:
    if b"\\" not in token:
        return token[1:-1].decode("utf-8", "surrogatepass")
    return json.loads(token)


def patch_tokens(raw: bytes, changes: dict[int, tuple[str, str]]) -> bytes | None:
    """Replace the string tokens at the given document-order indices with re-encoded values.

    ``changes`` maps token index → (old decoded value, new value). Scanning stops after the last
    changed token, and every replaced token is checked to decode to its old value; ``None`` is
    returned if one does not (duplicate keys shift the indices), so the caller can re-walk.
    """
    parts: list[bytes] = []
    pos = 0
    style = _line_style(raw)
    wanted = sorted(changes)
    last = wanted[-1]
    it = _STRING_TOKEN.finditer(raw)
    j = 0
    for idx, m in enumerate(it):
        if idx != wanted[j]:
            continue
        s, e = m.span()
        token = raw[s:e]
        old, new = changes[idx]
        if _decode_token(token) != old:
            return None
        parts.append(raw[pos:s])
        parts.append(encode_like(new, token, style))
        pos = e
        if idx == last:
            break
        j += 1
    else:
        return None
    parts.append(raw[pos:])
    return b"".join(parts)


def looks_like_json(s: str) -> bool:
    """Cheap shape test for a string that might hold a JSON object/array."""
    if len(s) < 2:
        return False
    first = s[0]
    if first in " \t\r\n":
        s = s.strip()
        if len(s) < 2:
            return False
        first = s[0]
    last = s[-1]
    if last in " \t\r\n":
        last = s.rstrip()[-1]
    return (first == "{" and last == "}") or (first == "[" and last == "]")


def is_image_dict(d: dict | Pairs) -> bool:
    """``{"type": "base64", "media_type": "image/png", "data": …}`` (Claude) or
    ``{"type": "image", "mimeType": "image/png", "data": …}`` (Pi)."""
    items = d.items() if isinstance(d, dict) else d
    has_data = False
    image = False
    for k, v in items:
        if k == "data":
            has_data = isinstance(v, str)
        elif k in ("media_type", "mimeType", "mime_type", "mediaType") and isinstance(v, str) and v.startswith("image/"):
            image = True
    return has_data and image


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def render_path(path: Any) -> str:
    """Render a linked path ``(parent, key)`` as ``$.a.b[0]#json.c``."""
    keys = []
    while path is not None:
        path, key = path
        keys.append(key)
    out = ["$"]
    for key in reversed(keys):
        if key is NESTED:
            out.append("#json")
            out.append("$")
        elif isinstance(key, int):
            out.append(f"[{key}]")
        elif _IDENT.match(key):
            out.append("." + key)
        else:
            out.append("[" + json.dumps(key, ensure_ascii=False) + "]")
    return "".join(out).replace("#json$", "#json")
