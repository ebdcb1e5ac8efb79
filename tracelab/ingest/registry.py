"""The adapter contract and the list of adapters, with detection by content."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracelab.ingest.agents import ADAPTER_MODULES
from tracelab.ingest.base import head_objects

__all__ = ["ADAPTER_MODULES", "Adapter", "adapters", "detect", "get", "head_objects"]


#: Bytes of a file's head that whole-document sniffers see.
DOCUMENT_HEAD = 64 << 10


@dataclass(frozen=True)
class Adapter:
    name: str
    parser_version: str
    #: parse(path, start_offset, start_line, state) -> ParseResult
    parse: Callable[..., Any]
    #: score of the first decoded objects of a file (0 = not this agent)
    sniff: Callable[[list[dict[str, Any]]], int]
    default_roots: Callable[[], list[Path]]
    discover: Callable[[Path], Iterable[Path]]
    env_var: str
    #: score of a whole-JSON document from its first :data:`DOCUMENT_HEAD` bytes and its path
    #: (formats that are one pretty-printed document rather than JSONL); None: not one
    sniff_document: Callable[[bytes, Path], int] | None = None
    #: provides(path, ident): does the file at ``path`` hold the session ``ident`` that an
    #: earlier parse looked for and did not find (its ``__awaits`` state)? None: never awaits
    provides: Callable[[str, str], bool] | None = None
    #: called once at the start of each ingest's parse stage (drops lookups cached by an
    #: earlier ingest in this process, so every ingest sees the tree as it is now)
    begin: Callable[[], None] | None = None


_CACHE: dict[str, Adapter] = {}


def adapters() -> dict[str, Adapter]:
    if not _CACHE:
        for name in ADAPTER_MODULES:
            mod = importlib.import_module(f"tracelab.ingest.{name}")
            _CACHE[name] = mod.ADAPTER
    return dict(_CACHE)


def get(name: str) -> Adapter:
    ads = adapters()
    if name not in ads:
        raise KeyError(f"unknown agent {name!r}; known: {', '.join(ads)}")
    return ads[name]


def detect(path: str | Path) -> Adapter | None:
    """The adapter whose ``sniff`` scores the file's first lines highest (None if none does).

    A ``.json`` file, or one whose first lines do not decode as JSON objects, is offered to
    the whole-document sniffers instead (Gemini CLI recordings are pretty-printed documents)."""
    p = Path(path)
    objs = [] if p.suffix == ".json" else head_objects(p)
    best, best_score = None, 0
    if objs:
        for ad in adapters().values():
            score = ad.sniff(objs)
            if score > best_score:
                best, best_score = ad, score
        return best
    head = _head_bytes(p)
    if head.lstrip()[:1] not in (b"{", b"["):
        return None
    for ad in adapters().values():
        if ad.sniff_document is not None:
            score = ad.sniff_document(head, p)
            if score > best_score:
                best, best_score = ad, score
    return best


def _head_bytes(path: Path, n: int = DOCUMENT_HEAD) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


#: Recognised formats tracelab does not read: (test on path and head bytes, name).
_SQLITE_MAGIC = b"SQLite format 3\x00"


def unsupported_format(path: str | Path) -> str | None:
    """The name of a recognised session format tracelab does not read, or None."""
    p = Path(path)
    head = _head_bytes(p, 4096)
    if head.startswith(_SQLITE_MAGIC):
        if p.name == "opencode.db" or b"opencode" in p.name.encode():
            return "an OpenCode SQLite database (opencode.db); OpenCode sessions are not supported yet (export them with `opencode export`)"
        return "a SQLite database, not a session log"
    if p.suffix == ".json" and b'"sessionID"' in head and (b'"providerID"' in head or b'"modelID"' in head or b'"projectID"' in head):
        return "an OpenCode storage/export JSON file; OpenCode sessions are not supported yet"
    return None


def known_formats() -> str:
    return ", ".join(ADAPTER_LABELS.get(n, n) for n in adapters())


#: How the adapters' agents are named in messages.
ADAPTER_LABELS = {
    "claude": "Claude Code",
    "codex": "Codex",
    "pi": "Pi",
    "gemini": "Gemini CLI",
    "copilot": "Copilot CLI",
    "otel": "OpenTelemetry GenAI",
    "sts": "Hub STS",
}
