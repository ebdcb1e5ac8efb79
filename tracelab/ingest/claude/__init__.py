"""Claude Code adapter: ``~/.claude/projects/<encoded cwd>/<sessionId>.jsonl`` and subagent files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tracelab.ingest.claude.parse import AGENT, PARSER_VERSION, ClaudeParser
from tracelab.ingest.registry import Adapter

_CLAUDE_TYPES = {
    "user",
    "assistant",
    "system",
    "summary",
    "file-history-snapshot",
    "queue-operation",
    "progress",
    "attachment",
    "permission-mode",
    "mode",
    "last-prompt",
    "ai-title",
    "custom-title",
    "pr-link",
}


def default_roots() -> list[Path]:
    env = os.environ.get("CLAUDE_CONFIG_DIR")
    roots = [Path(p) for p in env.split(",")] if env else [Path.home() / ".claude"]
    return [r / "projects" if (r / "projects").is_dir() else r for r in roots]


def discover(root: Path) -> Iterable[Path]:
    """Every ``*.jsonl`` under a projects dir: main transcripts, flat ``agent-*.jsonl`` and
    ``<session>/subagents/**/agent-*.jsonl`` (workflow ``journal.jsonl`` files are not
    transcripts and are skipped)."""
    for p in sorted(root.rglob("*.jsonl")):
        if p.name == "journal.jsonl" or p.name == "history.jsonl":
            continue
        yield p


def sniff(objs: list[dict[str, Any]]) -> int:
    """Score how much the first decoded lines of a file look like Claude Code."""
    score = 0
    for d in objs:
        t = d.get("type")
        msg = d.get("message")
        if "sessionId" in d and ("parentUuid" in d or "uuid" in d):
            score += 3
        elif isinstance(msg, dict) and msg.get("role") in ("user", "assistant") and ("sessionId" in d or "requestId" in d or "costUSD" in d):
            score += 3
        elif t in ("summary", "file-history-snapshot", "queue-operation") and "payload" not in d:
            score += 2
        elif t in _CLAUDE_TYPES and "payload" not in d and t != "session":
            score += 1
    return score


def parse(path: str | Path, start_offset: int = 0, start_line: int = 0, state: dict | None = None):
    return ClaudeParser(path, state).parse(start_offset, start_line)


ADAPTER = Adapter(
    name=AGENT,
    parser_version=PARSER_VERSION,
    parse=parse,
    sniff=sniff,
    default_roots=default_roots,
    discover=discover,
    env_var="CLAUDE_CONFIG_DIR",
)
