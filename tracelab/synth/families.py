"""Failure families: templated error texts with variable parts.

Every injected tool failure belongs to exactly one family. Its rendered text (the template
with the variables filled in) appears verbatim inside the failing tool result, possibly
surrounded by context (a traceback, an ``Exit code N`` header, ``<tool_use_error>`` tags are
part of the template where the agent really writes them). ``truth_failures.jsonl`` records the
family id and the rendered text for each failure, and :meth:`Family.regex` matches any
rendering of the template, which is what a failure-clustering test can check against.

Which tools can fail with which family is configured per tool in :mod:`.config`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from . import config
from . import text as T

_VAR = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Rendered:
    family: str
    text: str
    vars: dict[str, str]


@dataclass(frozen=True)
class Family:
    id: str
    template: str
    exit_code: int | None = None  #: exit code a shell reports for this failure

    @cached_property
    def variables(self) -> tuple[str, ...]:
        return tuple(_VAR.findall(self.template))

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """Matches (``fullmatch``) any rendering of the template."""
        parts: list[str] = []
        pos = 0
        for m in _VAR.finditer(self.template):
            parts.append(re.escape(self.template[pos : m.start()]))
            parts.append("(.+?)")
            pos = m.end()
        parts.append(re.escape(self.template[pos:]))
        return re.compile("".join(parts), re.DOTALL)

    def render(self, rng: random.Random, **fixed: str) -> Rendered:
        values = {}
        for name in self.variables:
            if name not in values:
                values[name] = fixed[name] if name in fixed else _VAR_GEN[name](rng)
        return Rendered(self.id, self.template.format(**values), values)


def _int(lo: int, hi: int) -> Callable[[random.Random], str]:
    return lambda rng: str(rng.randint(lo, hi))


def _assert_operand(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return str(rng.randint(0, 2000))
    if kind < 0.7:
        return repr(rng.choice(T.WORDS))
    if kind < 0.85:
        return "None"
    return "[" + ", ".join(str(rng.randint(0, 9)) for _ in range(rng.randint(1, 4))) + "]"


_VAR_GEN: dict[str, Callable[[random.Random], str]] = {
    "mod": lambda rng: rng.choice(T.PY_MODULES),
    "pkg": lambda rng: rng.choice(T.NPM_PACKAGES),
    "ver": lambda rng: f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}",
    "file": lambda rng: f"test_{rng.choice(T.WORDS)}.py",
    "test": lambda rng: f"test_{rng.choice(T.VERBS)}_{rng.choice(T.WORDS)}_{rng.choice(('empty', 'roundtrip', 'invalid', 'large', 'unicode'))}",
    "a": _assert_operand,
    "b": _assert_operand,
    "prog": lambda rng: rng.choice(T.PERM_PROGS),
    "path": lambda rng: rng.choice(T.PERM_PATHS),
    "n": lambda rng: str(rng.choice((30, 60, 120, 300, 600))),
    "name": lambda rng: rng.choice(T.TS_NAMES),
    "key": lambda rng: rng.choice(T.DICT_KEYS),
    "cmd": lambda rng: rng.choice(T.MISSING_CMDS),
    "line": _int(3, 900),
    "col": _int(1, 60),
    "kb": _int(257, 2400),
    "snippet": lambda rng: f"    {rng.choice(T.WORDS)} = {rng.choice(T.VERBS)}_{rng.choice(T.WORDS)}({rng.choice(T.WORDS)})",
    "count": _int(2, 9),
    "code": lambda rng: rng.choice(T.HTTP_CODES),
    "msg": lambda rng: rng.choice(T.MCP_MESSAGES),
    "tool": lambda rng: "TodoWrite",
    "param": lambda rng: rng.choice(("todos", "pattern", "prompt", "subagent_type")),
    "agent_type": lambda rng: rng.choice(T.BAD_AGENT_TYPES),
    "gofile": lambda rng: f"internal/{rng.choice(T.WORDS)}/{rng.choice(T.WORDS)}",
    "rsname": lambda rng: rng.choice(T.RUST_NAMES),
    "goname": lambda rng: rng.choice(T.GO_NAMES),
}

_FAMILY_LIST = (
    Family("py_module_not_found", "ModuleNotFoundError: No module named '{mod}'", 1),
    Family("pytest_failed", "FAILED tests/{file}::{test} - AssertionError: assert {a} == {b}", 1),
    Family("npm_404", "npm ERR! 404 '{pkg}@{ver}' is not in this registry.", 1),
    Family("git_not_repo", "fatal: not a git repository (or any of the parent directories): .git", 128),
    Family("permission_denied", "{prog}: {path}: Permission denied", 126),
    Family("command_timeout", "Command timed out after {n}s", 124),
    Family("ts_cannot_find_name", "error TS2304: Cannot find name '{name}'.", 2),
    Family("py_keyerror", "KeyError: '{key}'", 1),
    Family("command_not_found", "bash: {cmd}: command not found", 127),
    Family("rust_cannot_find_value", "error[E0425]: cannot find value `{rsname}` in this scope", 101),
    Family("go_undefined", "{gofile}.go:{line}:{col}: undefined: {goname}", 1),
    Family("file_not_found", "<tool_use_error>File does not exist.</tool_use_error>"),
    Family(
        "read_too_large",
        "File content ({kb}KB) exceeds maximum allowed size (256KB). Please use offset and limit parameters "
        "to read specific portions of the file, or use the GrepTool to search for specific content.",
    ),
    Family("edit_string_not_found", "<tool_use_error>String to replace not found in file.\nString: {snippet}</tool_use_error>"),
    Family(
        "edit_multiple_matches",
        "<tool_use_error>Found {count} matches of the string to replace, but replace_all is false. To replace "
        "all occurrences, set replace_all to true. To replace only one occurrence, please provide more context "
        "to uniquely identify the instance.\nString: {snippet}</tool_use_error>",
    ),
    Family("file_not_read_yet", "<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>"),
    Family("path_not_found", "<tool_use_error>Path does not exist: {path}</tool_use_error>"),
    Family(
        "input_validation",
        "<tool_use_error>InputValidationError: {tool} failed due to the following issue:\nThe required parameter `{param}` is missing</tool_use_error>",
    ),
    Family("agent_type_unknown", "Agent type '{agent_type}' not found. Available agents: general-purpose, statusline-setup, Explore, Plan"),
    Family("http_error", "Request failed with status code {code}"),
    Family("mcp_error", "MCP error -32603: {msg}"),
    Family("apply_patch_mismatch", "apply_patch verification failed: Failed to find expected lines in {path}:\n{snippet}"),
    Family("write_stdin_closed", "write_stdin failed: stdin is closed for this session; rerun exec_command with tty=true to keep stdin open"),
    Family("pi_edit_no_match", "Could not find the exact text in {path}. The old text must match exactly including all whitespace and newlines."),
    Family("enoent", "ENOENT: no such file or directory, access '{path}'"),
    Family("eacces", "EACCES: permission denied, open '{path}'"),
)

FAMILIES: dict[str, Family] = {f.id: f for f in _FAMILY_LIST}


def family_tools() -> dict[str, dict[str, list[str]]]:
    """family id -> agent -> tool names that can fail with it (from :data:`config.TOOLS`)."""
    out: dict[str, dict[str, list[str]]] = {fid: {} for fid in FAMILIES}
    for agent, tools in config.TOOLS.items():
        for t in tools:
            for fid, _w in t.families:
                out[fid].setdefault(agent, []).append(t.name)
    return out


def _check() -> None:
    for tools in config.TOOLS.values():
        for t in tools:
            for fid, _w in t.families:
                if fid not in FAMILIES:
                    raise KeyError(f"{t.agent}/{t.name} names unknown family {fid!r}")
    for f in _FAMILY_LIST:
        missing = [v for v in f.variables if v not in _VAR_GEN]
        if missing:
            raise KeyError(f"family {f.id} uses unknown variables {missing}")


_check()
