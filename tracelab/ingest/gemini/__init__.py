"""Gemini CLI adapter: ``$GEMINI_CLI_HOME/.gemini/tmp/<project hash>/chats/session-*.json``
(and ``.jsonl``), plus ``/chat save`` checkpoints ``tmp/<project hash>/checkpoint-*.json``.

``GEMINI_CLI_HOME`` replaces the home directory as the Gemini CLI itself does (default: ``~``).
Format notes: ``README.md`` beside this file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tracelab.ingest.gemini.parse import AGENT, MESSAGE_TYPES, PARSER_VERSION, GeminiParser
from tracelab.ingest.registry import Adapter

__all__ = ["ADAPTER", "default_roots", "discover", "sniff", "sniff_document"]

_HEAD_SESSION = re.compile(rb'^\s*\{\s*"sessionId"\s*:\s*"[^"]*"\s*,\s*"projectHash"\s*:')
_HEAD_CHECKPOINT = re.compile(rb'^\s*(\[\s*\{\s*"role"\s*:|\{\s*"history"\s*:\s*\[)')


def default_roots() -> list[Path]:
    home = os.environ.get("GEMINI_CLI_HOME")
    base = Path(home).expanduser() if home else Path.home()
    return [base / ".gemini" / "tmp"]


def discover(root: Path) -> Iterable[Path]:
    """``<hash>/chats/session-*.json[l]`` and ``<hash>/checkpoint-*.json`` below a ``tmp`` dir
    (``logs.json``, ``shell_history`` and tool output files are not sessions)."""
    found = set(root.glob("*/chats/session-*.json")) | set(root.glob("*/chats/session-*.jsonl")) | set(root.glob("*/checkpoint-*.json"))
    if root.name == "chats":  # pointed straight at one project's chats folder
        found |= set(root.glob("session-*.json")) | set(root.glob("session-*.jsonl"))
    yield from sorted(p for p in found if p.is_file())


def sniff(objs: list[dict[str, Any]]) -> int:
    """Score JSONL recordings: a metadata line with ``sessionId`` and ``projectHash``, message
    records ``{id, timestamp, type: user|gemini|info|error|warning, content}`` without Claude's
    ``uuid``/``sessionId`` envelope, ``$rewindTo`` / ``$set`` lines."""
    score = 0
    for d in objs:
        if "uuid" in d or "payload" in d or "parentUuid" in d:
            continue
        if isinstance(d.get("sessionId"), str) and "projectHash" in d:
            score += 5
        elif d.get("type") in MESSAGE_TYPES and isinstance(d.get("id"), str) and "content" in d and "sessionId" not in d:
            score += 3 if d["type"] == "gemini" or "message" not in d else 1
        elif "$rewindTo" in d or ("$set" in d and len(d) == 1):
            score += 2
    return score


def sniff_document(head: bytes, path: Path) -> int:
    """Score a whole-JSON document from its first bytes: a recording starts with
    ``{"sessionId": …, "projectHash": …`` (the CLI writes the keys in that order); a checkpoint
    is ``[{"role": …`` or ``{"history": [`` in a file named ``checkpoint-*.json``."""
    if _HEAD_SESSION.match(head):
        return 10
    if path.name.startswith("checkpoint-") and _HEAD_CHECKPOINT.match(head):
        return 8
    if b'"projectHash"' in head and b'"messages"' in head and b'"sessionId"' in head:
        return 5
    return 0


def parse(path: str | Path, start_offset: int = 0, start_line: int = 0, state: dict | None = None):
    return GeminiParser(path, state).parse(start_offset, start_line)


ADAPTER = Adapter(
    name=AGENT,
    parser_version=PARSER_VERSION,
    parse=parse,
    sniff=sniff,
    default_roots=default_roots,
    discover=discover,
    env_var="GEMINI_CLI_HOME",
    sniff_document=sniff_document,
)
