"""Finding the copied parent history at the start of a forked or subagent rollout.

When Codex forks a thread (``codex fork``, ``/fork``, backtrack) or spawns a subagent with the
parent's context, the new rollout starts with its own ``session_meta`` and then a copy of the
parent's rollout items — the parent's ``session_meta`` first, then its turns, possibly cut
before an earlier user message — re-stamped at the fork instant. Counting that copy again
would double the parent's prompts, tool calls and tokens.

Three ways to find where the copy ends, best first:

1. ``subagent_history_start_ordinal`` on the child's meta (recent builds): lines before that
   ordinal are copies (handled in ``parse.py``);
2. the parent's rollout, when it can be found next to the child (same ``CODEX_HOME``, by its
   first-line ``session_meta.id`` or the thread id in its file name): the copy is the longest
   run of child lines, from the line after the child's meta, whose content signature
   (:func:`line_key`) equals the parent's lines in order, ``session_meta`` lines of other
   threads (copied ancestor metas) skipped wherever they sit (:class:`ParentPrefix`);
3. otherwise time (see ``CodexParser._in_replay``).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path
from typing import Any

import orjson

from tracelab.ingest.base import as_dict, open_input, parse_ts

_UUID_TAIL_RE = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")

#: Parent lines written more than this long after the child's meta cannot be in the copy.
_SLACK_MS = 1000


def _text_hash(obj: Any) -> str:
    return hashlib.blake2b(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS), digest_size=8).hexdigest()


def line_key(t: Any, payload: Any, obj: dict) -> str:
    """A signature of a rollout line's content that survives Codex re-serialising the copy.

    Timestamps, ``ordinal`` and fields a newer build adds on the way are left out: the
    signature keeps the line type, the item/event type and the fields that identify the item
    (ids, texts, token totals, model)."""
    if payload is None:  # bare era item
        payload = {k: v for k, v in obj.items() if k not in ("timestamp", "ordinal")}
        t = "response_item"
    if not isinstance(payload, dict):
        return _text_hash([t, payload])
    pt = payload.get("type")
    if t == "session_meta":
        sig: list[Any] = [t, payload.get("id")]
    elif t == "turn_context":
        sig = [t, payload.get("turn_id"), payload.get("model"), payload.get("cwd")]
    elif t == "compacted":
        sig = [t, payload.get("message")]
    elif pt == "token_count":
        info = as_dict(payload.get("info"))
        sig = [t, pt, info.get("total_token_usage"), info.get("last_token_usage")]
    else:
        keep = (
            "call_id",
            "id",
            "turn_id",
            "role",
            "name",
            "content",
            "summary",
            "encrypted_content",
            "arguments",
            "input",
            "output",
            "action",
            "message",
            "text",
            "status",
            "reason",
            "exit_code",
            "last_agent_message",
        )
        sig = [t, pt, {k: payload.get(k) for k in keep if k in payload}]
    return _text_hash(sig)


def session_meta_id(path: str | Path) -> str | None:
    """The ``id`` of a rollout's first-line ``session_meta`` (bare header ``id``), if any."""
    try:
        with open_input(path) as fh:
            first = fh.readline(1 << 20)
        d = orjson.loads(first)
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(d, dict):
        return None
    p = d.get("payload") if d.get("type") == "session_meta" else d if "instructions" in d else None
    tid = p.get("id") if isinstance(p, dict) else None
    return tid if isinstance(tid, str) and tid else None


def _roots(child: Path) -> list[tuple[Path, bool]]:
    """Where a parent rollout may sit: (directory, recursive?). Inside a Codex home, its
    ``sessions/`` and ``archived_sessions/`` trees; always the child's own directory."""
    for anc in child.parents:
        if anc.name in ("sessions", "archived_sessions"):
            home = anc.parent
            return [(home / "sessions", True), (home / "archived_sessions", True), (child.parent, False)]
    return [(child.parent, False)]


def thread_id_from_path(path: str | os.PathLike) -> str:
    """The thread id a file name carries (``rollout-<ts>-<uuid>.jsonl``), else the file stem."""
    stem = Path(path).name
    for suffix in (".jsonl", ".zst"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    m = _UUID_TAIL_RE.search(stem)
    return m.group(1) if m else stem


class _Index:
    """thread id -> rollout path under one directory, by first-line meta id and by file name.

    Kept per process; a lookup that misses rescans the directory for new files, at most once
    every :data:`_RESCAN_S` seconds (so many orphan children do not rescan a large home each)."""

    def __init__(self, root: Path, recursive: bool):
        self.root = root
        self.recursive = recursive
        self.by_id: dict[str, str] = {}
        self.seen: set[str] = set()
        self.scanned_at = float("-inf")

    def _files(self) -> list[str]:
        out: list[str] = []
        if self.recursive:
            for dirpath, _dirs, names in os.walk(self.root, onerror=lambda _e: None):
                out.extend(os.path.join(dirpath, n) for n in names if n.endswith(".jsonl"))
        else:
            try:
                out = [e.path for e in os.scandir(self.root) if e.name.endswith(".jsonl") and e.is_file()]
            except OSError:
                return []
        return sorted(out)

    def scan(self) -> None:
        self.scanned_at = time.monotonic()
        for f in self._files():
            if f in self.seen:
                continue
            self.seen.add(f)
            for key in (session_meta_id(f), thread_id_from_path(f)):
                if key:
                    self.by_id.setdefault(key, f)

    def lookup(self, thread_id: str) -> str | None:
        hit = self.by_id.get(thread_id)
        if (hit is None or not os.path.isfile(hit)) and time.monotonic() - self.scanned_at > _RESCAN_S:
            if hit is not None:
                del self.by_id[thread_id]
            self.scan()
            hit = self.by_id.get(thread_id)
        return hit


_RESCAN_S = 5.0
_INDEXES: dict[tuple[str, bool], _Index] = {}


def forget() -> None:
    """Drop the cached directory indexes (an ingest starts: the tree may have changed)."""
    _INDEXES.clear()


def holds_thread(path: str, thread_id: str) -> bool:
    """Is ``path`` the rollout of thread ``thread_id`` (by its name or its first-line meta)?"""
    return thread_id_from_path(path) == thread_id or session_meta_id(path) == thread_id


def find_parent_file(child: str | Path, thread_id: str) -> Path | None:
    """The rollout of thread ``thread_id`` next to ``child`` (same Codex home), None if absent."""
    child_p = Path(child).resolve()
    for root, recursive in _roots(child_p):
        if not root.is_dir():
            continue
        idx = _INDEXES.get((str(root), recursive))
        if idx is None:
            idx = _INDEXES[(str(root), recursive)] = _Index(root, recursive)
        hit = idx.lookup(thread_id)
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
            fh = open_input(self.path)
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
                if d.get("type") == "session_meta" or "instructions" in d and "type" not in d:
                    continue  # metas are matched by id, not position (see CodexParser._in_replay)
                payload = d.get("payload") if "payload" in d else None
                keys.append(line_key(d.get("type"), payload, d))
        return keys

    def match(self, key: str) -> bool:
        """Is the next child line the next parent line? Advances on a match."""
        if self.pos < len(self.keys) and self.keys[self.pos] == key:
            self.pos += 1
            return True
        return False
