"""One-line summaries of steps: the command of a shell call, the path of a file call, …"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["FILE_TOOLS", "SHELL_TOOLS", "EDIT_TOOLS", "input_summary", "one_line", "parse_input"]

#: tools whose input is a shell command (the same list as ``tl_is_shell`` in queries/_macros.sql)
SHELL_TOOLS = frozenset({"Bash", "BashOutput", "bash", "bash (user)", "shell", "exec_command", "local_shell", "shell_command", "container.exec"})
#: tools whose input names a file
FILE_TOOLS = frozenset({"Read", "Write", "Edit", "MultiEdit", "NotebookEdit", "NotebookRead", "LS", "read", "write", "edit", "ls", "view", "apply_patch"})
#: tools whose input is an edit a unified diff can show
EDIT_TOOLS = frozenset({"Edit", "MultiEdit", "Write", "edit", "write", "apply_patch"})

_WS = re.compile(r"\s+")
_PATCH_FILE = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+)$", re.M)


def one_line(text: str | None, width: int = 100) -> str:
    """``text`` on one line (runs of white space become one space), cut to ``width`` characters with '…'."""
    if not text:
        return ""
    s = _WS.sub(" ", text).strip()
    return s if len(s) <= width else s[: width - 1] + "…"


def parse_input(input_json: str | None) -> Any:
    """The tool input as Python data (None when absent or not JSON: capped inputs are cut JSON)."""
    if not input_json:
        return None
    try:
        return json.loads(input_json)
    except ValueError:
        return None


def _command(value: Any) -> str | None:
    if isinstance(value, list):
        parts = [str(v) for v in value]
        # codex's ["bash", "-lc", "cmd"] is the command "cmd"
        if len(parts) == 3 and parts[1] in ("-lc", "-c") and parts[0].endswith("sh"):
            return parts[2]
        return " ".join(parts)
    if isinstance(value, str):
        return value
    return None


def input_summary(tool: str | None, input_json: str | None, width: int = 100) -> str:
    """One line saying what a tool call did: the command for shell tools, the path for file
    tools, the pattern for searches, the URL or query for web tools, the description for
    subagent tools, else the input's first values."""
    data = parse_input(input_json)
    if data is None:
        return one_line(input_json, width)
    if not isinstance(data, dict):
        return one_line(_command(data) or json.dumps(data, ensure_ascii=False), width)
    name = tool or ""
    if name in SHELL_TOOLS:
        for k in ("command", "cmd", "argv"):
            if k in data and (c := _command(data[k])):
                return one_line(c, width)
        if "bash_id" in data:
            return one_line(f"shell {data['bash_id']}", width)
        if "chars" in data:
            return one_line(f"stdin → {data.get('session_id', '')}: {data['chars']!r}", width)
    if name == "apply_patch" or (isinstance(data.get("input"), str) and "*** Begin Patch" in data["input"]):
        files = _PATCH_FILE.findall(str(data.get("input") or data.get("patch") or ""))
        if files:
            return one_line(", ".join(files), width)
    for k in ("file_path", "path", "notebook_path", "filePath"):
        if isinstance(data.get(k), str):
            extra = ""
            if name in ("Read", "read") and (data.get("offset") or data.get("limit")):
                extra = f" (from line {data.get('offset') or 1}" + (f", {data['limit']} lines)" if data.get("limit") else ")")
            if name in ("Grep", "Glob", "grep", "find") and data.get("pattern"):
                return one_line(f"{data['pattern']}  in {data[k]}", width)
            return one_line(data[k] + extra, width)
    if name in ("Task", "Agent", "spawn_agent"):
        kind = data.get("subagent_type") or data.get("agent_type") or data.get("name")
        desc = data.get("description") or data.get("prompt") or data.get("message") or ""
        return one_line(f"{kind}: {desc}" if kind else str(desc), width)
    if name == "TodoWrite" and isinstance(data.get("todos"), list):
        todos = data["todos"]
        doing = [t.get("content", "") for t in todos if isinstance(t, dict) and t.get("status") == "in_progress"]
        return one_line(f"{len(todos)} todos" + (f"; doing: {doing[0]}" if doing else ""), width)
    for k in ("pattern", "query", "url", "command", "cmd", "description", "subject", "skill", "prompt", "plan", "question", "content"):
        v = data.get(k)
        if isinstance(v, str) and v:
            return one_line(v, width)
        if k in ("command", "cmd") and (c := _command(v)):
            return one_line(c, width)
    parts = []
    for k, v in data.items():
        if isinstance(v, (str, int, float, bool)):
            parts.append(f"{k}={v}")
        if len(parts) >= 4:
            break
    return one_line(" ".join(parts) if parts else json.dumps(data, ensure_ascii=False), width)
