"""Which sessions and files a share takes from the warehouse.

The filters (agent, project, since/until, session ids) pick *top-level* sessions (not subagents,
or subagents whose parent is not in the warehouse). ``--deny PATTERN`` drops every top-level
session whose files (its own and its subagents') match a pattern anywhere in their text;
``--max-sessions N`` keeps the N most recent of the rest. Then the selection is closed: each
session's subagents follow it, and every session whose lines live in a selected file comes along
(a file is shared whole), so re-ingesting the shared folder gives exactly the selected sessions.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2

from tracelab.errors import NotFound, ParameterError
from tracelab.store import Store, sql_text
from tracelab.store.sql import to_datetime

__all__ = ["Selection", "select_sessions"]


@dataclass
class Selection:
    sessions: list[dict[str, Any]]  # manifest-ready rows (share_sessions.sql) + "models"
    files: list[str]  # absolute source paths, sorted
    denied: list[str] = field(default_factory=list)  # session keys dropped by --deny
    over_limit: int = 0  # top-level sessions dropped by --max-sessions
    missing_files: list[str] = field(default_factory=list)


_QUIET = re2.Options()
_QUIET.log_errors = False


def _deny_regex(patterns: tuple[str, ...]) -> Any:
    for p in patterns:
        try:
            re2.compile(p, _QUIET)
        except re2.error as exc:
            why = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise ParameterError(f"--deny {p!r}: not a valid pattern ({why})", param="deny") from exc
    return re2.compile("(?i)(?:" + "|".join(f"(?:{p})" for p in patterns) + ")", _QUIET) if patterns else None


def _file_matches(path: str, rx: Any) -> bool:
    with open(path, "rb") as fh:
        tail = b""
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            buf = tail + chunk
            if rx.search(buf.decode("utf-8", "replace")):
                return True
            tail = buf[-4096:]
    return False


def select_sessions(
    warehouse: str | os.PathLike,
    *,
    agent: str | None = None,
    project: str | None = None,
    since: str | None = None,
    until: str | None = None,
    sessions: tuple[str, ...] = (),
    deny: tuple[str, ...] = (),
    max_sessions: int | None = None,
) -> Selection:
    if max_sessions is not None and max_sessions < 1:
        raise ParameterError("--max-sessions must be at least 1", param="max_sessions")
    params = {
        "agent": agent,
        "project": project,
        "since": to_datetime(since) if since else None,
        "until": to_datetime(until) if until else None,
        "sessions": list(sessions) if sessions else None,
    }
    per_model: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    with Store(warehouse) as store:  # raises WarehouseMissing / WarehouseCorrupt with the path
        cur = store.con.execute(sql_text("share_sessions"), params)
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        mcur = store.con.execute(sql_text("share_models"))
        mcols = [d[0] for d in mcur.description]
        for rec in mcur.fetchall():
            d = dict(zip(mcols, rec))
            skey, model = d.pop("session_key"), d.pop("model")
            per_model[skey][model] = {k: int(v or 0) for k, v in d.items()}
    by_key = {r["session_key"]: r for r in rows}
    children: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r["parent_session_key"] and r["parent_session_key"] in by_key:
            children[r["parent_session_key"]].append(r["session_key"])

    def family(key: str) -> list[str]:
        out, todo = [], [key]
        while todo:
            k = todo.pop()
            out.append(k)
            todo.extend(children.get(k, ()))
        return out

    top = [r for r in rows if r["matches"] and not (r["parent_session_key"] and r["parent_session_key"] in by_key)]
    if sessions and not top:
        raise NotFound(f"no session matches {', '.join(sessions)} with the other filters")
    rx = _deny_regex(deny)
    denied: list[str] = []
    kept = []
    for r in top:
        files = sorted({f for k in family(r["session_key"]) for f in by_key[k]["source_files"] or []})
        if rx is not None and any(os.path.exists(f) and _file_matches(f, rx) for f in files):
            denied.append(r["session_key"])
            continue
        kept.append(r)
    # a kept session sharing a file with a denied one would bring the denied lines along
    denied_files = {f for k in denied for m in family(k) for f in by_key[m]["source_files"] or []}
    if denied_files:
        still = []
        for r in kept:
            if denied_files & {f for k in family(r["session_key"]) for f in by_key[k]["source_files"] or []}:
                denied.append(r["session_key"])
            else:
                still.append(r)
        kept = still
    over = 0
    if max_sessions is not None and len(kept) > max_sessions:
        # the most recent N (rows are ordered by start time)
        over = len(kept) - max_sessions
        kept = kept[-max_sessions:]
    chosen = {k for r in kept for k in family(r["session_key"])}
    chosen_files = {f for k in chosen for f in by_key[k]["source_files"] or []}
    # close over files: every session with a line in a chosen file comes along
    by_file: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        for f in r["source_files"] or []:
            by_file[f].add(r["session_key"])
    while True:
        more = {k for f in chosen_files for k in by_file[f]} - chosen
        if not more:
            break
        chosen |= more
        chosen_files |= {f for k in more for f in by_key[k]["source_files"] or []}
    missing = sorted(f for f in chosen_files if not Path(f).is_file())
    out = []
    for r in rows:
        if r["session_key"] in chosen:
            row = {k: v for k, v in r.items() if k != "matches"}
            row["models"] = per_model.get(r["session_key"], {})
            out.append(row)
    return Selection(sessions=out, files=sorted(chosen_files), denied=denied, over_limit=over, missing_files=missing)
