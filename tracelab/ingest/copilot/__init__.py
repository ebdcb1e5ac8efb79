"""GitHub Copilot CLI adapter: ``$COPILOT_HOME/session-state/<sessionId>/events.jsonl``.

``COPILOT_HOME`` defaults to ``~/.copilot`` (the CLI's own variable). Older CLIs wrote
``session-state/<sessionId>.jsonl``; both are discovered. The stdout of
``copilot -p … --output-format json`` (same envelope plus ephemeral streaming events) is read
when named or found in a directory. Format notes: ``README.md`` beside this file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tracelab.ingest.copilot.parse import AGENT, PARSER_VERSION, CopilotParser
from tracelab.ingest.registry import Adapter

__all__ = ["ADAPTER", "default_roots", "discover", "sniff"]


def default_roots() -> list[Path]:
    env = os.environ.get("COPILOT_HOME")
    base = Path(env).expanduser() if env else Path.home() / ".copilot"
    return [base / "session-state"]


def discover(root: Path) -> Iterable[Path]:
    found = set(root.glob("*/events.jsonl")) | set(root.glob("*.jsonl"))
    yield from sorted(p for p in found if p.is_file())


def sniff(objs: list[dict[str, Any]]) -> int:
    """Copilot's envelope: ``{type: "<area>.<event>", data: {…}, id, timestamp, parentId}``
    (``session.start``, ``user.message``, ``assistant.*``, ``tool.execution_*``, …), or the
    stream's final ``{"type": "result", "sessionId", "usage"}``."""
    score = 0
    for d in objs:
        t = d.get("type")
        if not isinstance(t, str):
            continue
        if "." in t and isinstance(d.get("data"), dict) and "parentId" in d and "id" in d:
            score += 4 if t.split(".", 1)[0] in ("session", "user", "assistant", "tool", "hook", "subagent", "skill", "mcp", "model") else 2
        elif t == "result" and "sessionId" in d and "usage" in d:
            score += 3
    return score


def parse(path: str | Path, start_offset: int = 0, start_line: int = 0, state: dict | None = None):
    return CopilotParser(path, state).parse(start_offset, start_line)


ADAPTER = Adapter(
    name=AGENT,
    parser_version=PARSER_VERSION,
    parse=parse,
    sniff=sniff,
    default_roots=default_roots,
    discover=discover,
    env_var="COPILOT_HOME",
)
