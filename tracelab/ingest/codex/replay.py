"""Finding the copied parent history at the start of a forked or subagent rollout.

When Codex forks a thread (``codex fork``, ``/fork``, backtrack) or spawns a subagent with the
parent's context, the new rollout starts with its own ``session_meta`` and then a copy of the
parent's rollout items — the parent's ``session_meta`` first, then its turns, possibly cut
before an earlier user message — re-stamped at the fork instant. Counting that copy again
would double the parent's prompts, tool calls and tokens.

Three ways to find where the copy ends, best first:

1. ``subagent_history_start_ordinal`` on the child's meta (recent builds): lines before that
   ordinal are copies (handled in ``parse.py``);
2. the parent's rollout, when it can be found next to the child (same ``CODEX_HOME``, by the
   thread id in its file name): the copy is the longest run of child lines, from the line
   after the child's meta, whose ``(type, payload)`` equals the parent's lines in order
   (:class:`ParentPrefix`);
3. otherwise time (see ``CodexParser._in_replay``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from tracelab.ingest.base import parse_ts

#: Parent lines written more than this long after the child's meta cannot be in the copy.
_SLACK_MS = 1000

_INDEX: dict[str, dict[str, str]] = {}


def line_key(t: Any, payload: Any, obj: dict) -> str:
    """Identity of a rollout line's content, timestamp and envelope extras excluded."""
    body = {"type": t, "payload": payload} if payload is not None else {k: v for k, v in obj.items() if k not in ("timestamp", "ordinal")}
    return hashlib.blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS), digest_size=12).hexdigest()


def _roots(child: Path) -> list[Path]:
    for anc in child.parents:
        if anc.name in ("sessions", "archived_sessions"):
            home = anc.parent
            return [home / "sessions", home / "archived_sessions", child.parent]
    return [child.parent]


def _build_index(root: Path) -> dict[str, str]:
    from tracelab.ingest.codex.parse import thread_id_from_path

    idx: dict[str, str] = {}
    if root.is_dir():
        for f in sorted(root.rglob("*.jsonl")):
            idx.setdefault(thread_id_from_path(f), str(f))
    _INDEX[str(root)] = idx
    return idx


def find_parent_file(child: str | Path, thread_id: str) -> Path | None:
    """The rollout of thread ``thread_id`` in the Codex home holding ``child`` (None if absent)."""
    child_p = Path(child).resolve()
    for root in _roots(child_p):
        idx = _INDEX.get(str(root))
        hit = idx.get(thread_id) if idx is not None else None
        if hit is None or not Path(hit).is_file():
            hit = _build_index(root).get(thread_id)
        if hit is not None and Path(hit).resolve() != child_p:
            return Path(hit)
    return None


class ParentPrefix:
    """The content keys of a parent rollout's lines up to the fork instant, matched in order."""

    def __init__(self, path: str | Path, fork_ts: int | None, pos: int = 0):
        self.path = str(path)
        self.pos = pos
        self.keys = self._read(fork_ts)

    def _read(self, fork_ts: int | None) -> list[str]:
        keys: list[str] = []
        try:
            fh = open(self.path, "rb")
        except OSError:
            return keys
        with fh:
            for raw in fh:
                if not raw.strip():
                    continue
                try:
                    d = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue
                if not isinstance(d, dict):
                    continue
                ts = parse_ts(d.get("timestamp")) if isinstance(d.get("timestamp"), (str, int, float)) else None
                if fork_ts is not None and ts is not None and ts > fork_ts + _SLACK_MS:
                    break
                payload = d.get("payload") if "payload" in d else None
                keys.append(line_key(d.get("type"), payload, d))
        return keys

    def match(self, key: str) -> bool:
        """Is the next child line the next parent line? Advances on a match."""
        if self.pos < len(self.keys) and self.keys[self.pos] == key:
            self.pos += 1
            return True
        return False
