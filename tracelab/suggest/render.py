"""Suggestions in each harness's own syntax, and place-ready snippets.

Permission rules (syntax from each harness's documentation):

* **Claude Code** ``.claude/settings.json``: ``{"permissions": {"allow"|"deny"|"ask": [rule]}}``
  with ``Bash(prefix:*)`` (the command and anything after it, on a word boundary),
  ``Bash(exact command)``, or an MCP tool name ``mcp__server__tool``. Hooks go under
  ``{"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": …}]}]}}``;
  a hook command that exits 2 blocks the call and its stderr is shown to the model.
* **Codex CLI** execution-policy rules (Starlark, a ``.rules`` file in ``~/.codex/rules/``):
  ``prefix_rule(pattern=["tok", …], decision="allow"|"prompt"|"forbidden", justification=…)``.
  A prefix rule matches the tokens and anything after them, so an *exact* command is not
  rendered for Codex (the rule would be wider than the evidence).
* **Gemini CLI** ``.gemini/settings.json``: ``{"tools": {"allowed": ["run_shell_command(prefix)"],
  "exclude": ["run_shell_command(prefix)"]}}`` (prefix match; no "ask" list, no exact match).
* **Pi** has no permission settings (permissions are left to extensions): nothing is rendered.

Instruction, loop and boundary rules become Markdown bullets in a section
:data:`SECTION` of ``CLAUDE.md`` (Claude Code), ``AGENTS.md`` (Codex, Pi) or ``GEMINI.md``
(Gemini CLI), in the project the evidence comes from.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

SECTION = "## Learned from past sessions (tracelab suggest)"
INSTRUCTION_FILES = {"claude": "CLAUDE.md", "codex": "AGENTS.md", "pi": "AGENTS.md", "gemini": "GEMINI.md"}
HARNESSES = ("claude", "codex", "gemini", "pi")


def _hook_command(prefix: list[str], message: str) -> str:
    pattern = " ".join(prefix)
    msg = f"tracelab: `{pattern}` always failed in this project ({message[:100]})"
    return (
        f"jq -r '.tool_input.command // empty' | grep -qE {shlex.quote('^' + _ere(pattern) + '( |$)')} && {{ echo {shlex.quote(msg)} >&2; exit 2; }} || exit 0"
    )


def _ere(text: str) -> str:
    return "".join("\\" + c if c in ".^$*+?()[]{}|\\" else c for c in text)


def claude(row: dict[str, Any]) -> dict[str, Any] | None:
    """The Claude Code settings fragment for one suggestion (None when it has no settings form)."""
    kind, decision = row["kind"], row["decision"]
    if kind == "permission":
        return {"permissions": {decision: [row["rule"]]}}
    if kind == "hook" and row["tool_family"] == "shell":
        return {
            "hooks": {
                "PreToolUse": [
                    {"matcher": row["tool"], "hooks": [{"type": "command", "command": _hook_command(row["details"]["prefix"], row["details"]["message"])}]}
                ]
            }
        }
    return None


def codex(row: dict[str, Any]) -> str | None:
    kind, decision, d = row["kind"], row["decision"], row["details"]
    if row["tool_family"] != "shell" or d.get("exact") or kind not in ("permission", "hook"):
        return None
    codex_decision = {"allow": "allow", "ask": "prompt", "deny": "forbidden", "hook": "forbidden"}[decision]
    justification = row["rule"] if kind == "hook" else f"tracelab suggest {row['id']}: {row['title']}"
    return f"prefix_rule(pattern={json.dumps(d['prefix'])}, decision={json.dumps(codex_decision)}, justification={json.dumps(justification)})"


def gemini(row: dict[str, Any]) -> dict[str, Any] | None:
    kind, decision, d = row["kind"], row["decision"], row["details"]
    if row["tool_family"] != "shell" or d.get("exact") or kind not in ("permission", "hook") or decision == "ask":
        return None
    key = "allowed" if decision == "allow" else "exclude"
    return {"tools": {key: [f"run_shell_command({' '.join(d['prefix'])})"]}}


def markdown_bullet(row: dict[str, Any]) -> str | None:
    if row["kind"] in ("instruction", "loop", "boundary"):
        return f"- {row['rule']} <!-- {row['id']} -->"
    return None


def renderings(row: dict[str, Any]) -> dict[str, str | None]:
    c, g = claude(row), gemini(row)
    bullet = markdown_bullet(row)
    return {
        "claude": json.dumps(c, sort_keys=True) if c else bullet,
        "codex": codex(row) or bullet,
        "gemini": json.dumps(g, sort_keys=True) if g else bullet,
        "pi": bullet,
    }


def target_file(row: dict[str, Any]) -> str:
    if row["kind"] == "permission" or (row["kind"] == "hook" and row["tool_family"] == "shell"):
        return {"claude": ".claude/settings.json", "codex": "~/.codex/rules/tracelab.rules", "gemini": ".gemini/settings.json"}.get(
            row["agent"], "(no permission settings)"
        )
    return INSTRUCTION_FILES.get(row["agent"], "AGENTS.md")


# ------------------------------------------------------------------ merging and sections
def merge(base: Any, patch: Any) -> Any:
    """Deep merge ``patch`` into ``base`` without losing anything: objects merge key by key,
    lists gain the items they lack (in order), and a scalar already in ``base`` is kept."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = merge(base[k], v) if k in base else v
        return out
    if isinstance(base, list) and isinstance(patch, list):
        return base + [x for x in patch if x not in base]
    return base


def settings_patch(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One Claude Code settings fragment for several suggestions."""
    out: dict[str, Any] = {}
    for r in rows:
        frag = claude(r)
        if frag is not None:
            out = merge(out, frag)
    return out


def gemini_patch(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in rows:
        frag = gemini(r)
        if frag is not None:
            out = merge(out, frag)
    return out


def markdown_section(rows: list[dict[str, Any]]) -> str:
    bullets = [b for b in (markdown_bullet(r) for r in rows) if b]
    if not bullets:
        return ""
    return SECTION + "\n\n" + "\n".join(bullets) + "\n"


def merge_markdown(existing: str, section: str) -> str:
    """``existing`` with the tracelab section replaced (or appended); other text untouched."""
    if not section:
        return existing
    if SECTION in existing:
        before, _, rest = existing.partition(SECTION)
        nxt = rest.find("\n## ")
        after = rest[nxt + 1 :] if nxt >= 0 else ""
        return before + section + ("\n" + after if after else "")
    if not existing.strip():
        return section
    return existing.rstrip("\n") + "\n\n" + section
