"""What a share strips before redaction, each part a named option (all on by default).

* ``signatures`` — provider ciphertext that cannot be read or scanned: Claude's thinking
  ``signature``, Pi's ``thinkingSignature`` / ``textSignature``, Gemini's ``thoughtSignature``,
  Codex's ``encrypted_content``. The value becomes the empty string (the key stays, so the line
  still parses as the agent wrote it; the Hub viewer shows the thinking text as before).
* ``images`` — embedded images: base64 ``data`` of an image block (Claude ``source``, Pi
  ``{"type": "image", "mimeType": …}``) and ``data:image/…;base64,`` URLs (Codex ``image_url``)
  become a size marker ``[image removed: image/png, 123,456 bytes]``.
* ``env_dumps`` — environment dumps: a string whose lines are mostly ``NAME=value`` (the output
  of ``env``, ``printenv``, ``set``, ``docker inspect`` environment lists, ``.env`` files a tool
  read), at least 5 such lines and 80% of the non-blank lines, becomes
  ``[environment dump removed: 42 variables]``. Environment dumps carry tokens, hosts and paths in
  bulk; the redactor would find many but cannot vouch for all.

Lines are patched in place (:func:`tracelab.redact.jsonwalk.patch_tokens`): every byte outside a
stripped string token stays as it was. Strings holding JSON (Codex ``arguments``, tool outputs)
are not opened: signatures and image payloads sit in the line's own structure.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tracelab.redact import jsonwalk

__all__ = ["StripOptions", "strip_line", "SIGNATURE_KEYS", "STRIP_KINDS"]

SIGNATURE_KEYS = frozenset({"signature", "thinkingSignature", "textSignature", "thoughtSignature", "encrypted_content"})
STRIP_KINDS = ("signatures", "images", "env_dumps")
_ENV_MIN_LINES = 5


@dataclass(frozen=True)
class StripOptions:
    signatures: bool = True
    images: bool = True
    env_dumps: bool = True

    def any(self) -> bool:
        return self.signatures or self.images or self.env_dumps

    def enabled(self) -> list[str]:
        return [k for k in STRIP_KINDS if getattr(self, k)]


def _b64_size(data: str) -> int:
    """Decoded size of a base64 payload (without decoding it all when it is well-formed)."""
    s = data.strip()
    pad = len(s) - len(s.rstrip("="))
    if len(s) % 4 == 0:
        return len(s) // 4 * 3 - pad
    try:
        return len(base64.b64decode(s + "=" * (-len(s) % 4)))
    except (binascii.Error, ValueError):
        return len(s) * 3 // 4


def _image_marker(media: str, nbytes: int) -> str:
    return f"[image removed: {media or 'image'}, {nbytes:,} bytes]"


def _env_dump(s: str) -> int:
    """Number of ``NAME=value`` lines if ``s`` is an environment dump, else 0."""
    if s.count("=") < _ENV_MIN_LINES or s.count("\n") < _ENV_MIN_LINES - 1:
        return 0
    lines = [ln.strip() for ln in s.splitlines() if ln.strip()]
    n = 0
    for ln in lines:
        if ln.startswith(("export ", "declare -x ")):
            ln = ln.split(" ", 2)[-1] if ln.startswith("declare") else ln[7:]
        name, eq, _ = ln.partition("=")
        if eq and name and (name[0].isalpha() or name[0] == "_") and all(ch.isalnum() or ch == "_" for ch in name) and name.upper() == name:
            n += 1
    return n if n >= _ENV_MIN_LINES and n * 5 >= len(lines) * 4 else 0


class _Walk:
    def __init__(self, opts: StripOptions) -> None:
        self.opts = opts
        self.n = 0
        self.changes: dict[int, tuple[str, str]] = {}
        self.counts: Counter = Counter()
        self.bytes_removed = 0

    def value(self, v: Any, key: str | None) -> None:
        t = type(v)
        if t is str:
            idx = self.n
            self.n += 1
            self._string(v, key, idx)
        elif t is dict or t is jsonwalk.Pairs:
            self.obj(v)
        elif t is list:
            for x in v:
                self.value(x, None)

    def obj(self, d: Any) -> None:
        items = list(d.items() if type(d) is dict else d)
        image = self.opts.images and any(k == "data" for k, _ in items) and jsonwalk.is_image_dict(d)
        media = ""
        if image:
            media = next((v for k, v in items if k in ("media_type", "mimeType", "mime_type", "mediaType") and isinstance(v, str)), "")
        for k, v in items:
            self.n += 1  # the key's own string token
            if image and k == "data" and isinstance(v, str) and v:
                idx = self.n
                self.n += 1
                self._set(idx, v, _image_marker(media, _b64_size(v)), "images")
                continue
            self.value(v, k)

    def _set(self, idx: int, old: str, new: str, kind: str) -> None:
        if new != old:
            self.changes[idx] = (old, new)
            self.counts[kind] += 1
            self.bytes_removed += len(old.encode("utf-8", "surrogatepass")) - len(new.encode("utf-8"))

    def _string(self, v: str, key: str | None, idx: int) -> None:
        o = self.opts
        if o.signatures and key in SIGNATURE_KEYS and v:
            self._set(idx, v, "", "signatures")
            return
        if o.images and v.startswith("data:image/") and ";base64," in v[:80]:
            head, _, data = v.partition(";base64,")
            self._set(idx, v, _image_marker(head[5:], _b64_size(data)), "images")
            return
        if o.env_dumps and len(v) >= 40:
            n = _env_dump(v)
            if n:
                self._set(idx, v, f"[environment dump removed: {n} variables]", "env_dumps")


def strip_line(raw: bytes, opts: StripOptions) -> tuple[bytes, Counter, int]:
    """Strip one JSONL line (or a whole JSON document). Returns ``(new, counts by kind, bytes
    removed)``; a line that is not JSON, or has nothing to strip, comes back as the same object."""
    body = raw.rstrip(b"\r\n")
    if not opts.any() or not body.strip():
        return raw, Counter(), 0
    if opts.signatures and not opts.env_dumps and not opts.images and b"ignature" not in body and b"encrypted_content" not in body:
        return raw, Counter(), 0
    try:
        obj = jsonwalk.parse(body)
    except (ValueError, RecursionError):
        return raw, Counter(), 0
    w = _Walk(opts)
    w.value(obj, None)
    if not w.changes:
        return raw, Counter(), 0
    out = jsonwalk.patch_tokens(body, w.changes)
    if out is None:  # duplicate keys: walk every pair
        w = _Walk(opts)
        w.value(jsonwalk.parse_pairs(body), None)
        out = jsonwalk.patch_tokens(body, w.changes) if w.changes else body
        if out is None:  # pragma: no cover - pairs always align with tokens
            return raw, Counter(), 0
    return out + raw[len(body) :], w.counts, w.bytes_removed
