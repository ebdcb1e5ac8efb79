"""Unified diffs of edit tool calls (Claude Edit/MultiEdit/Write, Pi edit/write, Codex apply_patch)."""

from __future__ import annotations

import difflib
from typing import Any

from tracelab.session.summary import parse_input

__all__ = ["edit_diff"]


def _udiff(old: str, new: str, path: str) -> list[str]:
    return list(difflib.unified_diff(old.splitlines(), new.splitlines(), path, path, lineterm="", n=2))


def edit_diff(tool: str | None, input_json: str | None) -> str | None:
    """The change an edit call asked for as a unified diff (None for other calls or an input
    that is not whole JSON, e.g. one capped in the warehouse)."""
    data: Any = parse_input(input_json)
    if not isinstance(data, dict):
        return None
    path = str(data.get("file_path") or data.get("path") or data.get("filePath") or "file")
    lines: list[str] = []
    if tool in ("Edit", "edit"):
        old = data.get("old_string", data.get("oldText"))
        new = data.get("new_string", data.get("newText"))
        if isinstance(old, str) and isinstance(new, str):
            lines = _udiff(old, new, path)
        elif isinstance(data.get("edits"), list):
            tool = "MultiEdit"
    if tool == "MultiEdit" and isinstance(data.get("edits"), list):
        for e in data["edits"]:
            if isinstance(e, dict):
                old = e.get("old_string", e.get("oldText"))
                new = e.get("new_string", e.get("newText"))
                if isinstance(old, str) and isinstance(new, str):
                    lines += _udiff(old, new, path)
    elif tool in ("Write", "write") and isinstance(data.get("content"), str):
        lines = _udiff("", data["content"], path)
    elif tool == "apply_patch":
        patch = data.get("input") or data.get("patch")
        if isinstance(patch, str):
            return patch
    return "\n".join(lines) if lines else None
