"""Narrowing a warehouse connection to what the user named: a project, a session.

- :func:`check_project` warns (stderr) when a ``--project`` value names no project, listing the
  closest names (a typo is the usual cause), and returns the value unchanged;
- :func:`restrict_to_project` turns every view of a connection that has sessions
  (``sessions``, ``events``, ``llm_calls``, ``tool_calls``, ``failure_members``, ``files``)
  into the rows of that project's sessions, so any query, chart or report over the connection
  sees only them;
- :func:`resolve_session` turns a session id or key, or a unique prefix of either, into the
  full session key (ambiguous prefixes and unknown ids are one-line errors).
"""

from __future__ import annotations

import difflib
import sys
from typing import Any

from tracelab.errors import NotFound, ParameterError

__all__ = ["check_project", "closest", "is_known_project", "project_session_keys", "resolve_session", "restrict_to_project"]

_SCOPE_TABLE = "_tl_scope_sessions"


def closest(value: str, present: list[str], n: int = 5) -> list[str]:
    """The names in ``present`` nearest to ``value``: those it is a part of (or that are a part
    of it, ignoring case) first, then the most similar by difflib."""
    low = value.lower()
    contains = [p for p in present if p and (low in p.lower() or p.lower() in low)]
    similar = difflib.get_close_matches(value, [p for p in present if p], n=n, cutoff=0.5)
    out: list[str] = []
    for p in contains + similar:
        if p not in out:
            out.append(p)
    return out[:n]


def _projects(con: Any) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT project FROM sessions WHERE project IS NOT NULL ORDER BY 1").fetchall()]


def check_project(con: Any, project: str | None, err: Any = None) -> str | None:
    """Warn on ``err`` (stderr) when ``project`` names no project in the warehouse, with the
    closest names; the value is returned as given (the command then shows no rows)."""
    if not project:
        return project
    present = _projects(con)
    if project not in present:
        near = closest(project, present)
        hint = f"closest: {', '.join(near)}" if near else f"projects present: {', '.join(present[:10]) or 'none'}" + (" …" if len(present) > 10 else "")
        print(f"warning: no project {project!r} in this warehouse (names are exact); {hint}", file=err or sys.stderr)
    return project


def is_known_project(con: Any, project: str) -> bool:
    """Whether some session of the warehouse has ``project`` (names are exact)."""
    return con.execute("SELECT count(*) FROM sessions WHERE project = ?", [project]).fetchone()[0] > 0


def project_session_keys(con: Any, project: str) -> list[str]:
    """Session keys of ``project``'s sessions (subagent sessions included)."""
    return [r[0] for r in con.execute("SELECT session_key FROM sessions WHERE project = ? ORDER BY 1", [project]).fetchall()]


def restrict_to_project(con: Any, project: str) -> None:
    """Make every session-bearing view of ``con`` show only ``project``'s sessions (the value is
    bound as a parameter; each view keeps its name and columns)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_SCOPE_TABLE} AS SELECT session_key FROM sessions WHERE project = ?", [project])
    views = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary").fetchall()]
    for view in views:
        cols = {r[0] for r in con.execute(f'DESCRIBE "{view}"').fetchall()}
        if "session_key" in cols:
            cond = f"session_key IN (SELECT session_key FROM {_SCOPE_TABLE})"
        elif "session_keys" in cols:
            cond = f"list_has_any(session_keys, (SELECT coalesce(list(session_key), []) FROM {_SCOPE_TABLE}))"
        else:
            continue
        hidden = f"_tl_all_{view}"
        con.execute(f'ALTER VIEW "{view}" RENAME TO "{hidden}"')
        con.execute(f'CREATE VIEW "{view}" AS SELECT * FROM "{hidden}" WHERE {cond}')


def resolve_session(con: Any, value: str) -> str:
    """The session key ``value`` names: a session key or native session id, or a unique prefix
    of either."""
    exact = con.execute("SELECT DISTINCT session_key FROM sessions WHERE session_key = ? OR session_id = ?", [value, value]).fetchall()
    if len(exact) == 1:
        return str(exact[0][0])
    hits = con.execute(
        "SELECT DISTINCT session_key, session_id FROM sessions WHERE starts_with(session_key, ?) OR starts_with(session_id, ?) ORDER BY 1",
        [value, value],
    ).fetchall()
    keys = sorted({r[0] for r in hits})
    if len(keys) == 1:
        return str(keys[0])
    if not keys:
        raise NotFound(f"no session {value!r} (a session key or id, or a unique prefix of one)", session=value)
    shown = ", ".join(str(r[1] or r[0]) for r in hits[:5])
    raise ParameterError(f"session prefix {value!r} is ambiguous: {len(keys)} sessions match ({shown}{', …' if len(keys) > 5 else ''})", session=value)
