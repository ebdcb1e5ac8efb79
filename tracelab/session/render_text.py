"""The session timeline for a terminal: header, one line per step (subagents indented under
the call that started them), footer totals. Errors are red, rejections and interrupts yellow.

Colour goes through rich. Without colour (output to a pipe or file, ``--json``'s neighbours,
tests) the lines are written as the plain text rich would print for them, without importing
rich (~0.05 s of a short command's start-up) or laying out ~1,000 lines through it (~0.1 s at
a session of 700 steps); a line holding what rich rewrites (a tab, which it expands by cell
width, or a control code it strips) is still printed through rich, so the output is the same
byte for byte (``tests/test_session_render_text.py``).
"""

from __future__ import annotations

import re
import sys
from typing import IO, Any

from tracelab.session.fmt import duration, tokens
from tracelab.session.model import SessionNode, Step, Totals, cap_text

__all__ = ["render"]

_STYLE = {"error": "bold red", "rejected": "bold yellow", "interrupted": "bold yellow"}
_KIND_STYLE = {"prompt": "bold cyan", "thinking": "dim", "context": "dim", "tool": "bold", "compaction": "magenta", "api_error": "red", "interrupt": "yellow"}

#: what rich does not print as it is: a tab (expanded to cell-width tab stops) and the control
#: codes its Text strips (bell, backspace, vertical tab, form feed, carriage return)
_RICH_REWRITES = re.compile("[\t\x07\x08\x0b\x0c\r]")


class _Line:
    """One printed line: text pieces with rich styles (the operations a ``rich.text.Text`` would
    get), printed plain or replayed on a ``Text`` when coloured."""

    __slots__ = ("ops",)

    def __init__(self, text: str = "", style: str = "") -> None:
        self.ops: list[tuple[bool, str, Any]] = [(True, text, style)]

    def append(self, text: str, style: str = "") -> None:
        self.ops.append((True, text, style))

    def stylize(self, style: str, start: int) -> None:
        self.ops.append((False, style, start))

    @property
    def plain(self) -> str:
        return "".join(text for is_text, text, _ in self.ops if is_text)

    def rich(self) -> Any:
        from rich.text import Text

        _, text, style = self.ops[0]
        out = Text(text, style=style)
        for is_text, a, b in self.ops[1:]:
            if is_text:
                out.append(a, style=b)
            else:
                out.stylize(a, b)
        return out


class _Printer:
    """Prints lines (:class:`_Line` or a plain string) as ``rich.console.Console(...).print``
    would, through rich only when colouring or when a line holds what rich rewrites."""

    def __init__(self, out: IO[str] | None, color: bool | None) -> None:
        self.out = out if out is not None else sys.stdout
        self.color = color
        self._console: Any = None

    @property
    def console(self) -> Any:
        if self._console is None:
            from rich.console import Console

            c = self.color
            self._console = Console(
                file=self.out, highlight=False, soft_wrap=True, emoji=False, no_color=c is False, force_terminal=c or None, force_jupyter=False
            )
        return self._console

    def print(self, line: _Line | str = "") -> None:
        text = line.plain if isinstance(line, _Line) else line
        if self.color is False and not _RICH_REWRITES.search(text):
            self.out.write(text + "\n")
        elif isinstance(line, _Line):
            self.console.print(line.rich())
        else:
            self.console.print(line, markup=False)


def _totals_line(t: Totals) -> str:
    cost = "" if t.cost_usd is None else f", ${t.cost_usd:.4f}"
    return (
        f"{t.steps} steps, {t.llm_calls} LLM calls, {t.tool_calls} tool calls, {t.errors} errors, {t.subagents} subagents; "
        f"tokens {t.total_tokens:,} (input {t.input_tokens:,}, cache read {t.cache_read_tokens:,}, cache write {t.cache_write_tokens:,}, output {t.output_tokens:,}){cost}"
    )


def _one_line(text: str) -> str:
    """A header field on one line: runs of whitespace (newlines too) become one space."""
    return " ".join(text.split())


def _header(console: _Printer, node: SessionNode) -> None:
    f = node.facts
    h = {k: _one_line(v) if isinstance(v, str) else v for k, v in node.header().items()}
    console.print(_Line(f"session {h['session_key']}", style="bold"))
    if h["title"]:
        console.print(f"  title     {h['title']}")
    console.print(f"  agent     {h['agent']} {h['agent_version'] or ''}".rstrip())
    console.print(f"  project   {h['project'] or '-'}   branch {h['git_branch'] or '-'}   cwd {h['cwd'] or '-'}")
    console.print(f"  models    {', '.join(h['models'] or []) or '-'}")
    when = f"{f['started_at']:%Y-%m-%d %H:%M:%S} UTC" if f.get("started_at") else "-"
    console.print(f"  started   {when}, lasted {duration(f.get('duration_s')) or '-'}")
    if h["parent_session_key"]:
        console.print(f"  parent    {h['parent_session_key']}")
    if h["forked_from"]:
        console.print(f"  forked    from {h['forked_from']}")
    console.print(f"  files     {', '.join(h['source_files'])}")
    console.print(f"  totals    {_totals_line(node.own_totals())}")
    console.print()


def _step_line(s: Step, indent: str, shown_calls: set[tuple[str, int]], session_key: str) -> _Line:
    line = _Line(indent)
    line.append(f"{s.n:>4} ", style="dim")
    line.append(f"{s.ts:%H:%M:%S} " if s.ts else "         ", style="dim")
    line.append(f"{('+' + duration(s.offset_s)) if s.offset_s is not None else '':>8} ", style="dim")
    line.append(f"{s.kind:<12} ", style=_KIND_STYLE.get(s.kind, ""))
    if s.tool:
        line.append(s.tool + " ", style="bold")
    line.append(s.summary)
    extra = []
    if s.status and s.status != "ok":
        extra.append(s.status)
    if s.exit_code is not None:
        extra.append(f"exit {s.exit_code}")
    if s.latency_ms is not None:
        extra.append(duration(s.latency_ms / 1000))
    if s.call_no is not None and (session_key, s.call_no) not in shown_calls:
        shown_calls.add((session_key, s.call_no))
        extra.append(f"call {s.call_no}: {tokens(s.call_tokens)} tok")
    if s.branch == "abandoned":
        extra.append("abandoned branch")
    if extra:
        line.append("  [" + ", ".join(extra) + "]", style="dim" if not s.highlight else _STYLE[s.highlight])
    if s.clusters:
        line.append("  cluster " + " ".join(c.split(":", 1)[1] for c in s.clusters), style="magenta")
    if s.highlight:
        line.stylize(_STYLE[s.highlight], len(indent) + 5)
    return line


def _body(console: _Printer, s: Step, indent: str, cap: int) -> None:
    for label, value, size in (("text", s.text, s.text_bytes), ("input", s.input, s.input_bytes), ("output", s.output, s.output_bytes)):
        if not value:
            continue
        shown, cut = cap_text(value, cap)
        shown = shown or ""
        note = f" (first {len(shown.encode()):,} of {size or len(value.encode()):,} bytes)" if cut or (size and size > len(value.encode())) else ""
        console.print(_Line(f"{indent}       {label}{note}:", style="dim"))
        for ln in shown.splitlines() or [""]:
            console.print(_Line(f"{indent}       │ {ln}"))


def _steps(console: _Printer, node: SessionNode, steps: list[Step], depth: int, full: bool, cap: int, shown: set[tuple[str, int]]) -> None:
    indent = "    │ " * depth
    for s in steps:
        console.print(_step_line(s, indent, shown, node.key))
        if full:
            _body(console, s, indent, cap)
        if s.subagent is not None:
            _subagent(console, s.subagent, depth + 1, full, cap, shown)
        elif s.subagent_key:
            console.print(_Line(f"{indent}    │ subagent {s.subagent_key} (not expanded: --depth)", style="dim"))
    for child in node.unlinked:
        console.print(_Line(f"{indent}  subagent not linked to a tool call:", style="dim"))
        _subagent(console, child, depth + 1, full, cap, shown)


def _subagent(console: _Printer, child: SessionNode, depth: int, full: bool, cap: int, shown: set[tuple[str, int]]) -> None:
    indent = "    │ " * depth
    t = child.own_totals()
    head = _Line(f"{indent}subagent {child.key}", style="bold blue")
    if not child.expanded:
        head.append(f"  (not expanded; {t.llm_calls} LLM calls, {t.tool_calls} tool calls, {t.total_tokens:,} tokens)", style="dim")
        console.print(head)
        return
    console.print(head)
    _steps(console, child, child.steps, depth, full, cap, shown)
    console.print(_Line(f"{indent}└ subagent totals: {_totals_line(t)}", style="blue"))


def render(node: SessionNode, steps: list[Step] | None = None, *, full: bool = False, cap: int = 4096, out: Any = None, color: bool | None = None) -> None:
    """Print the timeline of ``node`` (only ``steps`` of the root when given: --step/--around)."""
    console = _Printer(out, color)
    _header(console, node)
    shown: set[tuple[str, int]] = set()
    chosen = node.steps if steps is None else steps
    if steps is not None and len(chosen) < len(node.steps):
        span = f"step {chosen[0].n}" if len(chosen) == 1 else f"steps {chosen[0].n}–{chosen[-1].n}"
        console.print(_Line(f"{span} of {len(node.steps)}", style="dim"))
    _steps(console, node, chosen, 0, full, cap, shown)
    console.print()
    console.print(_Line("session  " + _totals_line(node.own_totals()), style="bold"))
    if node.children():
        console.print(_Line("with subagents  " + _totals_line(node.tree_totals()), style="bold"))
