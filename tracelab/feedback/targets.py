"""Turn what a person types (``session:…``, a session id, a cluster id prefix…) into a target.

A target is written ``TYPE:KEY`` (``session:claude:3f1c…``, ``event:6e05…:216:0``,
``tool_call:call_6iDE…``, ``cluster:te-fdd5``) or as a bare ``KEY``, whose type is then found
by looking the key up. Either way the key is resolved to the canonical key of its table, so
that a label joins in SQL whatever id it was given by:

* session → ``session_key``; a native session id names its main (non-subagent) session;
* event → ``event_key``;
* tool_call → ``tool_call_key``; a native ``tool_call_id`` is accepted when it is unique;
* cluster → ``cluster_id``; a unique prefix is accepted;
* suggestion → a ``tracelab suggest`` id (``sg-`` + 12 hex), checked by shape: suggestions are
  computed, not stored (``tracelab suggest`` leaves out those labelled ``rejected``).

Lookups are batched: one SQL query (``sql/resolve_targets.sql``) for all keys of an import, and
the cluster ids of the warehouse's failure clustering only when some key needs them.
With ``check=False`` a typed key is taken as given (label things not ingested yet); a bare key
then has no type and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tracelab import failures as F
from tracelab.feedback.table import TARGET_TYPES, FeedbackError
from tracelab.store import sql_text
from tracelab.store.connection import Store

#: A failure cluster id (``te-fdd58876e330``) or a prefix of one of at least 4 hex digits.
CLUSTER_ID = re.compile(r"^[a-z]{2}-[0-9a-f]{4,12}$")
#: A ``tracelab suggest`` id: computed from the warehouse, not stored, so it is checked by shape.
SUGGESTION_ID = re.compile(r"^sg-[0-9a-f]{12}$")

_TYPE_ALIASES = {"tool": "tool_call", "toolcall": "tool_call", "tool-call": "tool_call", "call": "tool_call", "failure": "cluster"}


@dataclass(frozen=True)
class Target:
    type: str
    key: str
    session_key: str | None = None


def parse(text: str, target_type: str | None = None) -> tuple[str | None, str]:
    """Split ``TYPE:KEY``; a prefix that is not a target type stays part of the key
    (session keys themselves look like ``claude:…``)."""
    text = (text or "").strip()
    if not text:
        raise FeedbackError("target: empty")
    if target_type:
        tt = _TYPE_ALIASES.get(target_type.strip().lower(), target_type.strip().lower())
        if tt not in TARGET_TYPES:
            raise FeedbackError(f"target_type: {target_type!r} is not one of {', '.join(TARGET_TYPES)}")
        return tt, text
    head, sep, rest = text.partition(":")
    if sep:
        tt = _TYPE_ALIASES.get(head.lower(), head.lower())
        if tt in TARGET_TYPES and rest.strip():
            return tt, rest.strip()
    return None, text


class Resolver:
    """Batch resolution of (type or None, key) pairs against one warehouse."""

    def __init__(self, warehouse, *, failures=None) -> None:
        self.warehouse = getattr(warehouse, "root", warehouse)
        self._failures = failures
        self._cluster_ids: list[str] | None = None

    def _clusters(self) -> list[str]:
        if self._cluster_ids is None:
            f = self._failures if self._failures is not None else F.load(self.warehouse)
            self._failures = f
            self._cluster_ids = sorted(f.clusters.get_column("cluster_id").to_list()) if f.clusters.height else []
        return self._cluster_ids

    def _cluster_matches(self, key: str) -> list[str]:
        ids = self._clusters()
        if key in ids:
            return [key]
        return [c for c in ids if c.startswith(key)]

    def resolve(self, items: Sequence[tuple[str | None, str]], *, check: bool = True) -> list[Target | FeedbackError]:
        """One :class:`Target` or :class:`FeedbackError` per item, in order."""
        out: list[Target | FeedbackError | None] = [None] * len(items)
        need_sql: set[str] = set()
        for i, (tt, key) in enumerate(items):
            if tt == "suggestion" or (tt is None and SUGGESTION_ID.match(key)):
                ok = SUGGESTION_ID.match(key)
                out[i] = (
                    Target("suggestion", key) if ok else FeedbackError(f"target {key!r}: a suggestion id looks like sg-0123456789ab (see `tracelab suggest`)")
                )
                continue
            if not check:
                out[i] = (
                    Target(tt, key)
                    if tt
                    else FeedbackError(f"target {key!r}: give its type (TYPE:KEY, TYPE one of {', '.join(TARGET_TYPES)}) when targets are not checked")
                )
            elif tt != "cluster":
                need_sql.add(key)
        if not check:
            return _complete(out)
        matches: dict[str, list[tuple[str, str, str | None, int]]] = {}
        if need_sql:
            with Store(self.warehouse) as store:
                rows = store.con.execute(sql_text("resolve_targets"), {"keys": sorted(need_sql)}).fetchall()
            for key, typ, tkey, skey, rank in rows:
                matches.setdefault(key, []).append((typ, tkey, skey, rank))
        for i, (tt, key) in enumerate(items):
            if out[i] is not None:
                continue
            found = [m for m in matches.get(key, []) if tt is None or m[0] == tt]
            if tt in (None, "cluster") and (tt == "cluster" or CLUSTER_ID.match(key)):
                found += [("cluster", c, None, 1 if c == key else 2) for c in self._cluster_matches(key)]
            if not found:
                what = tt.replace("_", " ") if tt else "session, event, tool call or failure cluster"
                out[i] = FeedbackError(f"target {key!r}: no {what} with this key in {self.warehouse}")
                continue
            best = min(m[3] for m in found)
            distinct = sorted({(m[0], m[1], m[2]) for m in found if m[3] == best})
            if len(distinct) > 1:
                shown = ", ".join(f"{t}:{k}" for t, k, _ in distinct[:5])
                out[i] = FeedbackError(f"target {key!r} is ambiguous: {shown}{' …' if len(distinct) > 5 else ''}")
                continue
            t, k, s = distinct[0]
            out[i] = Target(t, k, s)
        return _complete(out)


def _complete(out: list[Target | FeedbackError | None]) -> list[Target | FeedbackError]:
    """``out`` once every slot is filled (each resolution path fills every item)."""
    done = [r for r in out if r is not None]
    if len(done) != len(out):
        raise AssertionError(f"{len(out) - len(done)} target(s) left unresolved")
    return done
