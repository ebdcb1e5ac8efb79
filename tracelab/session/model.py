"""The session timeline as data: :class:`Step`, :class:`Call` and :class:`SessionNode`.

A :class:`SessionNode` is one session (its facts, its steps in order, its LLM calls); a tool
step that started a subagent holds the subagent's node in ``Step.subagent``, so the tree of a
session and everything it spawned is one value. :meth:`SessionNode.to_dict` is the JSON of
``tracelab session --json``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Call", "SessionNode", "Step", "Totals", "cap_text"]


def cap_text(text: str | None, cap: int) -> tuple[str | None, bool]:
    """``text`` cut to at most ``cap`` UTF-8 bytes (on a character boundary); (text, was_cut)."""
    if text is None:
        return None, False
    raw = text.encode("utf-8")
    if len(raw) <= cap:
        return text, False
    return raw[:cap].decode("utf-8", "ignore"), True


@dataclass
class Call:
    """One LLM call of a session (the chart's data)."""

    call_no: int
    ts: _dt.datetime | None
    model: str | None
    is_synthetic: bool
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    latency_ms: float | None
    cost_usd: float | None

    @property
    def context_tokens(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def total_tokens(self) -> int:
        return self.context_tokens + self.output_tokens


@dataclass
class Step:
    """One row of a timeline."""

    n: int  #: 1-based position in its own session
    kind: str  #: prompt, context, text, thinking, tool, compaction, api_error, interrupt, ...
    ts: _dt.datetime | None
    offset_s: float | None  #: seconds since the root session started
    summary: str  #: one line: the command, the path, the first line of the text
    source: str  #: file name:line
    event_key: str
    tool: str | None = None
    tool_call_id: str | None = None
    tool_call_key: str | None = None  #: tool_calls key (None for a result whose call is not in the trace)
    status: str | None = None
    exit_code: int | None = None
    latency_ms: float | None = None  #: tool call -> result
    call_no: int | None = None  #: the LLM call that issued the step (see SessionNode.calls)
    call_tokens: int | None = None  #: that call's tokens (input + cache + output)
    model: str | None = None
    highlight: str | None = None  #: error, rejected, interrupted (or None)
    clusters: list[str] = field(default_factory=list)  #: failure clusters, family:cluster_id
    branch: str | None = None  #: Pi: active / abandoned
    text: str | None = None  #: prompt / model text / thinking / error text
    text_bytes: int | None = None
    input: str | None = None  #: tool input JSON
    input_bytes: int | None = None
    output: str | None = None  #: tool result
    output_bytes: int | None = None
    subagent: SessionNode | None = None  #: the session this tool call started
    subagent_key: str | None = None  #: its key (also when it is not expanded: --depth)

    def to_dict(self, full: bool = False, cap: int = 16384) -> dict[str, Any]:
        d: dict[str, Any] = {
            "n": self.n,
            "ts": self.ts.isoformat() if self.ts else None,
            "offset_s": None if self.offset_s is None else round(self.offset_s, 3),
            "kind": self.kind,
            "tool": self.tool,
            "summary": self.summary,
            "status": self.status,
            "exit_code": self.exit_code,
            "latency_ms": self.latency_ms,
            "call_no": self.call_no,
            "call_tokens": self.call_tokens,
            "model": self.model,
            "highlight": self.highlight,
            "clusters": self.clusters,
            "source": self.source,
        }
        if self.branch is not None:
            d["branch"] = self.branch
        if self.text_bytes is not None:
            d["text_bytes"] = self.text_bytes
        if self.input_bytes is not None:
            d["input_bytes"] = self.input_bytes
        if self.output_bytes is not None:
            d["output_bytes"] = self.output_bytes
        if full:
            for name in ("text", "input", "output"):
                value, cut = cap_text(getattr(self, name), cap)
                if value is not None:
                    d[name] = value
                    if cut:
                        d[name + "_truncated"] = True
        if self.subagent_key is not None:
            d["subagent_key"] = self.subagent_key
        if self.subagent is not None:
            d["subagent"] = self.subagent.to_dict(full=full, cap=cap)
        return d


@dataclass
class Totals:
    steps: int = 0
    llm_calls: int = 0
    tool_calls: int = 0
    errors: int = 0  #: highlighted steps (tool errors, rejections, API errors, interrupts, interrupted tool calls)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = None
    subagents: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens

    def add(self, other: Totals) -> None:
        for name in ("steps", "llm_calls", "tool_calls", "errors", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "subagents"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + other.cost_usd

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "llm_calls": self.llm_calls,
            "tool_calls": self.tool_calls,
            "errors": self.errors,
            "subagents": self.subagents,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "total_tokens": self.total_tokens,
            "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6),
        }


@dataclass
class SessionNode:
    """One session of the tree: its facts (a ``timeline_tree`` row), steps and calls."""

    facts: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    unlinked: list[SessionNode] = field(default_factory=list)  #: child sessions no tool step started
    expanded: bool = True  #: False when --depth stopped here (steps not loaded)

    @property
    def key(self) -> str:
        return str(self.facts["session_key"])

    def own_totals(self) -> Totals:
        """Counted from the loaded steps and calls (the sessions table's figures and the counted steps when not expanded)."""
        f = self.facts
        if not self.expanded:
            return Totals(
                steps=int(f.get("n_steps") or 0),
                llm_calls=int(f["n_llm_calls"] or 0),
                tool_calls=int(f["n_tool_calls"] or 0),
                errors=int(sum(f.get(k) or 0 for k in ("n_tool_errors", "n_user_rejections", "n_api_errors", "n_interrupts", "n_interrupted_tools"))),
                input_tokens=int(f["input_tokens"] or 0),
                output_tokens=int(f["output_tokens"] or 0),
                cache_read_tokens=int(f["cache_read_tokens"] or 0),
                cache_write_tokens=int(f["cache_write_tokens"] or 0),
                cost_usd=f.get("cost_usd"),
            )
        real = [c for c in self.calls if not c.is_synthetic]
        costs = [c.cost_usd for c in real if c.cost_usd is not None]
        return Totals(
            steps=len(self.steps),
            llm_calls=len(real),
            tool_calls=sum(1 for s in self.steps if s.tool_call_key is not None),
            errors=sum(1 for s in self.steps if s.highlight),
            input_tokens=sum(c.input_tokens for c in real),
            output_tokens=sum(c.output_tokens for c in real),
            cache_read_tokens=sum(c.cache_read_tokens for c in real),
            cache_write_tokens=sum(c.cache_write_tokens for c in real),
            cost_usd=sum(costs) if costs else None,
            subagents=len(self.children()),
        )

    def children(self) -> list[SessionNode]:
        return [s.subagent for s in self.steps if s.subagent is not None] + list(self.unlinked)

    def tree_totals(self) -> Totals:
        """This session and every subagent under it."""
        t = Totals()
        t.add(self.own_totals())
        for child in self.children():
            t.add(child.tree_totals())
        return t

    def header(self) -> dict[str, Any]:
        f = self.facts
        out = {k: f.get(k) for k in ("session_key", "session_id", "agent", "agent_version", "project", "git_branch", "cwd", "title", "models")}
        out["parent_session_key"] = f.get("parent_session_key")
        out["forked_from"] = f.get("forked_from")
        out["is_subagent"] = bool(f.get("is_subagent"))
        out["started_at"] = f["started_at"].isoformat() if f.get("started_at") else None
        out["ended_at"] = f["ended_at"].isoformat() if f.get("ended_at") else None
        out["duration_s"] = f.get("duration_s")
        out["source_files"] = [str(p).rsplit("/", 1)[-1] for p in (f.get("source_files") or [])]
        return out

    def to_dict(self, full: bool = False, cap: int = 16384) -> dict[str, Any]:
        d: dict[str, Any] = {"session": self.header(), "totals": self.own_totals().to_dict()}
        if self.children():
            d["totals_with_subagents"] = self.tree_totals().to_dict()
        d["expanded"] = self.expanded
        d["steps"] = [s.to_dict(full=full, cap=cap) for s in self.steps]
        if self.unlinked:
            d["unlinked_subagents"] = [c.to_dict(full=full, cap=cap) for c in self.unlinked]
        return d
