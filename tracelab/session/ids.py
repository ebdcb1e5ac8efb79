"""The id ``tracelab sessions`` shows for each session: the shortest text that
``tracelab session`` (:func:`tracelab.session.timeline.resolve`) opens as exactly that session,
unique across the whole warehouse, not only among the rows listed.

:class:`Names` mirrors the resolver's matching (``tracelab/sql/timeline_match.sql``) in memory
over every session's key, native id and subagent id (``tracelab/sql/session_names.sql``), with
sorted lists so a prefix costs a binary search, not a scan.
"""

from __future__ import annotations

import bisect
from typing import Any

__all__ = ["Names", "listed_ids", "short_ids"]


class Names:
    """Every session's typable names, answering which session a prefix opens."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = {r["session_key"]: r for r in rows}
        pairs: set[tuple[str, str]] = set()
        for r in rows:
            key, sid, sub = r["session_key"], r["session_id"], r["subagent_id"]
            names = [key, key.split(":", 1)[-1]]
            if sid:
                names.append(sid)
            if sub:
                names += [sub, "agent-" + sub]
            pairs.update((n, key) for n in names)
        self._sorted = sorted(pairs)
        self._names = [n for n, _ in self._sorted]
        #: text -> the keys it names exactly (its key, main-session id or key without the agent tag)
        self._exact: dict[str, set[str]] = {}
        for k, r in self.rows.items():
            for n in (k, k.split(":", 1)[-1], r["session_id"] if not r["is_subagent"] else None):
                if n is not None:
                    self._exact.setdefault(n, set()).add(k)

    def matching(self, prefix: str) -> set[str]:
        """Keys of the sessions one of whose names starts with ``prefix`` (as timeline_match)."""
        i = bisect.bisect_left(self._names, prefix)
        out: set[str] = set()
        while i < len(self._names) and self._names[i].startswith(prefix):
            out.add(self._sorted[i][1])
            i += 1
        return out

    def opens(self, prefix: str) -> str | None:
        """The session key ``tracelab session prefix`` opens, None when none or several
        (the rules of :func:`tracelab.session.timeline.resolve`)."""
        keys = self.matching(prefix) if prefix else set()
        if not keys:
            return None
        rows = [self.rows[k] for k in keys]
        exact = [
            r
            for r in rows
            if r["session_key"] == prefix or (r["session_id"] == prefix and not r["is_subagent"]) or r["session_key"].split(":", 1)[-1] == prefix
        ]
        if len(exact) == 1:
            return str(exact[0]["session_key"])
        mains = [r for r in rows if not r["is_subagent"]]
        if len(mains) == 1 and all(r["session_key"] == mains[0]["session_key"] or r["session_id"] == mains[0]["session_id"] for r in rows):
            return str(mains[0]["session_key"])
        return str(rows[0]["session_key"]) if len(rows) == 1 else None

    def short_id(self, key: str, least: int = 8) -> str:
        """What to type to open session ``key``: its native id (a subagent: its ``agent-…`` /
        ``sidechain-…`` part) cut to ``least`` characters, longer where that prefix would open
        another session too; where even the whole id is shared (the same native id under two
        agents) the ``agent:``-tagged key, cut the same way; else the whole key."""
        bare = key.split(":", 1)[-1]
        if "/" in bare and self.opens(tail := bare.rsplit("/", 1)[-1]) == key:
            return tail
        agent = key.split(":", 1)[0] + ":" if ":" in key else ""
        for head in dict.fromkeys(("", agent)):  # a key without an agent tag: one pass
            t = self._first_opening(key, head, bare, min(len(bare), least))
            if t is not None:
                return t
        return key

    def _first_opening(self, key: str, head: str, bare: str, start: int) -> str | None:
        """The shortest of ``head + bare[:n]`` (n from ``start`` to ``len(bare)``) that
        :meth:`opens` ``key``, None when none does. One pass: each prefix's names are a slice of
        the sorted names inside the slice of the prefix before, so the keys they name are
        counted once for the shortest and only those dropped are taken off after, instead of
        collecting them afresh for every length (a page of subagents of one big session shares
        its prefixes with hundreds of names)."""
        names, pairs, rows = self._names, self._sorted, self.rows
        lo, hi = 0, len(names)
        count: dict[str, int] = {}  # key -> its names in lo:hi
        mains: set[str] = set()  # keys in lo:hi of main sessions
        per_sid: dict[Any, int] = {}  # session_id -> keys in lo:hi with it
        seen = False

        def take(i: int, j: int, sign: int) -> None:
            for _, k in pairs[i:j]:
                c = count.get(k, 0) + sign
                if c and not count.get(k):  # the key enters
                    if not rows[k]["is_subagent"]:
                        mains.add(k)
                    sid = rows[k]["session_id"]
                    per_sid[sid] = per_sid.get(sid, 0) + 1
                elif not c:  # the key leaves
                    mains.discard(k)
                    sid = rows[k]["session_id"]
                    per_sid[sid] -= 1
                if c:
                    count[k] = c
                else:
                    count.pop(k, None)

        for n in range(start, len(bare) + 1):
            prefix = head + bare[:n]
            if not prefix:
                continue
            new_lo = bisect.bisect_left(names, prefix, lo, hi)
            new_hi = _end(names, prefix, new_lo, hi)
            if not seen:
                take(new_lo, new_hi, 1)
                seen = True
            else:
                take(lo, new_lo, -1)
                take(new_hi, hi, -1)
            lo, hi = new_lo, new_hi
            if self._opens_counted(prefix, count, mains, per_sid) == key:
                return prefix
        return None

    def _opens_counted(self, prefix: str, count: dict[str, int], mains: set[str], per_sid: dict[Any, int]) -> str | None:
        """:meth:`opens` of ``prefix`` given the keys its names name (``count``), the main
        sessions among them and how many of them share each session_id: the same rules."""
        if not count:
            return None
        exact = [k for k in self._exact.get(prefix, ()) if k in count]
        if len(exact) == 1:
            return str(exact[0])
        if len(mains) == 1:
            (main,) = mains
            if per_sid.get(self.rows[main]["session_id"], 0) == len(count):
                return str(main)
        return str(next(iter(count))) if len(count) == 1 else None


def _end(names: list[str], prefix: str, lo: int, hi: int) -> int:
    """Where the names starting with ``prefix`` end in ``names[lo:hi]`` (sorted; none of them
    below ``prefix``): the index of the first that does not start with it."""
    width = len(prefix)

    def past(name: str) -> bool:
        return name[:width] > prefix

    return bisect.bisect_left(names, True, lo, hi, key=past)


def short_ids(con: Any, keys: list[str], least: int = 8) -> dict[str, str]:
    """:meth:`Names.short_id` of each of ``keys`` among every session of the warehouse ``con``."""
    from tracelab.session.timeline import fetch_rows

    names = Names(fetch_rows(con, "session_names", heads=sorted(_heads(keys, least))))
    return {k: names.short_id(k, least) for k in keys}


def _heads(keys: list[str], least: int) -> set[str]:
    """The first ``least`` characters of every text :meth:`Names.short_id` may try for ``keys``:
    a session none of whose names starts with one of them cannot match any of those tries, so
    the names of the others are all it needs (a page of 50 of 85,000 sessions reads a few)."""
    out: set[str] = set()
    for key in keys:
        bare = key.split(":", 1)[-1]
        out.update({bare[:least], key[: len(key) - len(bare) + least]})
        if "/" in bare:
            out.add(bare.rsplit("/", 1)[-1][:least])
    return out


def listed_ids(warehouse: Any, keys: list[str], least: int = 8) -> dict[str, str]:
    """:func:`short_ids` in the warehouse at ``warehouse`` (opened read-only for the names, with
    only what ``session_names`` reaches: the sessions view, no other view, macro or price table)."""
    from tracelab.store.connection import Store
    from tracelab.store.sql import load as load_sql

    with Store(warehouse, needs=[load_sql("session_names").sql]) as store:
        return short_ids(store.con, keys, least)
