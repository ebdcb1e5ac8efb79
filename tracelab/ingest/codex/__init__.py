"""Codex CLI adapter: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`` and ``archived_sessions/``."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tracelab.ingest.codex.parse import AGENT, PARSER_VERSION, RESPONSE_ITEM_TYPES, WRAPPED_TYPES, CodexParser, is_bare_header
from tracelab.ingest.codex.replay import forget, holds_thread
from tracelab.ingest.registry import Adapter


def default_roots() -> list[Path]:
    """``$CODEX_HOME`` (default ``~/.codex``)."""
    env = os.environ.get("CODEX_HOME")
    return [Path(env).expanduser()] if env else [Path.home() / ".codex"]


def discover(root: Path) -> Iterable[Path]:
    """Rollouts under a Codex home: ``sessions/**/rollout-*.jsonl`` (dated dirs, or flat in very
    old installs) and ``archived_sessions/*.jsonl``. ``history.jsonl`` (prompt history) and the
    TUI logs are not sessions."""
    sessions = root / "sessions"
    if sessions.is_dir():
        yield from sorted(sessions.rglob("rollout-*.jsonl"))
    archived = root / "archived_sessions"
    if archived.is_dir():
        yield from sorted(p for p in archived.glob("*.jsonl") if p.is_file())


def sniff(objs: list[dict[str, Any]]) -> int:
    """Score how much the first decoded lines of a file look like a Codex rollout (either era)."""
    score = 0
    for d in objs:
        t = d.get("type")
        if t in WRAPPED_TYPES and isinstance(d.get("payload"), dict) and "timestamp" in d:
            score += 3
        elif is_bare_header(d):
            score += 3
        elif "record_type" in d and "type" not in d:
            score += 2
        elif t in RESPONSE_ITEM_TYPES and "payload" not in d and "message" not in d and "uuid" not in d and ("role" in d or "call_id" in d or "summary" in d):
            score += 2
    return score


def parse(path: str | Path, start_offset: int = 0, start_line: int = 0, state: dict | None = None):
    return CodexParser(path, state).parse(start_offset, start_line)


ADAPTER = Adapter(
    name=AGENT,
    parser_version=PARSER_VERSION,
    parse=parse,
    sniff=sniff,
    default_roots=default_roots,
    discover=discover,
    env_var="CODEX_HOME",
    provides=holds_thread,
    begin=forget,
)
