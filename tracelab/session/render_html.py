"""The session as one self-contained HTML page: no external requests, styles and the small
script inline. Tool inputs and outputs and thinking are collapsible (``<details>``), edit
calls show a unified diff, subagents are nested under the call that started them, an inline
SVG charts context size (input + cache tokens per call) and latency, and every step has an
anchor (``#step-42``; a subagent's step 3 under step 4 is ``#step-4-3``).

Size: each text is capped at ``cap`` bytes, and lower when the session is long, so that a
page stays under about 5 MB whatever the session (10,000 steps included); a cut text says
how many bytes it shows of how many.

Speed: a page of more than :data:`LONG_PAGE` steps is marked ``<body class="long">``, whose
style lets the browser skip laying out and painting the steps outside the window
(``content-visibility: auto``): a 10,000-step page then loads in about a third of the time
(``benchmarks/session_page_bench.py``). Shorter pages are laid out whole, so their geometry
does not depend on what has been scrolled into view.
"""

from __future__ import annotations

import html
from importlib import resources

from tracelab.session.diff import edit_diff
from tracelab.session.fmt import duration, tokens
from tracelab.session.model import Call, SessionNode, Step, Totals, cap_text
from tracelab.session.summary import EDIT_TOOLS

__all__ = ["LONG_PAGE", "PAGE_BUDGET", "render_html"]

#: the bytes a page aims to stay under
PAGE_BUDGET = 4_600_000
#: bytes of markup one step's row costs besides its summary, tool name and clusters
_ROW_COST = 200
#: bytes of markup one collapsible text costs besides the text
_BODY_COST = 100
#: the smallest cap a text gets however long the session
_MIN_CAP = 48
#: pages with more steps than this let the browser skip the layout of steps out of view
LONG_PAGE = 1000
#: most bars in the chart (calls are grouped into buckets beyond that)
_MAX_BARS = 300


def _asset(name: str) -> str:
    return resources.files("tracelab.session.templates").joinpath(name).read_text(encoding="utf-8")


def _e(s: object) -> str:
    return html.escape("" if s is None else str(s), quote=True)


def _all_steps(node: SessionNode) -> list[Step]:
    out: list[Step] = []
    for s in node.steps:
        out.append(s)
        if s.subagent is not None:
            out += _all_steps(s.subagent)
    for c in node.unlinked:
        out += _all_steps(c)
    return out


def _bodies(s: Step) -> int:
    return sum(1 for v in (s.text, s.input, s.output) if v)


def _effective_cap(root: SessionNode, cap: int) -> int:
    steps = _all_steps(root)
    n_bodies = sum(_bodies(s) for s in steps) or 1
    rows = sum(_ROW_COST + len(s.summary.encode()) + len(s.tool or "") + 24 * len(s.clusters) for s in steps)
    room = PAGE_BUDGET - 40_000 - rows - _BODY_COST * n_bodies
    return max(_MIN_CAP, min(cap, room // n_bodies))


def _body(label: str, text: str | None, full_bytes: int | None, cap: int, open_: bool = False, cls: str = "") -> str:
    """A collapsible text: ``<details>`` whose summary says the size (and how much is shown)."""
    shown, _cut = cap_text(text, cap)
    shown = shown or ""
    size = full_bytes if full_bytes is not None else len((text or "").encode())
    kept = len(shown.encode())
    note = f"{label} · {size:,} B" + (f", first {kept:,} B shown" if size > kept else "")
    attrs = (f' class="{cls}"' if cls else "") + (" open" if open_ else "")
    return f"<details{attrs}><summary>{_e(note)}</summary><pre>{_e(shown)}</pre></details>"


def _diff_html(diff: str, input_bytes: int | None, cap: int) -> str:
    shown, cut = cap_text(diff, cap)
    out = []
    for ln in (shown or "").splitlines():
        cls = (
            "a"
            if ln.startswith("+") and not ln.startswith("+++")
            else "d"
            if ln.startswith("-") and not ln.startswith("---")
            else "h"
            if ln.startswith("@@")
            else ""
        )
        out.append(f'<span class="{cls}">{_e(ln)}</span>' if cls else _e(ln) + "\n")
    note = f"diff · {len(diff.encode()):,} B" + (f", first {len((shown or '').encode()):,} B shown" if cut else "") + f" (input {input_bytes or 0:,} B)"
    return f'<details open><summary>{_e(note)}</summary><pre class="diff">' + "".join(out) + "</pre></details>"


def _totals(t: Totals) -> str:
    cost = "" if t.cost_usd is None else f" · ${t.cost_usd:.4f}"
    return (
        f"{t.steps} steps · {t.llm_calls} LLM calls · {t.tool_calls} tool calls · {t.errors} errors · {t.subagents} subagents · "
        f"{t.total_tokens:,} tokens (input {t.input_tokens:,}, cache read {t.cache_read_tokens:,}, cache write {t.cache_write_tokens:,}, output {t.output_tokens:,}){cost}"
    )


def _step(s: Step, anchor: str, cap: int, parts: list[str]) -> None:
    cls = f"s k-{s.kind}" + (f" hl-{s.highlight}" if s.highlight else "") + (" abandoned" if s.branch == "abandoned" else "")
    meta = []
    if s.status and s.status != "ok":
        meta.append(s.status)
    if s.exit_code is not None:
        meta.append(f"exit {s.exit_code}")
    if s.latency_ms is not None:
        meta.append(duration(s.latency_ms / 1000))
    if s.call_no is not None:
        meta.append(f"call {s.call_no} · {tokens(s.call_tokens)} tok")
    if s.branch == "abandoned":
        meta.append("abandoned branch")
    when = f"{s.ts:%H:%M:%S}" if s.ts else ""
    off = f" +{duration(s.offset_s)}" if s.offset_s is not None else ""
    parts.append(
        f'<div class="{cls}" id="{anchor}"><p><a href="#{anchor}">{s.n}</a><i>{when}{off}</i><b>{_e(s.kind)}</b>'
        + (f"<u>{_e(s.tool)}</u>" if s.tool else "")
        + f"<span>{_e(s.summary)}</span>"
        + (f"<em>{_e(' · '.join(meta))}</em>" if meta else "")
        + "".join(f"<s>{_e(c)}</s>" for c in s.clusters)
        + "</p>"
    )
    if s.text:
        parts.append(_body(s.kind, s.text, s.text_bytes, cap, open_=s.kind in ("prompt", "text")))
    if s.input:
        diff = edit_diff(s.tool, s.input) if s.tool in EDIT_TOOLS else None
        parts.append(_diff_html(diff, s.input_bytes, cap) if diff else _body("input", s.input, s.input_bytes, cap))
    if s.output:
        parts.append(_body("output", s.output, s.output_bytes, cap, cls="out"))
    if s.subagent is not None:
        _node(s.subagent, anchor + "-", cap, parts, nested=True)
    elif s.subagent_key:
        parts.append(f'<div class="sub subtotals">subagent {_e(s.subagent_key)} (not expanded)</div>')
    parts.append("</div>")


def _node(node: SessionNode, prefix: str, cap: int, parts: list[str], nested: bool) -> None:
    if nested:
        parts.append(f'<details class="sub" open><summary>subagent {_e(node.key)}: {_e(node.facts.get("title") or "")[:160]}</summary>')
        parts.append(f'<div class="subtotals">{_e(_totals(node.own_totals()))}</div>')
    if not node.expanded:
        parts.append('<div class="subtotals">(not expanded: --depth)</div>')
    for s in node.steps:
        _step(s, f"{prefix}{s.n}", cap, parts)
    for i, child in enumerate(node.unlinked, 1):
        _node(child, f"{prefix}x{i}-", cap, parts, nested=True)
    if nested:
        parts.append("</details>")


def _chart(calls: list[Call]) -> str:
    """Bars: context tokens per call (input + cache read + cache write); line: latency."""
    real = [c for c in calls if not c.is_synthetic]
    if not real:
        return ""
    size = max(1, -(-len(real) // _MAX_BARS))
    buckets = [real[i : i + size] for i in range(0, len(real), size)]
    ctx = [max(c.context_tokens for c in b) for b in buckets]
    lat = [max((c.latency_ms or 0.0) for c in b) for b in buckets]
    w, h, pad = 1000.0, 140.0, 4.0
    top_ctx = max(ctx) or 1
    top_lat = max(lat) or 1.0
    bw = (w - 2 * pad) / len(buckets)
    bars = []
    for i, (b, v) in enumerate(zip(buckets, ctx)):
        bh = (h - 2 * pad) * v / top_ctx
        label = f"call {b[0].call_no}" + (f"–{b[-1].call_no}" if len(b) > 1 else "") + f": context {v:,} tokens, latency {duration(lat[i] / 1000)}"
        bars.append(
            f'<rect x="{pad + i * bw:.1f}" y="{h - pad - bh:.1f}" width="{max(bw - 1, 0.5):.1f}" height="{bh:.1f}" fill="#90caf9"><title>{_e(label)}</title></rect>'
        )
    pts = " ".join(f"{pad + (i + 0.5) * bw:.1f},{h - pad - (h - 2 * pad) * v / top_lat:.1f}" for i, v in enumerate(lat))
    line = f'<polyline points="{pts}" fill="none" stroke="#ef6c00" stroke-width="1.5"/>' if any(lat) else ""
    return (
        '<div class="chart"><div class="legend">'
        f'<span><i class="sw" style="background:#90caf9"></i>context per call (input + cache), max {top_ctx:,} tokens</span>'
        f'<span><i class="sw" style="background:#ef6c00"></i>latency, max {duration(top_lat / 1000)}</span>'
        f"<span>{len(real)} calls" + (f", {size} per bar" if size > 1 else "") + "</span></div>"
        f'<svg viewBox="0 0 {w:.0f} {h:.0f}" preserveAspectRatio="none" role="img" aria-label="context size and latency per LLM call">{"".join(bars)}{line}</svg></div>'
    )


def render_html(root: SessionNode, *, cap: int = 8192, focus_step: int | None = None) -> str:
    """The page (a complete HTML document) for ``root`` and its subagents."""
    h = root.header()
    cap = _effective_cap(root, cap)
    facts = [
        ("agent", f"{h['agent']} {h['agent_version'] or ''}"),
        ("project", h["project"]),
        ("branch", h["git_branch"]),
        ("cwd", h["cwd"]),
        ("models", ", ".join(h["models"] or [])),
        ("started", f"{h['started_at'] or ''} · lasted {duration(h['duration_s'])}"),
        ("parent", h["parent_session_key"]),
        ("forked from", h["forked_from"]),
        ("files", ", ".join(h["source_files"])),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # no request may leave the page: only inline styles, scripts and data
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
        f"<title>{_e(h['title'] or h['session_key'])} · tracelab session</title>",
        f"<style>{_asset('session.css')}</style></head>",
        "<body" + (' class="long"' if len(_all_steps(root)) > LONG_PAGE else "") + (f' data-focus="step-{focus_step}"' if focus_step else "") + ">",
        f"<header><h1>{_e(h['title'] or h['session_key'])}</h1>",
        f'<div class="meta">{_e(h["session_key"])}</div><table class="facts">',
    ]
    parts += [f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in facts if v and str(v).strip()]
    parts.append(f'</table><div class="totals">{_e(_totals(root.own_totals()))}</div>')
    if root.children():
        parts.append(f'<div class="totals">with subagents: {_e(_totals(root.tree_totals()))}</div>')
    parts.append('</header><main><div class="tb"><button data-open="1">expand all</button><button data-open="0">collapse all</button>')
    if focus_step:
        parts.append(f'<a href="#step-{focus_step}">go to step {focus_step}</a>')
    parts.append("</div>")
    parts.append(_chart(root.calls))
    _node(root, "step-", cap, parts, nested=False)
    parts.append(f"</main><footer>{_e(_totals(root.own_totals()))}" + (f"<br>with subagents: {_e(_totals(root.tree_totals()))}" if root.children() else ""))
    parts.append(f'<br><span class="meta">texts capped at {cap:,} bytes on this page</span></footer>')
    parts.append(f"<script>{_asset('session.js')}</script></body></html>")
    return "\n".join(parts)
