"""Streaming JSONL file writer with malformed-line injection.

A :class:`JsonlFile` writes lines as the generator produces them and returns each line's
1-based physical line number, so failure labels can point at exact lines. Malformed lines
are *extra* lines: before each write unit (one line, or one whole Claude split group) the
writer may insert a malformed line with probability ``malformed_rate``. They are never put
inside a group, never before a file's header line, and never inside a block of lines copied
from an earlier file. At close a file may end with a half-written line (no trailing newline),
the way a live session file looks when the agent was killed mid-write.

Injection draws from its own RNG, so changing ``--malformed-rate`` does not change any other
content of the corpus (only line numbers shift).
"""

from __future__ import annotations

import random
from pathlib import Path

import orjson

from .stats import TaskStats

MALFORMED_KINDS = ("truncated_json", "invalid_utf8", "non_object_json", "wrong_field_types")

#: Chance per file of a half-written last line, relative to the per-unit malformed rate.
TAIL_FACTOR = 30.0

_NON_OBJECTS = (b"[1, 2, 3]", b'"partial write"', b"null", b"42", b"true", b"[]")
_WRONG_TYPES = {
    "claude": b'{"type":"assistant","uuid":12345,"timestamp":1760000000,"message":"unavailable","sessionId":null}',
    "codex": b'{"timestamp":1760000000123,"type":"event_msg","payload":["token_count",null]}',
    "pi": b'{"type":"message","id":42,"parentId":[],"timestamp":false,"message":"assistant"}',
}


def _base_object(rng: random.Random, agent: str) -> dict:
    """A harmless, token-free line of the agent's format, used as raw material."""
    text = " ".join(rng.choice(("waiting", "for", "build", "output", "line", "chunk", "done")) for _ in range(rng.randint(8, 40)))
    if agent == "claude":
        return {
            "type": "progress",
            "data": {"type": "bash_progress", "output": text, "elapsedTimeSeconds": rng.randint(1, 90)},
            "timestamp": "2026-01-01T00:00:00.000Z",
            "uuid": f"{rng.getrandbits(128):032x}",
        }
    if agent == "codex":
        return {"timestamp": "2026-01-01T00:00:00.000Z", "type": "event_msg", "payload": {"type": "agent_reasoning", "text": text}}
    return {"type": "custom", "customType": "status-line", "data": {"text": text}, "timestamp": "2026-01-01T00:00:00.000Z"}


def malformed_line(rng: random.Random, agent: str, kind: str) -> bytes:
    if kind == "truncated_json":
        raw = orjson.dumps(_base_object(rng, agent))
        cut = rng.randint(len(raw) // 4, (3 * len(raw)) // 4)
        out = raw[:cut]
        try:
            orjson.loads(out)
        except orjson.JSONDecodeError:
            return out
        return out + b'{"'
    if kind == "invalid_utf8":
        raw = orjson.dumps(_base_object(rng, agent))
        i = raw.rindex(b'"', 0, len(raw) - 2)
        return raw[:i] + rng.choice((b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\x80abc")) + raw[i:]
    if kind == "non_object_json":
        return rng.choice(_NON_OBJECTS)
    if kind == "wrong_field_types":
        return _WRONG_TYPES[agent]
    raise ValueError(kind)


class JsonlFile:
    def __init__(self, root: Path, rel: str, stats: TaskStats, mrng: random.Random, rate: float, *, header_lines: int = 0) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.rel = rel
        self._fh = path.open("wb", buffering=1 << 20)
        self._stats = stats
        self._mrng = mrng
        self._rate = rate
        self._protect = header_lines
        self.n = 0
        self.nbytes = 0

    def _inject(self) -> None:
        if self._rate <= 0.0 or self.n < self._protect or self._mrng.random() >= self._rate:
            return
        kind = self._mrng.choice(MALFORMED_KINDS)
        self._raw(malformed_line(self._mrng, self._stats.agent, kind) + b"\n")
        self._stats.malformed.append((self.rel, self.n, kind))

    def _raw(self, data: bytes) -> None:
        self._fh.write(data)
        self.n += 1
        self.nbytes += len(data)

    def line(self, data: bytes) -> int:
        """Write one line (without newline); return its line number."""
        self._inject()
        self._raw(data + b"\n")
        return self.n

    def group(self, lines: list[bytes]) -> int:
        """Write lines that must stay contiguous; return the first one's line number."""
        self._inject()
        first = self.n + 1
        self._raw(b"\n".join(lines) + b"\n")
        self.n += len(lines) - 1
        return first

    def copy(self, lines: list[bytes], source: str) -> tuple[int, int]:
        """Write lines copied verbatim from ``source``; no injection inside. Returns (first, last)."""
        if not lines:
            return (self.n + 1, self.n)
        first = self.n + 1
        self._raw(b"\n".join(lines) + b"\n")
        self.n += len(lines) - 1
        self._stats.duplicates.append((self.rel, first, self.n, source))
        return first, self.n

    def close(self) -> None:
        if self._rate > 0.0 and self.n >= max(1, self._protect) and self._mrng.random() < min(1.0, self._rate * TAIL_FACTOR):
            data = malformed_line(self._mrng, self._stats.agent, "truncated_json")
            self._fh.write(data)
            self.n += 1
            self.nbytes += len(data)
            self._stats.malformed.append((self.rel, self.n, "truncated_json"))
        self._fh.close()
        self._stats.add_file(self.rel, self.n, self.nbytes)


def write_json_file(root: Path, rel: str, obj: object, stats: TaskStats) -> None:
    """A small JSON sidecar (e.g. Claude's ``agent-<id>.meta.json``)."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    data = orjson.dumps(obj)
    path.write_bytes(data)
    stats.add_meta_file(rel, len(data))
