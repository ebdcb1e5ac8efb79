"""From a selection to *anchors*: the failures (or calls, or sessions) eval cases are built at.

Three ways to select, one result (a list of :class:`Anchor`):

* **clusters** (``--cluster ID…``, ``--top K``): members of failure clusters, up to
  ``per_cluster`` each — one per session first (earliest first), then further members;
* **a named query** (``--query NAME --param k=v``) or **SQL** (``--sql``): each result row is
  mapped by the most specific key columns it has, tried in this order:

  1. ``event_key``
  2. ``tool_call_key``
  3. ``session_key`` + ``tool_call_id``
  4. ``source_file`` + ``line_no`` (or ``result_line_no`` / ``call_line_no``)
  5. ``cluster_id`` — the row stands for its cluster (members as above)
  6. ``session_key`` or ``session_id`` — with ``tool_name`` and a time (``first_at``,
     ``started_at``, ``ts``), the first call of that tool at or after that time (so
     ``tool_loops`` rows land on the loop's first call); otherwise the session's last failure
     (last failure-cluster member, else last failed tool call, else its last call).

  Rows with a ``repeats`` column are runs of identical calls (``tool_loops``): their case is
  at the first repetition, with the loop cluster when the run is one. Rows that locate
  nothing are skipped and reported, not fatal.

Any anchor that is a failure-cluster member is given its cluster (an event family's row
before an episode's), so a case selected by SQL gets the same checks as one selected by
cluster.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from tracelab.errors import NotFound
from tracelab.failures.api import Failures
from tracelab.store import sql_text


class SelectionError(NotFound, ValueError):
    """The selection cannot be turned into cases (message says why)."""


@dataclass
class Anchor:
    session_key: str
    origin: str
    tool_call_key: str | None = None
    event_key: str | None = None
    source_file: str | None = None
    line_no: int | None = None
    ts: _dt.datetime | None = None
    # failure cluster, when known
    cluster_id: str | None = None
    family: str | None = None
    template: str | None = None
    excerpt: str | None = None
    role: str | None = None
    #: the anchor is the first call of a run of identical calls: the case is at its repetition
    repeat: bool = False

    def identity(self) -> tuple:
        return (self.cluster_id, self.event_key or self.tool_call_key or self.session_key, self.tool_call_key)


def resolve_cluster_ids(f: Failures, ids: list[str]) -> list[str]:
    known = f.clusters.get_column("cluster_id").to_list() if f.clusters.height else []
    out: list[str] = []
    for cid in ids:
        hits = [c for c in known if c == cid] or [c for c in known if c.startswith(cid)]
        if not hits:
            raise SelectionError(f"no failure cluster {cid!r}")
        if len(hits) > 1:
            raise SelectionError(f"cluster id prefix {cid!r} is ambiguous: {', '.join(sorted(hits)[:5])}")
        if hits[0] not in out:
            out.append(hits[0])
    return out


#: Templates that name a failure without saying what would fix it (no check can test the fix).
_GENERIC = re.compile(
    r"^(exit code\b|found <N> errors?$|request failed with status code|pytest: |api error|\[trimmed for fixture\])|\[trimmed for fixture\]", re.IGNORECASE
)
_PLACEHOLDERS = re.compile(r"<[A-Z*]+>|<\*>")
#: Families a regression check fits best, then those it fits, then the rest; interrupts are
#: the user's choice, not the agent's failure, and are left out unless asked for.
_TIER_FAMILIES = {"loop": 0, "tool_error": 1, "user_rejection": 1, "permission_denied": 1, "hook_block": 1, "hook_error": 1}
INTERRUPT_FAMILIES = ("interrupt",)


def recognisable(template: str | None) -> bool:
    """A failure template specific enough to say what the fix is: at least four literal words
    besides placeholders, and not one of the generic messages (exit codes, "tests failed")."""
    if not template or _GENERIC.search(template):
        return False
    words = re.findall(r"[A-Za-z]{2,}", _PLACEHOLDERS.sub(" ", template))
    return len(words) >= 4


def checkability(family: str | None, template: str | None) -> int:
    """0 = the cluster can become a check (a tool error with a recognisable fix, a rejection with
    the user's reason, a loop); 1 = a check fits less well (other tool errors, plain rejections,
    permission and hook failures); 2 = everything else (API errors, rate limits, …)."""
    if family == "loop":
        return 0
    if family == "tool_error" and recognisable(template):
        return 0
    if family == "user_rejection" and template and "feedback" in template.lower():
        return 0
    return _TIER_FAMILIES.get(family or "", 2)


def ranked_cluster_ids(f: Failures, *, include_interrupts: bool = False) -> list[str]:
    """Every cluster, those that can best become a check first (see :func:`checkability`), most
    events first within a tier (ties by id). Interrupt clusters only with ``include_interrupts``."""
    if not f.clusters.height:
        return []
    rows = f.clusters.select("cluster_id", "family", "template", "n_events").to_dicts()
    if not include_interrupts:
        rows = [r for r in rows if r["family"] not in INTERRUPT_FAMILIES]
    rows.sort(key=lambda r: (checkability(r["family"], r["template"]), -(r["n_events"] or 0), r["cluster_id"]))
    return [r["cluster_id"] for r in rows]


def top_cluster_ids(f: Failures, k: int, *, include_interrupts: bool = False) -> list[str]:
    """The first ``k`` clusters of :func:`ranked_cluster_ids` (before any is passed over for
    yielding no case with an assertion; the export does that)."""
    return ranked_cluster_ids(f, include_interrupts=include_interrupts)[:k]


def _member_anchor(m: dict[str, Any], origin: str) -> Anchor:
    return Anchor(
        session_key=m["session_key"],
        origin=origin,
        tool_call_key=m.get("tool_call_key"),
        event_key=m.get("event_key"),
        source_file=m.get("source_file"),
        line_no=m.get("line_no"),
        ts=m.get("ts"),
        cluster_id=m.get("cluster_id"),
        family=m.get("family"),
        template=m.get("template"),
        excerpt=m.get("excerpt"),
        role=m.get("role"),
    )


def from_clusters(f: Failures, cluster_ids: list[str], per_cluster: int) -> list[Anchor]:
    out: list[Anchor] = []
    for cid in cluster_ids:
        mem = f.members.filter(pl.col("cluster_id") == cid).sort("ts", "source_file", "line_no", "member_key", nulls_last=True)
        first = mem.unique(subset=["session_key"], keep="first", maintain_order=True).head(per_cluster)
        picked = first
        if first.height < per_cluster:
            rest = mem.join(first.select("member_key"), on="member_key", how="anti").head(per_cluster - first.height)
            picked = pl.concat([first, rest]).sort("ts", "source_file", "line_no", "member_key", nulls_last=True)
        out += [_member_anchor(m, f"cluster {cid}") for m in picked.to_dicts()]
    return out


class _MemberIndex:
    """Failure members by tool call key and event key (event-family rows first)."""

    def __init__(self, f: Failures) -> None:
        m = f.members.sort(pl.col("role") != "event", "ts", "member_key", nulls_last=True)
        self.by_call: dict[str, dict] = {}
        self.by_event: dict[str, dict] = {}
        self.by_session: dict[str, list[dict]] = {}
        for r in m.to_dicts():
            if r.get("tool_call_key"):
                self.by_call.setdefault(r["tool_call_key"], r)
            if r.get("event_key"):
                self.by_event.setdefault(r["event_key"], r)
            self.by_session.setdefault(r["session_key"], []).append(r)

    def enrich(self, a: Anchor, prefer_loop: bool = False) -> Anchor:
        if a.cluster_id:
            return a
        m = None
        if prefer_loop and a.tool_call_key:
            m = next((r for r in self.by_session.get(a.session_key, []) if r["family"] == "loop" and r.get("tool_call_key") == a.tool_call_key), None)
        m = m or (self.by_call.get(a.tool_call_key) if a.tool_call_key else None) or (self.by_event.get(a.event_key) if a.event_key else None)
        if m:
            a.cluster_id, a.family, a.template, a.excerpt, a.role = m["cluster_id"], m["family"], m["template"], m.get("excerpt"), m["role"]
            a.event_key = a.event_key or m.get("event_key")
            a.tool_call_key = a.tool_call_key or m.get("tool_call_key")
            a.line_no = a.line_no if a.line_no is not None else m.get("line_no")
            a.source_file = a.source_file or m.get("source_file")
        return a


def _sql(con, name: str, **params) -> pl.DataFrame:
    return pl.DataFrame(con.sql(sql_text(name), params=params).to_arrow_table())


def _time_col(df: pl.DataFrame) -> str | None:
    return next((c for c in ("first_at", "started_at", "ts") if c in df.columns), None)


def from_frame(con, f: Failures, df: pl.DataFrame, origin: str, per_cluster: int) -> tuple[list[Anchor], list[str]]:
    """Anchors for the rows of a query / SQL result (see the module docstring), and the rows
    that locate nothing (one message each)."""
    if df.height == 0:
        return [], []
    idx = _MemberIndex(f)
    cols = set(df.columns)
    rows = df.to_dicts()
    out: list[Anchor] = []
    skipped: list[str] = []

    def where(i: int) -> str:
        return f"{origin} row {i + 1}"

    if "event_key" in cols:
        keys = sorted({r["event_key"] for r in rows if r["event_key"]})
        ev = {r["event_key"]: r for r in _sql(con, "events_by_key", event_keys=keys).to_dicts()}
        for i, r in enumerate(rows):
            e = ev.get(r["event_key"])
            if e is None:
                skipped.append(f"{where(i)}: no event {r['event_key']!r}")
                continue
            out.append(Anchor(e["session_key"], where(i), event_key=e["event_key"], source_file=e["source_file"], line_no=e["line_no"], ts=e["ts"]))
    elif "tool_call_key" in cols:
        keys = sorted({r["tool_call_key"] for r in rows if r["tool_call_key"]})
        calls = {r["tool_call_key"]: r["session_key"] for r in _sql(con, "calls_by_key", tool_call_keys=keys).to_dicts()}
        for i, r in enumerate(rows):
            if r["tool_call_key"] not in calls:
                skipped.append(f"{where(i)}: no tool call {r['tool_call_key']!r}")
                continue
            out.append(Anchor(calls[r["tool_call_key"]], where(i), tool_call_key=r["tool_call_key"]))
    elif {"session_key", "tool_call_id"} <= cols:
        keys = sorted({r["session_key"] for r in rows if r["session_key"]})
        calls = {(c["session_key"], c["tool_call_id"]): c["tool_call_key"] for c in _sql(con, "session_calls", session_keys=keys).to_dicts()}
        for i, r in enumerate(rows):
            k = calls.get((r["session_key"], r["tool_call_id"]))
            if k is None:
                skipped.append(f"{where(i)}: no tool call {r['tool_call_id']!r} in session {r['session_key']!r}")
                continue
            out.append(Anchor(r["session_key"], where(i), tool_call_key=k))
    elif "source_file" in cols and cols & {"line_no", "result_line_no", "call_line_no"}:
        lc = next(c for c in ("line_no", "result_line_no", "call_line_no") if c in cols)
        files = [r["source_file"] for r in rows]
        lines = [r[lc] for r in rows]
        found: dict[tuple, dict] = {}
        for e in _sql(con, "events_at_lines", files=files, lines=lines).to_dicts():
            found.setdefault((e["source_file"], e["line_no"]), e)
        for i, r in enumerate(rows):
            e = found.get((r["source_file"], r[lc]))
            if e is None:
                skipped.append(f"{where(i)}: no event at {r['source_file']}:{r[lc]}")
                continue
            out.append(Anchor(e["session_key"], where(i), event_key=e["event_key"], source_file=e["source_file"], line_no=e["line_no"], ts=e["ts"]))
    elif "cluster_id" in cols:
        ids = resolve_cluster_ids(f, [r["cluster_id"] for r in rows if r["cluster_id"]])
        out = from_clusters(f, ids, per_cluster)
    elif cols & {"session_key", "session_id"}:
        out = _from_sessions(con, idx, df, origin, skipped)
    else:
        raise SelectionError(
            f"{origin}: the rows carry no column that locates a failure; give one of event_key, tool_call_key, "
            "session_key + tool_call_id, source_file + line_no, cluster_id, session_key or session_id "
            f"(columns: {', '.join(df.columns)})"
        )
    runs = "repeats" in cols
    for a in out:
        a.repeat = a.repeat or runs
    return [idx.enrich(a, prefer_loop=runs) for a in out], skipped


def _from_sessions(con, idx: _MemberIndex, df: pl.DataFrame, origin: str, skipped: list[str]) -> list[Anchor]:
    rows = df.to_dicts()
    if "session_key" not in df.columns:
        ids = sorted({r["session_id"] for r in rows if r["session_id"]})
        by_id: dict[str, str] = {}
        for r in _sql(con, "sessions_by_id", session_ids=ids).to_dicts():
            by_id.setdefault(r["session_id"], r["session_key"])
        for r in rows:
            r["session_key"] = by_id.get(r["session_id"])
    keys = sorted({r["session_key"] for r in rows if r.get("session_key")})
    calls: dict[str, list[dict]] = {}
    for c in _sql(con, "session_calls", session_keys=keys).to_dicts():
        calls.setdefault(c["session_key"], []).append(c)
    tcol = _time_col(df) if "tool_name" in df.columns else None
    out: list[Anchor] = []
    for i, r in enumerate(rows):
        sk = r.get("session_key")
        where = f"{origin} row {i + 1}"
        if not sk:
            skipped.append(f"{where}: no session {r.get('session_id')!r}")
            continue
        sc = calls.get(sk, [])
        if tcol and r.get(tcol) is not None:
            t = r[tcol]
            tool = r.get("tool_name")
            hit = next((c for c in sc if c["started_at"] is not None and c["started_at"] >= t and (tool is None or c["tool_name"] == tool)), None)
            if hit is None:
                skipped.append(f"{where}: no tool call{' of ' + tool if tool else ''} at or after {t} in session {sk!r}")
                continue
            out.append(Anchor(sk, where, tool_call_key=hit["tool_call_key"]))
            continue
        members = idx.by_session.get(sk)
        if members:
            last = max(members, key=lambda m: (m["ts"] is not None, m["ts"] or _dt.datetime.min.replace(tzinfo=_dt.UTC), m["role"] == "event"))
            out.append(_member_anchor(last, where))
            continue
        failed = [c for c in sc if c["status"] not in (None, "ok")]
        pick = failed[-1] if failed else (sc[-1] if sc else None)
        if pick is None:
            skipped.append(f"{where}: session {sk!r} has no failure and no tool call to build a case at")
            continue
        out.append(Anchor(sk, where, tool_call_key=pick["tool_call_key"]))
    return out
