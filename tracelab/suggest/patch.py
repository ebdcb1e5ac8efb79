"""Place-ready snippets (``--format patch``) and the opt-in ``--apply``.

:func:`write_patch` writes, per project, the fragments a user merges by hand::

    OUT/<project>/.claude/settings.json   JSON to merge into the project's Claude Code settings
    OUT/<project>/.gemini/settings.json   the same for Gemini CLI (tools.allowed / tools.exclude)
    OUT/<project>/CLAUDE.md | AGENTS.md | GEMINI.md   the Markdown section with the rules
    OUT/codex/tracelab.rules              Codex execution-policy rules (~/.codex/rules/)
    OUT/README.md                         which suggestion went where

Suggestions that did not hold out of time are listed in the README but left out of the snippets
(and out of ``--apply``).

:func:`apply` changes a project's real files only when asked to: it merges the Claude Code
settings fragment (never dropping or overwriting an existing key, see
:func:`.render.merge`) and replaces or appends the Markdown section, shows the unified diff
first, and keeps a timestamped backup of every file it changes.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from tracelab.errors import InputError

from . import render

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _rows(frame: pl.DataFrame, *, holding: bool = False) -> list[dict[str, Any]]:
    """The frame's rows with ``details`` parsed; ``holding`` drops those that do not hold out of time."""
    rows = [r for r in frame.to_dicts() if not holding or r["oot"] != "does not hold"]
    for r in rows:
        r["details"] = json.loads(r["details"]) if isinstance(r["details"], str) else r["details"]
    return rows


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=False) + "\n"


def write_patch(frame: pl.DataFrame, out: str | Path) -> list[Path]:
    """Write the snippets for every suggestion in ``frame`` under ``out``; returns the files."""
    out = Path(out)
    rows = _rows(frame, holding=True)
    dropped = [r for r in _rows(frame) if r["oot"] == "does not hold"]
    written: list[Path] = []
    readme = ["# Suggested harness changes (tracelab suggest)", "", "Nothing here is applied. Merge each file into the project it names.", ""]
    by_project: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_project.setdefault(r["project"], []).append(r)
    codex_rules: list[str] = []
    for project, rs in sorted(by_project.items()):
        base = out / _SAFE.sub("_", project)
        files: dict[Path, str] = {}
        claude_rows = [r for r in rs if r["agent"] == "claude"]
        settings = render.settings_patch(claude_rows)
        if settings:
            files[base / ".claude" / "settings.json"] = _dump(settings)
        gem = render.gemini_patch([r for r in rs if r["agent"] == "gemini"])
        if gem:
            files[base / ".gemini" / "settings.json"] = _dump(gem)
        for agent in sorted({r["agent"] for r in rs}):
            section = render.markdown_section([r for r in rs if r["agent"] == agent])
            if section:
                path = base / render.INSTRUCTION_FILES.get(agent, "AGENTS.md")
                files[path] = files.get(path, "") + section
        for r in rs:
            if r["agent"] == "codex":
                c = render.codex(r)
                if c:
                    codex_rules.append(f"# {project}: {r['id']} ({r['oot']})\n{c}")
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
        readme.append(f"## {project}")
        readme.append("")
        for r in rs:
            readme.append(
                f"- `{r['id']}` {r['kind']}/{r['decision']}: {r['title']} → `{r['target']}` (backtest: {r['expected_effect']}; out of time: {r['oot']})"
            )
        readme.append("")
    if dropped:
        readme += ["## Left out: did not hold out of time", ""]
        readme += [f"- `{r['id']}` {r['project']} {r['kind']}/{r['decision']}: {r['title']}" for r in dropped]
        readme.append("")
    if codex_rules:
        path = out / "codex" / "tracelab.rules"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# Codex execution-policy rules learnt by tracelab suggest; copy into ~/.codex/rules/\n\n" + "\n\n".join(codex_rules) + "\n")
        written.append(path)
    out.mkdir(parents=True, exist_ok=True)
    (out / "README.md").write_text("\n".join(readme))
    written.append(out / "README.md")
    return written


def planned_changes(frame: pl.DataFrame, project_dir: str | Path) -> list[tuple[Path, str, str]]:
    """(file, old text, new text) for every Claude Code file of ``project_dir`` the suggestions change."""
    root = Path(project_dir)
    rows = [r for r in _rows(frame, holding=True) if r["agent"] == "claude"]
    changes = []
    settings = render.settings_patch(rows)
    if settings:
        path = root / ".claude" / "settings.json"
        old = path.read_text() if path.exists() else ""
        try:
            current = json.loads(old) if old.strip() else {}
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); fix it before --apply", path=str(path)) from exc
        if not isinstance(current, dict):
            raise InputError(f"{path}: expected a JSON object", path=str(path))
        new = _dump(render.merge(current, settings))
        if new != old:
            changes.append((path, old, new))
    section = render.markdown_section(rows)
    if section:
        path = root / "CLAUDE.md"
        old = path.read_text() if path.exists() else ""
        new = render.merge_markdown(old, section)
        if new != old:
            changes.append((path, old, new))
    return changes


def diff(changes: list[tuple[Path, str, str]]) -> str:
    out: list[str] = []
    for path, old, new in changes:
        out.extend(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}"))
    return "".join(out)


def apply(changes: list[tuple[Path, str, str]], *, confirm: Callable[[str], bool]) -> list[tuple[Path, Path | None]]:
    """Write ``changes`` after ``confirm(diff)`` says yes; returns (file, backup or None)."""
    if not changes or not confirm(diff(changes)):
        return []
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    done = []
    for path, _old, new in changes:
        backup = None
        if path.exists():
            backup = path.with_name(f"{path.name}.{stamp}.bak")
            shutil.copy2(path, backup)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tracelab-tmp")
        tmp.write_text(new)
        tmp.replace(path)
        done.append((path, backup))
    return done
