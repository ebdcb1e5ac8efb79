"""Reading Codex tool outputs: text, exit code, duration, still-running processes, status.

Codex has no ``is_error`` flag on tool outputs. What a result means has to be read from the
output itself, which changed shape over the versions:

* 2025 ``shell``: the output is a JSON *string* ``{"output": …, "metadata": {"exit_code": N,
  "duration_seconds": F}}``;
* ``shell_command`` / ``exec_command``: text with a header before ``Output:`` —
  ``Exit code: N`` / ``Wall time: F seconds`` or, for unified exec, ``Process exited with code N``
  or ``Process running with session ID N`` (the process outlived the call; its exit code
  arrives in the output of a later ``write_stdin`` for that session);
* newer builds: a list of content items (``input_text`` / ``input_image``) or a single item;
* harness failures and refusals are plain text: ``exec command rejected by user``,
  ``patch rejected by user``, ``aborted``, ``write_stdin failed: …``,
  ``apply_patch verification failed: …``.

Only the header (the text before the first ``Output:`` line) is searched for exit codes, so a
command that prints ``Exit code: 3`` does not change its own status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from tracelab.ingest.base import dumps

_EXIT_RE = re.compile(r"^(?:Exit code:|Process exited with code)\s*(-?\d+)\s*$", re.M)
_WALL_RE = re.compile(r"^Wall time:\s*([0-9]+(?:\.[0-9]+)?)\s*(?:seconds|s)?\s*$", re.M)
_RUNNING_RE = re.compile(r"^Process running with session ID\s+(\S+)\s*$", re.M)

#: First-line markers of a refusal by the user or by the sandbox/approval policy.
_REJECT_MARKERS = ("rejected by user", "denied by user", "declined by user")
_REJECT_PREFIXES = ("exec command rejected", "exec_command rejected", "patch rejected", "failed in sandbox", "sandbox denied")
#: Whole outputs Codex writes for calls cut off by an interrupt.
_INTERRUPT_TEXTS = ("aborted", "aborted by user", "command aborted by user", "interrupted")
#: First-line prefixes of harness failures (the tool never produced a normal result).
_ERROR_PREFIXES = (
    "write_stdin failed",
    "exec_command failed",
    "apply_patch verification failed",
    "execution error",
    "failed to parse function arguments",
    "unsupported call",
    "unsupported custom tool call",
    "unknown session id",
    "err:",
    "error:",
    "tool call error",
    "command timed out",
    "failed to ",
    "invalid patch",
    "no such tool",
)


def exit_code(value: Any) -> int | None:
    """An exit code that fits the ``int32`` column (anything else is not an exit code)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -(2**31) <= value < 2**31 else None


@dataclass
class Output:
    """What one tool output says."""

    text: str
    exit_code: int | None = None
    duration_ms: float | None = None
    running_session: str | None = None
    #: ok | error | user_rejected | interrupted, read from the text (None: nothing special)
    status: str | None = None
    n_images: int = 0


def _content_text(items: list[Any]) -> tuple[str, int]:
    parts: list[str] = []
    images = 0
    for it in items:
        if isinstance(it, dict):
            t = it.get("type")
            if isinstance(it.get("text"), str):
                parts.append(it["text"])
            elif t in ("input_image", "image", "output_image"):
                images += 1
        elif isinstance(it, str):
            parts.append(it)
    return "\n".join(parts), images


def _header(text: str) -> str:
    cut = text.find("\nOutput:")
    if cut < 0:
        return text[:1024]
    return text[:cut]


def classify_text(text: str) -> str | None:
    """Status a harness text implies: user_rejected, interrupted, error, or None (a normal output)."""
    head = text.lstrip()[:300]
    first = head.split("\n", 1)[0].strip().lower()
    if first in _INTERRUPT_TEXTS:
        return "interrupted"
    if first.startswith(_REJECT_PREFIXES) or any(m in first for m in _REJECT_MARKERS):
        return "user_rejected"
    if first.startswith(_ERROR_PREFIXES):
        return "error"
    return None


def parse_output(raw: Any) -> Output:
    """Decode a ``*_call_output.output`` value (string, JSON string, item list or item)."""
    images = 0
    if isinstance(raw, list):
        text, images = _content_text(raw)
    elif isinstance(raw, dict):
        if isinstance(raw.get("content"), list):  # {"content": [...], "success": bool}
            text, images = _content_text(raw["content"])
            out = _from_text(text, images)
            if raw.get("success") is False and out.status is None:
                out.status = "error"
            return out
        text, images = _content_text([raw])
        if not text and not images:
            text = dumps(raw)
    elif isinstance(raw, str):
        text = raw
    elif raw is None:
        text = ""
    else:
        text = dumps(raw)
    return _from_text(text, images)


def _from_text(text: str, images: int) -> Output:
    out = Output(text=text, n_images=images)
    s = text.lstrip()
    if s.startswith("{") and s.find('"metadata"', 0, 100000) >= 0:  # no copy of the head
        try:
            obj = orjson.loads(s)
        except orjson.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
            meta = obj["metadata"]
            out.exit_code = exit_code(meta.get("exit_code"))
            dur = meta.get("duration_seconds")
            if isinstance(dur, (int, float)) and not isinstance(dur, bool):
                out.duration_ms = float(dur) * 1000.0
            inner = obj.get("output")
            out.text = inner if isinstance(inner, str) else dumps(inner)
            out.status = classify_text(out.text) if out.exit_code is None else None
            return out
    head = _header(text)
    m = _EXIT_RE.search(head)
    if m:
        out.exit_code = exit_code(int(m.group(1)))
    m = _WALL_RE.search(head)
    if m:
        out.duration_ms = float(m.group(1)) * 1000.0
    m = _RUNNING_RE.search(head)
    if m and out.exit_code is None:
        out.running_session = m.group(1)
    if out.exit_code is None and out.running_session is None:
        out.status = classify_text(text)
    return out


def duration_ms(value: Any) -> float | None:
    """A Codex duration (``{secs, nanos}``, seconds as a number, or ``"1.5s"``/``"250ms"``) in ms."""
    if isinstance(value, dict):
        secs = value.get("secs", 0)
        nanos = value.get("nanos", 0)
        if isinstance(secs, (int, float)) and isinstance(nanos, (int, float)) and not isinstance(secs, bool):
            return float(secs) * 1000.0 + float(nanos) / 1e6
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) * 1000.0
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s)?\s*", value)
        if m:
            v = float(m.group(1))
            return v if m.group(2) == "ms" else v * 1000.0
    return None


def event_status(value: Any) -> str | None:
    """tracelab status for a Codex ``status`` field of an end event / completed item."""
    if isinstance(value, dict):  # {"completed": …} / {"failed": …}
        value = next(iter(value), None)
    if not isinstance(value, str):
        return None
    v = value.lower()
    if v in ("declined", "rejected", "denied"):
        return "user_rejected"
    if v in ("failed", "error", "errored"):
        return "error"
    if v in ("interrupted", "aborted", "cancelled", "canceled"):
        return "interrupted"
    if v in ("completed", "success", "succeeded", "ok"):
        return "ok"
    return None
