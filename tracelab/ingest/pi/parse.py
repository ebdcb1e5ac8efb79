"""Pi coding-agent session JSONL (format versions 1–3) → canonical events.

See ``README.md`` beside this file for the format quirks handled here and why. In short:

* line 1 is a ``session`` header (session id, cwd, fork parent); every other line is one
  *entry*. Entries form a tree through ``id``/``parentId`` (v2+; v1 files are linear). The
  active conversation is the path from the last entry back to the root; rows of entries off
  that path are kept with ``branch = 'abandoned'``.
* one assistant message = one LLM call (``llm_call_key = pi:<session id>:<entry id>``),
  with pi's own token usage and USD cost; ``message.timestamp`` is the request start.
* user-run shell commands (``bashExecution``) become a synthetic tool call + result pair.
* forked files copy their parent's entries; every entry gets a content-derived ``line_key``
  so the engine keeps one copy.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import orjson

from tracelab import schema as S
from tracelab.ingest.base import (
    FILL_TS,
    EventBuffer,
    ParseResult,
    RawLine,
    RejectBuffer,
    cap_text,
    decode_line,
    dumps,
    file_end,
    iter_lines,
    make_reject,
    open_input,
    parse_ts,
    shrink,
)

AGENT = "pi"
PARSER_VERSION = "pi/2"

#: tool_name of the synthetic tool call that stands for a user-run ``!command``.
USER_BASH_TOOL = "bash (user)"

#: ``<ISO timestamp>_<uuid>.jsonl``: pi's session file name; the uuid is the header id.
_FILE_UUID_RE = re.compile(r"_([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")
_BASH_EXIT_RE = re.compile(r"Command exited with code (-?\d+)\s*$")
_ABORT_TAILS = ("Command aborted", "Operation aborted")

#: Entry keys consumed into columns, per entry type; anything else goes to ``extra``.
_ENTRY_KEYS = {"type", "id", "parentId", "timestamp"}
_TYPE_KEYS: dict[str, set[str]] = {
    "session": {"version", "cwd", "provider", "modelId", "thinkingLevel", "parentSession", "branchedFrom"},
    "message": {"message"},
    "model_change": {"provider", "modelId"},
    "thinking_level_change": {"thinkingLevel"},
    "compaction": {"summary", "firstKeptEntryId", "firstKeptEntryIndex", "tokensBefore", "usage"},
    "branch_summary": {"fromId", "summary", "usage"},
    "custom": {"customType", "data"},
    "custom_message": {"customType", "content"},
    "label": {"targetId", "label"},
    "session_info": {"name"},
}
_MSG_KEYS: dict[str, set[str]] = {
    "user": {"role", "content", "timestamp"},
    "assistant": {"role", "content", "api", "provider", "model", "responseModel", "usage", "stopReason", "errorMessage", "timestamp", "responseId"},
    "toolResult": {"role", "toolCallId", "toolName", "content", "details", "isError", "timestamp"},
    "bashExecution": {"role", "command", "output", "exitCode", "cancelled", "timestamp"},
    "custom": {"role", "content", "timestamp"},
    "hookMessage": {"role", "content", "timestamp"},
    "branchSummary": {"role", "summary", "timestamp"},
    "compactionSummary": {"role", "summary", "timestamp"},
}
#: Per entry type: every key consumed into columns (entry keys and the type's own).
_KNOWN_KEYS: dict[str, frozenset[str]] = {t: frozenset(_ENTRY_KEYS | keys) for t, keys in _TYPE_KEYS.items()}
#: Assistant content-block keys consumed into columns; others go to ``extra`` as ``block``.
_BLOCK_KEYS = frozenset({"type", "text", "thinking", "id", "name", "arguments"})
_USAGE_KEYS = {"input", "output", "cacheRead", "cacheWrite", "reasoning", "cost"}
#: Keys left out of the dedup digest: pi's v1→v2 migration adds random ids and rewrites the
#: compaction pointer, so copies of one entry in two independently migrated files differ there.
_DIGEST_SKIP = {"id", "parentId", "firstKeptEntryId", "firstKeptEntryIndex"}


#: Columns that take ints from the file as they are (any size): checked per file when a
#: value outside its column's range was seen (:meth:`PiParser._note`).
_UNBOUNDED_COLUMNS = (
    "ts",
    "request_ts",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "exit_code",
)


def _int(v: Any) -> int | None:
    """A token count: ints (and integral floats) only; bools and strings are not counts."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def content_text(content: Any) -> tuple[str, int]:
    """Joined text of a pi content value (string or list of text/image blocks) and the image count."""
    if content is None:
        return "", 0
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        return dumps(shrink(content, 2048)), 0
    parts: list[str] = []
    images = 0
    for b in content:
        if isinstance(b, dict):
            if b.get("type") == "image":
                images += 1
            elif isinstance(b.get("text"), str):
                parts.append(b["text"])
        elif isinstance(b, str):
            parts.append(b)
    return "\n".join(parts), images


def classify_tool_result(tool_name: str | None, text: str, is_error: bool) -> tuple[str, int | None]:
    """(status, exit_code) of a pi ``toolResult``.

    pi's built-in ``bash`` tool fails (``isError``) on every non-zero exit and appends
    ``Command exited with code N`` to the output, so an ``ok`` bash result means exit 0.
    ``Command aborted`` / ``Operation aborted`` is the user cancelling a running tool.
    """
    if not is_error:
        return "ok", (0 if tool_name == "bash" else None)
    tail = text.rstrip()[-300:]
    m = _BASH_EXIT_RE.search(tail)
    if m:
        return "error", int(m.group(1))
    if tail.endswith(_ABORT_TAILS):
        return "interrupted", None
    return "error", None


def session_id_from_path(path: str | os.PathLike) -> str | None:
    """The session uuid in a pi file name (``<ts>_<uuid>.jsonl``), or None."""
    m = _FILE_UUID_RE.search(Path(path).stem)
    return m.group(1) if m else None


def _parent_session_id(ref: str) -> str | None:
    """Session id of a fork parent given as a file path: from its name, else its header."""
    sid = session_id_from_path(ref)
    if sid:
        return sid
    try:
        with open_input(os.path.expanduser(ref)) as fh:
            first = fh.readline(1 << 20)
        head = orjson.loads(first)
    except (OSError, orjson.JSONDecodeError):
        return None
    if isinstance(head, dict) and head.get("type") == "session" and isinstance(head.get("id"), str):
        return head["id"]
    return None


def dedup_key(d: dict[str, Any]) -> str:
    """Content identity of an entry, the same in a session file and in any fork that copied it.

    Entry ids cannot serve alone: v1 entries have none, and pi's v1→v2 migration gives each
    file fresh random ids, so a parent and its fork migrated separately disagree on them. The
    key is the entry timestamp plus a digest of the entry without its tree pointers.
    """
    norm = {k: v for k, v in d.items() if k not in _DIGEST_SKIP}
    msg = norm.get("message")
    if isinstance(msg, dict) and msg.get("role") == "hookMessage":  # v2→v3 rename
        norm["message"] = {**msg, "role": "custom"}
    digest = hashlib.blake2b(orjson.dumps(norm, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS), digest_size=12).hexdigest()
    ts = d.get("timestamp")
    return f"pi|{ts if isinstance(ts, str) else ''}|{digest}"


class PiParser:
    """Parses one pi session file (or its appended tail, given the saved ``state``)."""

    def __init__(self, path: str | Path, state: dict[str, Any] | None = None):
        self.path = str(path)
        st = dict(state or {})
        self.buf = EventBuffer(start_ts=(state or {}).get(FILL_TS))
        self.rejects = RejectBuffer()
        self.line_keys: dict[int, str] = {}
        #: per buffered row: the entry id it came from ('' = header row, None = entry without id)
        self.row_entry: list[str | None] = []
        self.file_tag = hashlib.blake2b(self.path.encode(), digest_size=6).hexdigest()
        fallback_sid = session_id_from_path(self.path) or Path(self.path).stem
        self.session_id: str = st.get("session_id") or fallback_sid
        self.header_seen: bool = st.get("header_seen", False)
        self.cwd: str | None = st.get("cwd")
        self.format_version: int | None = st.get("format_version")
        self.forked_from: str | None = st.get("forked_from")
        self.fork_ts: int | None = st.get("fork_ts")
        self.provider: str | None = st.get("provider")
        self.model: str | None = st.get("model")
        #: entry id -> [parentId, line_no] for every entry with an id (the tree, for branch labels)
        self.parents: dict[str, list] = st.get("parents", {})
        self.leaf: str | None = st.get("leaf")
        self.has_ids: bool = st.get("has_ids", False)
        #: line numbers of decoded JSON values, in order (v1 compaction points at an index)
        self.entry_lines: list[int] = st.get("entry_lines", [])
        self.first_ts: int | None = None
        self.header_ts: int | None = st.get("header_ts")
        self.prev_leaf = self.leaf
        #: a number from the file outside its column's range was put in a row (see _note)
        self._check = False

    @property
    def session_key(self) -> str:
        return f"pi:{self.session_id}"

    # ------------------------------------------------------------------ main loop
    def parse(self, start_offset: int = 0, start_line: int = 0) -> ParseResult:
        lines_total = 0
        lines_rejected = 0
        end_offset = start_offset
        end_line = start_line
        document: tuple[str, str] | None = None
        loads = orjson.loads
        for line in iter_lines(self.path, start_offset, start_line):
            if document is not None:
                lines_total += 1
                lines_rejected += 1
                end_offset, end_line = line.offset + len(line.raw), line.line_no
                self.rejects.append(make_reject(self.path, AGENT, line, document[1]))
                continue
            try:  # decode_line's usual case inlined; its wording for every failure
                obj = loads(line.raw)
            except orjson.JSONDecodeError:
                obj, reason = decode_line(line)
            else:
                reason = None
                if not isinstance(obj, dict):
                    obj, reason = decode_line(line)
            if reason is not None and start_offset == 0 and lines_total == 0 and reason.startswith(("invalid JSON", "truncated")):
                document = self._as_document(line)
                if document is not None:
                    lines_total += 1
                    lines_rejected += 1
                    end_offset, end_line = line.offset + len(line.raw), line.line_no
                    self.rejects.append(make_reject(self.path, AGENT, line, document[0]))
                    continue
            if reason is not None and not line.complete:
                # a half-written last line: leave it for the next ingest to re-read
                self.rejects.append(make_reject(self.path, AGENT, line, reason))
                lines_total += 1
                lines_rejected += 1
                break
            lines_total += 1
            end_offset = line.offset + len(line.raw)
            end_line = line.line_no
            if reason is None:
                self.entry_lines.append(line.line_no)
                reason = self._handle(obj, line)
            if reason is not None:
                self.rejects.append(make_reject(self.path, AGENT, line, reason))
                lines_rejected += 1
        else:
            end_offset, end_line = file_end(self.path, end_offset, end_line)
        self._label_branches()
        state = {
            "session_id": self.session_id,
            "header_seen": self.header_seen,
            "header_ts": self.header_ts,
            "cwd": self.cwd,
            "format_version": self.format_version,
            "forked_from": self.forked_from,
            "fork_ts": self.fork_ts,
            "provider": self.provider,
            "model": self.model,
            "parents": self.parents,
            "leaf": self.leaf,
            "has_ids": self.has_ids,
            "entry_lines": self.entry_lines if not self.has_ids else [],
        }
        if self._stale_labels():
            # an appended entry moved the leaf off the old active path: rows written by
            # earlier runs carry the old branch labels, so the engine parses the file in full
            state["needs_full_reparse"] = True
        return ParseResult(
            path=self.path,
            agent=AGENT,
            buffer=self._checked_buffer(),
            rejects=self.rejects,
            line_keys=self.line_keys,
            lines_total=lines_total,
            lines_rejected=lines_rejected,
            lines_skipped_duplicate=0,
            bytes_ingested=end_offset,
            end_line_no=end_line,
            state=state,
            # the header time orders a parent before its forks (their copied entries carry the
            # parent's timestamps, so the first entry time would tie)
            first_ts=self.header_ts if self.header_ts is not None else self.first_ts,
            parser_version=PARSER_VERSION,
            session_keys=[self.session_key],
        )

    def _checked_buffer(self) -> EventBuffer:
        """The rows, handed to the engine as a buffer (it builds one table per batch). Pi
        numbers (token counts, exit codes, epoch timestamps) are unbounded ints, so a value
        the column type cannot hold fails this file here, not the engine's whole batch."""
        if self._check:
            self.buf.check_types(_UNBOUNDED_COLUMNS)
        return self.buf

    def _note(self, *values: Any, bound: int = 2**63) -> None:
        """Remember that a number read from the file may not fit its column (``bound``: 2**63
        for int64 columns, 2**31 for ``exit_code``): :meth:`_checked_buffer` then type-checks
        the rows."""
        for v in values:
            if v is not None and not -bound <= v < bound:
                self._check = True

    def _as_document(self, line: RawLine) -> tuple[str, str] | None:
        """If the file is one multi-line JSON document (not JSONL), the reject reasons for its
        first line and the rest; else None. pi writes such files only as test fixtures (a bare
        ``AssistantMessage``); they hold no session, so nothing is ingested from them."""
        try:
            size = os.path.getsize(self.path)
            if size > (64 << 20):
                return None
            with open_input(self.path) as fh:
                doc = orjson.loads(fh.read())
        except (OSError, orjson.JSONDecodeError):
            return None
        what = "JSON document"
        if isinstance(doc, dict):
            role = doc.get("role")
            if isinstance(role, str):
                what = f"pi {role} message object (role {role!r})" if role in _MSG_KEYS else f"JSON object with role {role!r}"
            elif isinstance(doc.get("type"), str):
                what = f"JSON object of type {doc['type']!r}"
        elif isinstance(doc, list):
            what = f"JSON array of {len(doc)} items"
        first = (
            f'not JSONL: the file is one multi-line {what}, not a pi session log (a session starts with a {{"type":"session"}} header line); nothing ingested'
        )
        rest = f"not JSONL: part of the multi-line JSON document that starts at line {line.line_no}"
        return first, rest

    # ------------------------------------------------------------------ branches
    def _active_set(self) -> set[str]:
        active: set[str] = set()
        cur = self.leaf
        while cur is not None and cur not in active and cur in self.parents:
            active.add(cur)
            cur = self.parents[cur][0]
        return active

    def _label_branches(self) -> None:
        """Fill ``branch``: header rows and the path from the last entry to the root are
        'active', every other entry is 'abandoned'. Files without entry ids (v1) are linear."""
        rows = self.buf.rows
        if not self.has_ids:
            for r in rows:
                r["branch"] = "active"
            return
        active = self._active_set()
        for r, eid in zip(rows, self.row_entry):
            r["branch"] = "active" if eid == "" or (eid is not None and eid in active) else "abandoned"

    def _stale_labels(self) -> bool:
        if not self.has_ids or self.prev_leaf is None or self.prev_leaf == self.leaf:
            return False
        return self.prev_leaf not in self._active_set()

    # ------------------------------------------------------------------ dispatch
    def _add(self, base: dict, entry_id: str | None, **values: Any) -> None:
        self.buf.add(base, **values)
        self.row_entry.append(entry_id)

    def _handle(self, d: dict, line: RawLine) -> str | None:
        t = d.get("type")
        if not isinstance(t, str):
            return "field 'type' is missing" if t is None else f"field 'type' has wrong type {type(t).__name__}"
        raw_ts = d.get("timestamp")
        if raw_ts is not None and not isinstance(raw_ts, str):
            return f"field 'timestamp' has wrong type {type(raw_ts).__name__}"
        for k in ("id", "parentId"):
            v = d.get(k)
            if v is not None and not isinstance(v, str):
                return f"field '{k}' has wrong type {type(v).__name__}"
        if t == "message":
            msg = d.get("message")
            if not isinstance(msg, dict):
                return f"field 'message' of a message entry has wrong type {type(msg).__name__}"
        if t == "session":
            return self._header(d, line, raw_ts)
        ts = parse_ts(raw_ts) if raw_ts else None
        bad: dict[str, Any] = {}
        if raw_ts and ts is None:
            bad["timestamp"] = raw_ts
        if ts is None and t == "message":
            ts = parse_ts(d["message"].get("timestamp")) if _int(d["message"].get("timestamp")) is not None else None
            self._note(ts)
        if ts is not None and (self.first_ts is None or ts < self.first_ts):
            self.first_ts = ts
        eid = d.get("id")
        parent = d.get("parentId")
        if eid is not None:
            self.has_ids = True
            if eid in self.parents:
                bad["duplicate_id"] = eid  # keep the first occurrence in the tree
                eid_tree = None
            else:
                self.parents[eid] = [parent, line.line_no]
                eid_tree = eid
            self.leaf = eid
        else:
            eid_tree = None
        self.line_keys[line.line_no] = dedup_key(d)
        known = _KNOWN_KEYS.get(t)
        extra_obj = {k: v for k, v in d.items() if k not in known} if known is not None and not d.keys() <= known else {}
        if bad:
            extra_obj["$invalid"] = bad
        if self.fork_ts is not None and ts is not None and ts < self.fork_ts:
            # a fork copies its parent's entries; they are older than the fork's header
            extra_obj["$fork_copy"] = True
        base = {
            "session_key": self.session_key,
            "agent": AGENT,
            "ts": ts,
            "source_file": self.path,
            "line_no": line.line_no,
            "uuid": eid,
            "parent_uuid": parent,
            "session_id": self.session_id,
            "cwd": self.cwd,
            "line_bytes": len(line.raw),
            "native_type": t,
        }
        ek = f"pi:{self.file_tag}:{line.line_no}"
        if t == "message":
            return self._message(d, d["message"], base, extra_obj, ek, eid_tree, line)
        if extra_obj:
            base["extra"] = dumps(shrink(extra_obj))
        if t == "model_change":
            provider, model = _str(d.get("provider")), _str(d.get("modelId"))
            if model:
                self.model, self.provider = model, provider
            self._add(base, eid_tree, event_key=f"{ek}:0", block_index=0, kind="model_change", model=model, provider=provider, text=model)
        elif t == "thinking_level_change":
            level = _str(d.get("thinkingLevel"))
            self._add(base, eid_tree, event_key=f"{ek}:0", block_index=0, kind="model_change", text=level, model=self.model, provider=self.provider)
        elif t == "compaction":
            self._compaction(d, base, ek, eid_tree)
        elif t == "branch_summary":
            text, nbytes = cap_text(_str(d.get("summary")))
            meta = {"fromId": d.get("fromId"), **extra_obj}
            llm = self._side_call(d.get("usage"), eid or f"L{line.line_no}")
            self._add({**base, "extra": dumps(shrink(meta))}, eid_tree, event_key=f"{ek}:0", block_index=0, kind="summary", text=text, text_bytes=nbytes, **llm)
        elif t == "custom":
            ctype = _str(d.get("customType"))
            text, nbytes = cap_text(dumps(shrink(d.get("data"), 1024)) if d.get("data") is not None else None)
            self._add(
                {**base, "native_type": f"custom/{ctype}" if ctype else "custom"},
                eid_tree,
                event_key=f"{ek}:0",
                block_index=0,
                kind="bookkeeping",
                text=text,
                text_bytes=nbytes,
            )
        elif t == "custom_message":
            ctype = _str(d.get("customType"))
            raw, images = content_text(d.get("content"))
            text, nbytes = cap_text(raw)
            if images:
                extra_obj["images"] = images
            self._add(
                {**base, "native_type": f"custom_message/{ctype}" if ctype else "custom_message", "extra": dumps(shrink(extra_obj)) if extra_obj else None},
                eid_tree,
                event_key=f"{ek}:0",
                block_index=0,
                kind="user_context",
                role="user",
                text=text,
                text_bytes=nbytes,
            )
        elif t == "label":
            label = _str(d.get("label"))
            meta = {"targetId": d.get("targetId"), **extra_obj}
            self._add({**base, "extra": dumps(shrink(meta))}, eid_tree, event_key=f"{ek}:0", block_index=0, kind="bookkeeping", text=label)
        elif t == "session_info":
            name = _str(d.get("name"))
            title = name.strip() or None if name is not None else None
            self._add(base, eid_tree, event_key=f"{ek}:0", block_index=0, kind="bookkeeping", title=title, text=name)
        else:
            # an entry type tracelab does not know: keep all of it
            base["extra"] = dumps(shrink(d, 1024))
            self._add(base, eid_tree, event_key=f"{ek}:0", block_index=0, kind="unknown")
        return None

    # ------------------------------------------------------------------ header
    def _header(self, d: dict, line: RawLine, raw_ts: str | None) -> str | None:
        hid = d.get("id")
        if not isinstance(hid, str) or not hid:
            return "session header without a string 'id'"
        ts = parse_ts(raw_ts) if raw_ts else None
        version = _int(d.get("version"))
        parent_ref = _str(d.get("parentSession")) or _str(d.get("branchedFrom"))
        extra_obj = {k: v for k, v in d.items() if k not in _ENTRY_KEYS | {"cwd", "provider", "modelId"}}
        extra_obj.setdefault("version", None)  # v1: no version field
        if raw_ts and ts is None:
            extra_obj["$invalid"] = {"timestamp": raw_ts}
        first = not self.header_seen
        if first:
            self.header_seen = True
            self.session_id = hid
            self.cwd = _str(d.get("cwd"))
            self.format_version = version or 1
            self.header_ts = ts
            if parent_ref:
                psid = _parent_session_id(parent_ref)
                self.forked_from = f"pi:{psid}" if psid and psid != hid else None
                self.fork_ts = ts
            if isinstance(d.get("modelId"), str):  # v1 headers carry the starting model
                self.model, self.provider = d["modelId"], _str(d.get("provider"))
        else:
            # pi reads only the first header; a later one (concatenated files) is kept as a row
            extra_obj["$ignored_header"] = True
        if ts is not None and (self.first_ts is None or ts < self.first_ts):
            self.first_ts = ts
        self.buf.add(
            session_key=self.session_key,
            agent=AGENT,
            ts=ts,
            source_file=self.path,
            line_no=line.line_no,
            event_key=f"pi:{self.file_tag}:{line.line_no}:0",
            block_index=0,
            kind="session_start",
            native_type="session",
            uuid=hid,
            session_id=self.session_id,
            cwd=_str(d.get("cwd")) if first else self.cwd,
            model=_str(d.get("modelId")),
            provider=_str(d.get("provider")),
            forked_from=self.forked_from if first else None,
            text=parent_ref,
            extra=dumps(shrink(extra_obj)),
            line_bytes=len(line.raw),
        )
        self.row_entry.append("")
        return None

    # ------------------------------------------------------------------ entries
    def _compaction(self, d: dict, base: dict, ek: str, eid_tree: str | None) -> None:
        kept_id = _str(d.get("firstKeptEntryId"))
        kept_index = _int(d.get("firstKeptEntryIndex"))
        kept_line = None
        if kept_id is not None and kept_id in self.parents:
            kept_line = self.parents[kept_id][1]
        elif kept_index is not None and 0 <= kept_index < len(self.entry_lines):
            kept_line = self.entry_lines[kept_index]  # v1: index into the file's entries, header = 0
        meta = {
            "tokensBefore": d.get("tokensBefore"),
            "firstKeptEntryId": kept_id,
            "firstKeptEntryIndex": kept_index,
            "firstKeptLineNo": kept_line,
        }
        self._add(base, eid_tree, event_key=f"{ek}:0", block_index=0, kind="compaction", text=dumps(meta))
        text, nbytes = cap_text(_str(d.get("summary")))
        llm = self._side_call(d.get("usage"), d.get("id") or f"L{base['line_no']}")
        self._add(base, eid_tree, event_key=f"{ek}:1", block_index=1, kind="compaction_summary", role="user", text=text, text_bytes=nbytes, **llm)

    def _side_call(self, usage: Any, eid: str) -> dict[str, Any]:
        """LLM-call columns for the summarisation call a compaction / branch summary reports
        in newer builds (``usage`` on the entry); empty when there is none."""
        if not isinstance(usage, dict):
            return {}
        tok = self._tokens(usage)
        self._note(*tok.values())
        return {
            "llm_call_key": f"pi:{self.session_id}:{eid}",
            "model": self.model,
            "provider": self.provider,
            "is_synthetic": False,
            **tok,
        }

    @staticmethod
    def _tokens(usage: Any) -> dict[str, Any]:
        if not isinstance(usage, dict):
            return {}
        cost = usage.get("cost")
        return {
            "input_tokens": _int(usage.get("input")),
            "output_tokens": _int(usage.get("output")),
            "cache_read_tokens": _int(usage.get("cacheRead")),
            "cache_write_tokens": _int(usage.get("cacheWrite")),
            "reasoning_tokens": _int(usage.get("reasoning")),
            "cost_usd": _num(cost.get("total")) if isinstance(cost, dict) else None,
        }

    def _message(self, d: dict, msg: dict, base: dict, entry_extra: dict, ek: str, eid_tree: str | None, line: RawLine) -> str | None:
        role = msg.get("role")
        if not isinstance(role, str):
            role_desc = "missing" if role is None else f"of wrong type {type(role).__name__}"
            return f"field 'message.role' is {role_desc}"
        known = _MSG_KEYS.get(role)
        extra_obj = dict(entry_extra)
        if known is not None:
            unknown = {k: v for k, v in msg.items() if k not in known}
            if unknown:
                extra_obj["message"] = unknown
        base["native_type"] = f"message/{role}"  # `base` is this line's own dict
        eid: Any = d.get("id")
        call_id = eid if eid_tree is not None else f"L{line.line_no}"
        if role == "assistant":
            return self._assistant(msg, base, extra_obj, ek, eid_tree, call_id)
        if extra_obj:
            base["extra"] = dumps(shrink(extra_obj))
        if role == "user":
            return self._user(msg, base, ek, eid_tree)
        if role == "toolResult":
            return self._tool_result(msg, base, extra_obj, ek, eid_tree)
        if role == "bashExecution":
            return self._bash(msg, base, extra_obj, ek, eid_tree, call_id)
        if role in ("custom", "hookMessage", "branchSummary", "compactionSummary"):
            raw, images = content_text(msg.get("content") if "content" in msg else msg.get("summary"))
            text, nbytes = cap_text(raw)
            kind = {"branchSummary": "summary", "compactionSummary": "compaction_summary"}.get(role, "user_context")
            if msg.get("customType") is not None:
                base["native_type"] = f"message/{role}/{msg.get('customType')}"
            self._add(base, eid_tree, event_key=f"{ek}:0", block_index=0, kind=kind, role="user", text=text, text_bytes=nbytes)
            return None
        base["extra"] = dumps(shrink(d, 1024))
        self._add(base, eid_tree, event_key=f"{ek}:0", block_index=0, kind="unknown", role=role)
        return None

    def _user(self, msg: dict, base: dict, ek: str, eid_tree: str | None) -> str | None:
        content = msg.get("content")
        common = {**base, "role": "user"}
        if isinstance(content, str) or content is None:
            text, nbytes = cap_text(content or "")
            self._add(common, eid_tree, event_key=f"{ek}:0", block_index=0, kind="user_prompt", text=text, text_bytes=nbytes)
            return None
        if not isinstance(content, list):
            return f"field 'message.content' of a user message has wrong type {type(content).__name__}"
        if not content:
            self._add(common, eid_tree, event_key=f"{ek}:0", block_index=0, kind="user_prompt", text="", text_bytes=0)
            return None
        for i, b in enumerate(content):
            bt = b.get("type") if isinstance(b, dict) else None
            if bt == "text":
                text, nbytes = cap_text(_str(b.get("text")) or "")
                self._add(common, eid_tree, event_key=f"{ek}:{i}", block_index=i, kind="user_prompt", text=text, text_bytes=nbytes)
            elif bt == "image":
                data = _str(b.get("data")) or ""
                meta = {**(orjson.loads(base["extra"]) if base.get("extra") else {}), "mimeType": b.get("mimeType")}
                self._add({**common, "extra": dumps(meta)}, eid_tree, event_key=f"{ek}:{i}", block_index=i, kind="image", text_bytes=len(data))
            else:
                self._add(
                    {**common, "extra": dumps(shrink(b, 1024))},
                    eid_tree,
                    event_key=f"{ek}:{i}",
                    block_index=i,
                    kind="unknown",
                    native_type=f"message/user/{bt}",
                )
        return None

    def _assistant(self, msg: dict, base: dict, extra_obj: dict, ek: str, eid_tree: str | None, call_id: str) -> str | None:
        content = msg.get("content")
        if content is not None and not isinstance(content, (list, str)):
            return f"field 'message.content' of an assistant message has wrong type {type(content).__name__}"
        usage = msg.get("usage")
        tok = self._tokens(usage)
        self._note(*tok.values())
        if usage is not None and not isinstance(usage, dict):
            extra_obj.setdefault("$invalid", {})["message.usage"] = shrink(usage)
        elif isinstance(usage, dict):
            bad = {k: usage[k] for k in ("input", "output", "cacheRead", "cacheWrite", "reasoning") if k in usage and _int(usage[k]) is None}
            if bad:
                extra_obj.setdefault("$invalid", {}).update({f"usage.{k}": v for k, v in bad.items()})
            more = {k: v for k, v in usage.items() if k not in _USAGE_KEYS and k != "totalTokens"}
            if "totalTokens" in usage and "input" not in usage and "output" not in usage:
                more["totalTokens"] = usage["totalTokens"]  # a total with no breakdown: kept, not guessed
            if more:
                extra_obj["usage"] = more  # e.g. cacheWrite1h: kept, not added to cache_write
        stop = _str(msg.get("stopReason"))
        model = _str(msg.get("model"))
        provider = _str(msg.get("provider"))
        if model:
            self.model, self.provider = model, provider or self.provider
        failed = stop in ("aborted", "error")
        used = sum(v or 0 for k, v in tok.items() if k.endswith("_tokens") and k != "reasoning_tokens")
        for k in ("api", "responseModel"):
            if k in msg:
                extra_obj[k] = msg[k]
        req_ts = msg.get("timestamp")
        req_ms = parse_ts(req_ts) if _int(req_ts) is not None else None
        self._note(req_ms)
        common = {
            **base,
            "role": "assistant",
            "model": model,
            "provider": provider,
            "message_id": _str(msg.get("responseId")),
            "llm_call_key": f"pi:{self.session_id}:{call_id}",
            "is_synthetic": failed and used == 0,
            "stop_reason": stop,
            "request_ts": req_ms,
            "extra": dumps(shrink(extra_obj)) if extra_obj else None,
            **tok,
        }
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else (content or [])
        for i, b in enumerate(blocks):
            if not isinstance(b, dict):
                text, nbytes = cap_text(str(b))
                self._add(common, eid_tree, event_key=f"{ek}:{i}", block_index=i, kind="unknown", text=text, text_bytes=nbytes)
                continue
            bt = b.get("type")
            # per-block columns go in as overrides of `common` (no second merged copy per block)
            over: dict[str, Any] = {"native_type": f"message/assistant/{bt}"}
            if not b.keys() <= _BLOCK_KEYS:
                bextra = {k: v for k, v in b.items() if k not in _BLOCK_KEYS}
                over["extra"] = dumps(shrink({**extra_obj, "block": bextra}))
            if bt == "text":
                text, nbytes = cap_text(_str(b.get("text")))
                self._add(common, eid_tree, event_key=f"{ek}:{i}", block_index=i, kind="assistant_text", text=text, text_bytes=nbytes, **over)
            elif bt == "thinking":
                text, nbytes = cap_text(_str(b.get("thinking")))
                self._add(common, eid_tree, event_key=f"{ek}:{i}", block_index=i, kind="thinking", text=text, text_bytes=nbytes, **over)
            elif bt == "toolCall":
                args = b.get("arguments")
                capped, nbytes = cap_text(dumps(args) if args is not None else None, S.TOOL_INPUT_CAP)
                self._add(
                    common,
                    eid_tree,
                    event_key=f"{ek}:{i}",
                    block_index=i,
                    kind="tool_call",
                    tool_call_id=_str(b.get("id")),
                    tool_name=_str(b.get("name")),
                    tool_input=capped,
                    text_bytes=nbytes,
                    **over,
                )
            elif bt == "image":
                data = _str(b.get("data")) or ""
                self._add(common, eid_tree, event_key=f"{ek}:{i}", block_index=i, kind="image", text_bytes=len(data), **over)
            else:
                over["extra"] = dumps(shrink({**extra_obj, "block": b}, 1024))
                self._add(common, eid_tree, event_key=f"{ek}:{i}", block_index=i, kind="unknown", **over)
        if failed or not blocks:
            # the failure itself is one row after the content: an aborted stream is the user
            # interrupting; an error stop is the API (or the connection) failing
            i = len(blocks)
            err = _str(msg.get("errorMessage"))
            kind = "interrupt" if stop == "aborted" else "api_error" if stop == "error" else "assistant_text"
            text, nbytes = cap_text(err)
            self._add(
                {**common, "native_type": f"message/assistant/stopReason:{stop}" if failed else "message/assistant"},
                eid_tree,
                event_key=f"{ek}:{i}",
                block_index=i,
                kind=kind,
                text=text,
                text_bytes=nbytes,
                is_error=True if stop == "error" else None,
            )
        return None

    def _tool_result(self, msg: dict, base: dict, extra_obj: dict, ek: str, eid_tree: str | None) -> str | None:
        tid = _str(msg.get("toolCallId"))
        name = _str(msg.get("toolName"))
        raw, images = content_text(msg.get("content"))
        is_error = msg.get("isError") is True
        status, exit_code = classify_tool_result(name, raw, is_error)
        self._note(exit_code, bound=2**31)
        details = msg.get("details")
        meta = dict(extra_obj)
        if details not in (None, {}):
            meta["details"] = details
        if images:
            meta["images"] = images
        text, nbytes = cap_text(raw)
        base["extra"] = dumps(shrink(meta)) if meta else None
        self._add(
            base,
            eid_tree,
            event_key=f"{ek}:0",
            block_index=0,
            kind="tool_result",
            role="tool",
            tool_call_id=tid,
            tool_name=name,
            text=text,
            text_bytes=nbytes,
            is_error=is_error,
            status=status,
            exit_code=exit_code,
        )
        return None

    def _bash(self, msg: dict, base: dict, extra_obj: dict, ek: str, eid_tree: str | None, call_id: str) -> str | None:
        """A user-run ``!command``: a tool call and its result on the same line, under a
        synthetic tool_call_id (pi gives these none)."""
        command = _str(msg.get("command"))
        exit_code = _int(msg.get("exitCode"))
        self._note(exit_code, bound=2**31)
        cancelled = msg.get("cancelled") is True
        if cancelled:
            status = "interrupted"
        elif exit_code is not None and exit_code != 0:
            status = "error"
        else:
            status = "ok"
        tid = f"user-bash:{call_id}"
        capped, ibytes = cap_text(dumps({"command": command}), S.TOOL_INPUT_CAP)
        common = {**base, "role": "user", "tool_call_id": tid, "tool_name": USER_BASH_TOOL}
        self._add(common, eid_tree, event_key=f"{ek}:0", block_index=0, kind="tool_call", tool_input=capped, text_bytes=ibytes)
        meta = {**extra_obj, "cancelled": cancelled}
        text, nbytes = cap_text(_str(msg.get("output")))
        self._add(
            {**common, "extra": dumps(shrink(meta))},
            eid_tree,
            event_key=f"{ek}:1",
            block_index=1,
            kind="tool_result",
            text=text,
            text_bytes=nbytes,
            status=status,
            is_error=status != "ok",
            exit_code=exit_code,
        )
        return None


def parse(path: str | Path, start_offset: int = 0, start_line: int = 0, state: dict | None = None) -> ParseResult:
    return PiParser(path, state).parse(start_offset, start_line)
