"""Pi coding-agent adapter: ``$PI_AGENT_DIR/sessions/--<encoded cwd>--/<ts>_<uuid>.jsonl``.

``PI_AGENT_DIR`` defaults to ``~/.pi/agent`` (pi's own ``PI_CODING_AGENT_DIR`` is honoured
when ``PI_AGENT_DIR`` is unset). Format notes: ``README.md`` beside this file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tracelab.ingest.pi.parse import AGENT, PARSER_VERSION, PiParser
from tracelab.ingest.registry import Adapter

#: Entry types of pi session files (v1–v3).
PI_ENTRY_TYPES = frozenset(
    {
        "message",
        "model_change",
        "thinking_level_change",
        "compaction",
        "branch_summary",
        "custom",
        "custom_message",
        "label",
        "session_info",
    }
)
PI_ROLES = frozenset({"user", "assistant", "toolResult", "bashExecution", "custom", "hookMessage", "branchSummary", "compactionSummary"})


def agent_dir() -> Path:
    env = os.environ.get("PI_AGENT_DIR") or os.environ.get("PI_CODING_AGENT_DIR")
    return Path(env).expanduser() if env else Path.home() / ".pi" / "agent"


def default_roots() -> list[Path]:
    """``<agent dir>/sessions`` (or the agent dir itself when it has no ``sessions`` folder,
    so ``PI_AGENT_DIR`` may also point straight at a sessions tree)."""
    root = agent_dir()
    return [root / "sessions" if (root / "sessions").is_dir() else root]


def discover(root: Path) -> Iterable[Path]:
    """Every ``*.jsonl`` below a sessions root. pi writes only ``.jsonl`` session files there;
    a ``.json`` file (e.g. pi-mono's single-message test fixture) is never a session and is
    not picked up."""
    for p in sorted(root.rglob("*.jsonl")):
        if p.is_file():
            yield p


def sniff(objs: list[dict[str, Any]]) -> int:
    """Score how much the first decoded lines of a file look like pi: a ``session`` header
    with a string id, entries of pi types with 8-hex ``id``/``parentId`` or a nested
    ``message`` object with a pi role (Codex lines have ``payload``; Claude lines carry
    ``sessionId``/``uuid``)."""
    score = 0
    for d in objs:
        if "payload" in d or "sessionId" in d or "uuid" in d:
            continue
        t = d.get("type")
        if t == "session" and isinstance(d.get("id"), str) and ("cwd" in d or "version" in d):
            score += 5
        elif t in PI_ENTRY_TYPES:
            msg = d.get("message")
            if t == "message" and isinstance(msg, dict) and msg.get("role") in PI_ROLES:
                score += 2
            elif "parentId" in d and "id" in d:
                score += 2
            elif t != "message":
                score += 1
    return score


def parse(path: str | Path, start_offset: int = 0, start_line: int = 0, state: dict | None = None):
    return PiParser(path, state).parse(start_offset, start_line)


ADAPTER = Adapter(
    name=AGENT,
    parser_version=PARSER_VERSION,
    parse=parse,
    sniff=sniff,
    default_roots=default_roots,
    discover=discover,
    env_var="PI_AGENT_DIR",
)
