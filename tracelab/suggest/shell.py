"""Shell commands as the permission miner sees them: one simple command, its tokens, its head.

A command line is split into segments at ``&&``, ``||``, ``;`` and ``|``. Leading ``cd DIR``
segments are dropped (the harness runs in the project anyway), and so are trailing
output filters after a pipe (``| tail -3``, ``| head``, ``| grep x``) and redirections
(``2>&1``, ``>/dev/null``). What remains must be exactly one segment: anything else is a
compound command, and compound commands never become allow rules (Claude Code and Codex
match rules per simple command, and a prefix rule for ``a && b`` would not mean what the
evidence means).

The *head* of a simple command is its leading words up to the first token that looks like an
argument (a flag, a path, a number, an assignment, a URL), at most :data:`HEAD_MAX` words:
``uv run pytest -q tests/`` → ``uv run pytest``; ``git push --force origin`` → ``git push``.
Calls are grouped by head; a rule's prefix is the longest common token prefix of the
calls it is learnt from, so it is never wider than the evidence.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

HEAD_MAX = 4
_SPLIT = re.compile(r"\s*(?:&&|\|\||;|\|(?!\|))\s*")
_REDIRECT = re.compile(r"\s*(?:\d?>>?&?\s*\S+|<\s*\S+)")
_FILTERS = frozenset({"tail", "head", "grep", "rg", "less", "more", "wc", "sort", "uniq", "cat", "tee", "jq", "cut", "awk", "sed", "column"})
_ARGLIKE = re.compile(r"^(?:-|\.|/|~|\$|\d|[A-Z]{2,}|[A-Za-z_][A-Za-z0-9_]*=)|[/=:@\\*?~^]|\.(?:py|ts|js|go|rs|json|toml|md|txt|yml|yaml|sh)$")
#: Programs an allow rule is never suggested for, however often they were approved: they
#: delete, escalate, or run arbitrary code given as an argument or from a file (``act`` runs
#: GitHub Actions workflows, ``docker``/``kubectl`` whatever image or manifest they are given).
NEVER_ALLOW = frozenset(
    {
        "rm",
        "sudo",
        "su",
        "dd",
        "mkfs",
        "chmod",
        "chown",
        "kill",
        "pkill",
        "killall",
        "eval",
        "exec",
        "sh",
        "bash",
        "zsh",
        "xargs",
        "curl",
        "wget",
        "ssh",
        "scp",
        "act",
        "docker",
        "kubectl",
        "terraform",
    }
)
#: Interpreters and runners: an allow rule must name at least one word after them.
RUNNERS = frozenset({"python", "python3", "node", "npx", "uv", "uvx", "bun", "deno", "go", "cargo", "npm", "pnpm", "yarn", "make", "git", "docker", "poetry"})


@dataclass(frozen=True)
class Simple:
    """A command reduced to one simple command (``None`` fields when it is compound)."""

    text: str | None  #: the simple command's text, normalised whitespace
    tokens: tuple[str, ...]
    head: tuple[str, ...]
    compound: bool


def _tokens(segment: str) -> list[str]:
    try:
        return shlex.split(segment, comments=False, posix=True)
    except ValueError:
        return segment.split()


def simplify(command: str | None) -> Simple:
    if not command or not command.strip():
        return Simple(None, (), (), True)
    line = command.strip()
    if "\n" in line or "`" in line or "$(" in line or line.startswith("("):
        return Simple(None, (), (), True)
    parts = _SPLIT.split(line)
    seps = _SPLIT.findall(line)
    # drop leading `cd DIR &&` segments
    while len(parts) > 1 and parts[0].startswith("cd ") and seps and seps[0].strip() == "&&":
        parts.pop(0)
        seps.pop(0)
    # drop trailing output filters after a pipe
    while len(parts) > 1 and seps and seps[-1].strip() == "|" and (_tokens(parts[-1]) or [""])[0] in _FILTERS:
        parts.pop()
        seps.pop()
    if len(parts) != 1:
        return Simple(None, (), (), True)
    seg = _REDIRECT.sub("", parts[0]).strip()
    toks = _tokens(seg)
    while toks and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", toks[0]):  # FOO=1 cmd
        toks.pop(0)
    if not toks:
        return Simple(None, (), (), True)
    return Simple(" ".join(toks), tuple(toks), head(toks), False)


def head(tokens: Sequence[str]) -> tuple[str, ...]:
    out = [tokens[0]]
    for t in tokens[1:HEAD_MAX]:
        if _ARGLIKE.search(t):
            break
        out.append(t)
    return tuple(out)


def common_prefix(rows: Sequence[Sequence[str]]) -> tuple[str, ...]:
    if not rows:
        return ()
    first = rows[0]
    n = min(len(r) for r in rows)
    i = 0
    while i < n and all(r[i] == first[i] for r in rows):
        i += 1
    return tuple(first[:i])


def starts_with(tokens: Sequence[str], prefix: Sequence[str]) -> bool:
    return len(tokens) >= len(prefix) and tuple(tokens[: len(prefix)]) == tuple(prefix)


def allow_safe(prefix: Sequence[str]) -> bool:
    """Whether an allow rule on this prefix is acceptable at all: not a dangerous program, and
    more than a bare runner (``uv``, ``npm``, ``git``), a runner + option (``git -C``) or a
    runner + verb (``uv run``)."""
    if not prefix or prefix[0] in NEVER_ALLOW or prefix[0].startswith(("./", "/")):
        return False
    if prefix[0] in RUNNERS and (len(prefix) < 2 or prefix[-1].startswith("-")):
        return False  # `git`, `git -C`: any subcommand at all
    if prefix[0] in {"uv", "npm", "pnpm", "yarn", "bun", "poetry"} and len(prefix) >= 2 and prefix[1] in {"run", "exec", "x"} and len(prefix) < 3:
        return False
    return True
