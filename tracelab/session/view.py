"""``tracelab.session(id)``: one session's timeline as an object for scripts and notebooks."""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any

from tracelab.errors import ParameterError
from tracelab.session.model import SessionNode, Step
from tracelab.session.timeline import PART_TABLES, catalog_needs, load, resolve

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["Frame", "SessionView", "focus", "session"]

#: steps shown before and after the one --around names
AROUND = 5


def focus(steps: list[Step], step: int | None = None, around: int | None = None, context: int = AROUND) -> list[Step] | None:
    """The root steps ``--step N`` (that one) or ``--around N`` (N ± ``context``) picks; None = all."""
    if step is None and around is None:
        return None
    n = step if step is not None else around
    assert n is not None
    if n < 1 or n > len(steps):
        raise ParameterError(f"step {n} is not in this session (it has {len(steps)} steps)", step=n)
    if step is not None:
        return [steps[n - 1]]
    return steps[max(0, n - 1 - context) : n + context]


def _flat(node: SessionNode, depth: int, path: str, out: list[dict[str, Any]]) -> None:
    for s in node.steps:
        p = f"{path}{s.n}"
        out.append(
            {
                "session_key": node.key,
                "depth": depth,
                "path": p,
                "n": s.n,
                "ts": s.ts,
                "offset_s": s.offset_s,
                "kind": s.kind,
                "tool": s.tool,
                "summary": s.summary,
                "status": s.status,
                "exit_code": s.exit_code,
                "latency_ms": s.latency_ms,
                "call_no": s.call_no,
                "call_tokens": s.call_tokens,
                "model": s.model,
                "highlight": s.highlight,
                "clusters": s.clusters,
                "text": s.text,
                "text_bytes": s.text_bytes,
                "input": s.input,
                "input_bytes": s.input_bytes,
                "output": s.output,
                "output_bytes": s.output_bytes,
                "subagent_key": s.subagent_key,
                "source": s.source,
                "event_key": s.event_key,
            }
        )
        if s.subagent is not None:
            _flat(s.subagent, depth + 1, p + ".", out)
    for i, child in enumerate(node.unlinked, 1):
        _flat(child, depth + 1, f"{path}x{i}.", out)


class SessionView:
    """A session and its subagents. ``steps``: one row per step, subagent steps right after the
    call that started them (``depth`` > 0, ``path`` like ``4.2`` = step 2 of the subagent of
    step 4); ``to_dict()``: the JSON of ``tracelab session --json``; ``html()``: the page of
    ``tracelab session --html``, also what a notebook displays."""

    def __init__(self, root: SessionNode):
        self.root = root

    @property
    def key(self) -> str:
        return self.root.key

    @property
    def steps(self) -> pl.DataFrame:
        import polars as pl

        rows: list[dict[str, Any]] = []
        _flat(self.root, 0, "", rows)
        schema: dict[str, Any] = {
            "session_key": pl.Utf8,
            "depth": pl.Int32,
            "path": pl.Utf8,
            "n": pl.Int32,
            "ts": pl.Datetime("ms", "UTC"),
            "offset_s": pl.Float64,
            "kind": pl.Utf8,
            "tool": pl.Utf8,
            "summary": pl.Utf8,
            "status": pl.Utf8,
            "exit_code": pl.Int32,
            "latency_ms": pl.Float64,
            "call_no": pl.Int32,
            "call_tokens": pl.Int64,
            "model": pl.Utf8,
            "highlight": pl.Utf8,
            "clusters": pl.List(pl.Utf8),
            "text": pl.Utf8,
            "text_bytes": pl.Int64,
            "input": pl.Utf8,
            "input_bytes": pl.Int64,
            "output": pl.Utf8,
            "output_bytes": pl.Int64,
            "subagent_key": pl.Utf8,
            "source": pl.Utf8,
            "event_key": pl.Utf8,
        }
        return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)

    @property
    def totals(self) -> dict[str, Any]:
        return self.root.own_totals().to_dict()

    def to_dict(self, *, full: bool = False, cap: int = 16384, step: int | None = None, around: int | None = None) -> dict[str, Any]:
        d = self.root.to_dict(full=full, cap=cap)
        chosen = focus(self.root.steps, step, around)
        if chosen is not None:
            keep = {s.n for s in chosen}
            d["steps"] = [s for s in d["steps"] if s["n"] in keep]
            d["focus"] = {"step": step, "around": around, "first": chosen[0].n, "last": chosen[-1].n}
        return d

    def text(self, *, full: bool = False, cap: int = 4096, step: int | None = None, around: int | None = None, color: bool = False) -> str:
        from tracelab.session.render_text import render

        buf = io.StringIO()
        render(self.root, focus(self.root.steps, step, around), full=full, cap=cap, out=buf, color=color)
        return buf.getvalue()

    def html(self, *, cap: int = 8192, focus_step: int | None = None) -> str:
        from tracelab.session.render_html import render_html

        return render_html(self.root, cap=cap, focus_step=focus_step)

    def _repr_html_(self) -> str:
        return _iframe(self.html())

    def show(self, step: int) -> Frame:
        """The page scrolled to ``step`` (for a notebook: ``view.show(42)``)."""
        focus(self.root.steps, step=step)  # a step the session does not have is an error
        return Frame(self.html(focus_step=step))

    def __repr__(self) -> str:
        t = self.root.own_totals()
        return f"<SessionView {self.key}: {t.steps} steps, {t.llm_calls} LLM calls, {t.tool_calls} tool calls, {len(self.root.children())} subagents>"


def _iframe(page: str, height: int = 640) -> str:
    """The page inside an iframe: its styles and script stay out of the notebook's own."""
    import html  # notebooks only (start-up of the command line)

    return f'<iframe srcdoc="{html.escape(page, quote=True)}" style="width:100%;height:{height}px;border:1px solid #ddd" sandbox="allow-scripts"></iframe>'


class Frame:
    """A rendered page that a notebook displays (in an iframe)."""

    def __init__(self, page: str):
        self.page = page

    def _repr_html_(self) -> str:
        return _iframe(self.page)


def session(id: str, warehouse: str | os.PathLike | None = None, *, depth: int | None = None, con: Any = None) -> SessionView:
    """The session ``id`` names (a session key, native id, or a unique prefix of either) with
    its subagents nested ``depth`` levels deep (None = all). Raises
    :class:`tracelab.errors.NotFound` when nothing or several sessions match."""
    if con is not None:
        return SessionView(load(con, resolve(con, id), depth))
    from tracelab.store.connection import Store

    # only what the timeline queries reach (no views over the events and call parts, no other macros),
    # and only DuckDB's engine, not its Python layer (rows are fetched, the connection stays here): start-up
    with Store(warehouse, needs=catalog_needs(), bare_engine=True) as store:
        parts = {t: [str(p) for p in store.files_of(t)] for t in PART_TABLES}  # each session read from the months it spans
        return SessionView(load(store.con, resolve(store.con, id), depth, parts=parts))
