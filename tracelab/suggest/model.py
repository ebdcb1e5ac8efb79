"""One suggestion: what to change, the evidence, and which calls it would have affected.

Every miner returns :class:`Suggestion` objects. ``matcher`` selects, in any prepared calls
frame (:mod:`.calls`), the calls the change acts on; the backtest replays the history through
it, and the out-of-time check applies it to weeks it was not learnt from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

#: Kinds of suggestion, in the order they are listed.
KINDS = ("permission", "instruction", "hook", "boundary", "loop")
#: How many example steps each suggestion shows.
EXAMPLES = 3


@dataclass(frozen=True)
class Thresholds:
    """Minimum evidence for a suggestion (``suggest(min_events=…, min_sessions=…)`` sets them all)."""

    approvals: int = 5  #: allow: successful runs
    rejections: int = 3  #: deny/ask: rejections
    pairs: int = 3  #: instruction: error -> recovery pairs
    failures: int = 3  #: hook/boundary: failures
    loops: int = 2  #: loop: runs of identical calls
    allow_sessions: int = 3  #: allow: sessions with a successful run
    sessions: int = 2  #: everything else: sessions with evidence

    @classmethod
    def of(cls, min_events: int | None = None, min_sessions: int | None = None) -> Thresholds:
        t = cls()
        if min_events is not None:
            t = cls(min_events, min_events, min_events, min_events, max(1, min_events - 1), t.allow_sessions, t.sessions)
        if min_sessions is not None:
            t = cls(t.approvals, t.rejections, t.pairs, t.failures, t.loops, min_sessions, min_sessions)
        return t


DEFAULT_THRESHOLDS = Thresholds()


def suggestion_id(*parts: str | None) -> str:
    """``sg-`` + 12 hex of BLAKE2b over the parts: the same rule always has the same id."""
    digest = hashlib.blake2b("\x1f".join(p or "" for p in parts).encode(), digest_size=6).hexdigest()
    return f"sg-{digest}"


@dataclass
class Suggestion:
    kind: str  #: one of KINDS
    decision: str  #: allow, deny, ask (permission); rule (instruction, loop); hook; boundary
    agent: str
    project: str
    tool: str
    pattern: str  #: the command prefix / failing signature the rule is about
    title: str  #: one line for humans
    rule: str  #: the rule text (instruction wording, or the rule in Claude Code syntax)
    matcher: Callable[[pl.DataFrame], pl.Expr]  #: calls this change acts on
    effect: str  #: what the backtest counts: approval_wait, blocked, prevented_failure, loop_tail
    evidence: pl.DataFrame  #: the evidence calls (rows of the calls frame)
    consistency: float  #: share of the pattern's calls that agree with the rule (0..1)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return suggestion_id(self.kind, self.decision, self.agent, self.project, self.tool, self.pattern)

    def confidence(self) -> float:
        """Consistency times a sample-size factor that reaches 0.9 at 10 evidence calls in 3+ sessions."""
        n = self.evidence.height
        sessions = self.evidence["session_key"].n_unique() if n else 0
        size = n / (n + 1.0) if n else 0.0
        spread = min(1.0, sessions / 3.0)
        return round(self.consistency * size * spread, 3)
