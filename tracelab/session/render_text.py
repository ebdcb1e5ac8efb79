"""The session timeline for a terminal: header, one line per step (subagents indented under
the call that started them), footer totals. Errors are red, rejections and interrupts yellow."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from tracelab.session.fmt import duration, tokens
from tracelab.session.model import SessionNode, Step, Totals, cap_text

__all__ = ["render"]

_STYLE = {"error": "bold red", "rejected": "bold yellow", "interrupted": "bold yellow"}
_KIND_STYLE = {"prompt": "bold cyan", "thinking": "dim", "context": "dim", "tool": "bold", "compaction": "magenta", "api_error": "red", "interrupt": "yellow"}


def _totals_line(t: Totals) -> str:
    cost = "" if t.cost_usd is None else f", ${t.cost_usd:.4f}"
    return (
        f"{t.steps} steps, {t.llm_calls} LLM calls, {t.tool_calls} tool calls, {t.errors} errors, {t.subagents} subagents; "
        f"tokens {t.total_tokens:,} (input {t.input_tokens:,}, cache read {t.cache_read_tokens:,}, cache write {t.cache_write_tokens:,}, output {t.output_tokens:,}){cost}"
    )


def _header(console: Console, node: SessionNode) -> None:
    f = node.facts
    h = node.header()
    console.print(Text(f"session {h['session_key']}", style="bold"))
    if h["title"]:
        console.print(f"  title     {h['title']}", markup=False)
    console.print(f"  agent     {h['agent']} {h['agent_version'] or ''}".rstrip(), markup=False)
    console.print(f"  project   {h['project'] or '-'}   branch {h['git_branch'] or '-'}   cwd {h['cwd'] or '-'}", markup=False)
    console.print(f"  models    {', '.join(h['models'] or []) or '-'}", markup=False)
    when = f"{f['started_at']:%Y-%m-%d %H:%M:%S} UTC" if f.get("started_at") else "-"
    console.print(f"  started   {when}, lasted {duration(f.get('duration_s')) or '-'}", markup=False)
    if h["parent_session_key"]:
        console.print(f"  parent    {h['parent_session_key']}", markup=False)
    if h["forked_from"]:
        console.print(f"  forked    from {h['forked_from']}", markup=False)
    console.print(f"  files     {', '.join(h['source_files'])}", markup=False)
    console.print(f"  totals    {_totals_line(node.own_totals())}", markup=False)
    console.print()


def _step_line(s: Step, indent: str, shown_calls: set[tuple[str, int]], session_key: str) -> Text:
    line = Text(indent)
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


def _body(console: Console, s: Step, indent: str, cap: int) -> None:
    for label, value, size in (("text", s.text, s.text_bytes), ("input", s.input, s.input_bytes), ("output", s.output, s.output_bytes)):
        if not value:
            continue
        shown, cut = cap_text(value, cap)
        shown = shown or ""
        note = f" (first {len(shown.encode()):,} of {size or len(value.encode()):,} bytes)" if cut or (size and size > len(value.encode())) else ""
        console.print(Text(f"{indent}       {label}{note}:", style="dim"))
        for ln in shown.splitlines() or [""]:
            console.print(Text(f"{indent}       │ {ln}"), soft_wrap=True)


def _steps(console: Console, node: SessionNode, steps: list[Step], depth: int, full: bool, cap: int, shown: set[tuple[str, int]]) -> None:
    indent = "    │ " * depth
    for s in steps:
        console.print(_step_line(s, indent, shown, node.key), soft_wrap=True)
        if full:
            _body(console, s, indent, cap)
        if s.subagent is not None:
            _subagent(console, s.subagent, depth + 1, full, cap, shown)
        elif s.subagent_key:
            console.print(Text(f"{indent}    │ subagent {s.subagent_key} (not expanded: --depth)", style="dim"))
    for child in node.unlinked:
        console.print(Text(f"{indent}  subagent not linked to a tool call:", style="dim"))
        _subagent(console, child, depth + 1, full, cap, shown)


def _subagent(console: Console, child: SessionNode, depth: int, full: bool, cap: int, shown: set[tuple[str, int]]) -> None:
    indent = "    │ " * depth
    t = child.own_totals()
    head = Text(f"{indent}subagent {child.key}", style="bold blue")
    if not child.expanded:
        head.append(f"  (not expanded; {t.llm_calls} LLM calls, {t.tool_calls} tool calls, {t.total_tokens:,} tokens)", style="dim")
        console.print(head, soft_wrap=True)
        return
    console.print(head, soft_wrap=True)
    _steps(console, child, child.steps, depth, full, cap, shown)
    console.print(Text(f"{indent}└ subagent totals: {_totals_line(t)}", style="blue"), soft_wrap=True)


def render(node: SessionNode, steps: list[Step] | None = None, *, full: bool = False, cap: int = 4096, out: Any = None, color: bool | None = None) -> None:
    """Print the timeline of ``node`` (only ``steps`` of the root when given: --step/--around)."""
    console = Console(file=out, highlight=False, soft_wrap=True, emoji=False, no_color=color is False, force_terminal=color or None, force_jupyter=False)
    _header(console, node)
    shown: set[tuple[str, int]] = set()
    chosen = node.steps if steps is None else steps
    if steps is not None and len(chosen) < len(node.steps):
        span = f"step {chosen[0].n}" if len(chosen) == 1 else f"steps {chosen[0].n}–{chosen[-1].n}"
        console.print(Text(f"{span} of {len(node.steps)}", style="dim"))
    _steps(console, node, chosen, 0, full, cap, shown)
    console.print()
    console.print(Text("session  " + _totals_line(node.own_totals()), style="bold"))
    if node.children():
        console.print(Text("with subagents  " + _totals_line(node.tree_totals()), style="bold"))
