"""Claude Code session JSONL → canonical events.

See ``README.md`` beside this file for the format quirks handled here and why.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracelab import schema as S
from tracelab.ingest.base import (
    FILL_TS,
    EventBuffer,
    ParseResult,
    RawLine,
    RejectBuffer,
    Repeats,
    as_dict,
    as_str,
    cap_text,
    dumps,
    parse_ts,
    scan,
    shrink,
)

AGENT = "claude"
PARSER_VERSION = "claude/3"

_EXIT_RE = re.compile(r"^(?:Error: )?Exit code (\d+)")
_AGENT_FILE_RE = re.compile(r"^agent-([0-9a-zA-Z]+)$")
_ID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.:-]*$")
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

INTERRUPT_PREFIX = "[Request interrupted by user"

#: Envelope fields consumed into columns; anything else on a line goes to ``extra``.
_ENVELOPE = frozenset(
    {
        "type",
        "subtype",
        "uuid",
        "parentUuid",
        "logicalParentUuid",
        "isSidechain",
        "userType",
        "cwd",
        "gitBranch",
        "sessionId",
        "version",
        "timestamp",
        "agentId",
        "message",
        "requestId",
        "isMeta",
        "isApiErrorMessage",
        "toolUseResult",
        "slug",
        "entrypoint",
        "permissionMode",
        "promptId",
        "sourceToolAssistantUUID",
        "isCompactSummary",
        "isVisibleInTranscriptOnly",
        "content",
        "level",
        "summary",
        "leafUuid",
        "data",
        "toolUseID",
        "parentToolUseID",
        "durationMs",
        "error",
        "thinkingMetadata",
        "todos",
        "attachment",
        "costUSD",
    }
)

#: Tool results that mean the user (or the permission system) declined the call.
_REJECT_MARKERS = (
    "The user doesn't want to proceed with this tool use",
    "The user doesn't want to take this action right now",
    "This command requires approval",
    "Permission to use",
    "Permission for this tool use was denied",
)
_PERMISSION_RE = re.compile(r"^Claude requested permissions to .* but you haven't granted it yet")
#: Harness/guard errors that look like prose but are tool failures, not user feedback.
_TOOL_ERROR_PREFIXES = (
    "Exit code",
    "<tool_use_error>",
    "Error:",
    "Found ",
    "File has not been read",
    "String to replace",
    "EISDIR",
    "ENOENT",
    "EACCES",
    "File does not exist",
    "Shell ",
    "This Bash command",
    "Traceback",
    "Command timed out",
    "Tool execution failed",
    "InputValidationError",
    "No such tool",
    "Request failed",
    "File content",
    "Invalid URL",
    "Failed to fetch",
    "Unable to",
    "Redirect",
)
#: Tools that ask for the user's approval, so a refusal can come back as the user's own words.
_EDITLIKE_TOOLS = {"Bash", "Edit", "Write", "MultiEdit", "NotebookEdit", "WebFetch"}

#: Bookkeeping line types (no conversation content).
_BOOKKEEPING = {
    "file-history-snapshot",
    "queue-operation",
    "permission-mode",
    "mode",
    "last-prompt",
    "pr-link",
    "worktree-state",
    "agent-name",
    "frame-link",
    "bridge-session",
    "relocated",
    "started",
    "atis-latch",
}
_TITLE_TYPES = {"ai-title": "aiTitle", "custom-title": "customTitle"}


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _version_tuple(v: str | None) -> tuple[int, ...]:
    if not v:
        return ()
    out = []
    for part in v.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def classify_tool_result(text: str, is_error: bool, tool_name: str | None, version: str | None, tur: Any) -> str:
    """Status of a Claude tool_result: ok | error | user_rejected | interrupted.

    ``is_error`` covers tool failures, user rejections (with or without typed feedback),
    permission denials and interrupts; they are told apart by the result text. Typed rejection
    feedback (2.0.x: the user's own words become the result text) is recognised only for
    tools that ask for approval, when the text carries none of the harness's error shapes.
    """
    if isinstance(tur, dict) and tur.get("interrupted") is True:
        return "interrupted"
    if not is_error:
        return "ok"
    head = text.lstrip()[:200]
    if head.startswith(INTERRUPT_PREFIX):
        return "interrupted"
    for marker in _REJECT_MARKERS:
        if head.startswith(marker):
            return "user_rejected"
    if _PERMISSION_RE.match(head):
        return "user_rejected"
    if (
        tool_name in _EDITLIKE_TOOLS
        and _version_tuple(version) >= (2, 0)
        and not head.startswith(_TOOL_ERROR_PREFIXES)
        and "\n" not in text.strip()
        and len(text) < 600
    ):
        return "user_rejected"
    return "error"


def _block_text(content: Any) -> tuple[str, int]:
    """Text of a tool_result / message content (string or block list) and the image count."""
    if content is None:
        return "", 0
    if isinstance(content, str):
        return content, 0
    parts: list[str] = []
    images = 0
    if isinstance(content, list):
        for b in content:
            if isinstance(b, dict):
                bt = b.get("type")
                if bt == "text":
                    t = b.get("text")
                    if isinstance(t, str):
                        parts.append(t)
                elif bt == "image":
                    images += 1
                elif isinstance(b.get("text"), str):
                    parts.append(b["text"])
            elif isinstance(b, str):
                parts.append(b)
    elif isinstance(content, dict):
        return dumps(content), 0
    else:
        return str(content), 0
    return "\n".join(parts), images


def _count(v: Any) -> int | None:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _tokens(usage: Any) -> tuple[Any, Any, Any, Any]:
    if not isinstance(usage, dict):
        return None, None, None, None
    get = usage.get
    return (
        _count(get("input_tokens")),
        _count(get("output_tokens")),
        _count(get("cache_read_input_tokens")),
        _count(get("cache_creation_input_tokens")),
    )


class _UnknownRepeats(Repeats):
    """Copies of a line of an unknown record type without a uuid, outside a sidechain, right
    after it (the row depends on the line's bytes and the parser's state, which such a line
    leaves as it was; only the line number and the event key derived from it differ)."""

    __slots__ = ("buf", "tag")

    def __init__(self, buf: EventBuffer, file_tag: str) -> None:
        super().__init__()
        self.buf, self.tag = buf, file_tag

    def emit(self, first_line: int, n: int) -> None:
        assert self.row is not None
        line_nos = np.arange(first_line, first_line + n, dtype=np.int64)
        keys = pc.binary_join_element_wise(pa.scalar(f"{self.tag}:"), pa.array(line_nos).cast(pa.string()), pa.scalar(":0"), "")
        self.buf.add_repeats(self.row, line_nos, {"event_key": keys})


class ClaudeParser:
    """Parses one Claude Code JSONL file (or its appended tail, given the saved ``state``)."""

    def __init__(self, path: str | Path, state: dict[str, Any] | None = None):
        self.path = str(path)
        self.buf = EventBuffer(start_ts=(state or {}).get(FILL_TS))
        self.rejects = RejectBuffer()
        self.line_keys: dict[int, str] = {}
        st = dict(state or {})
        stem = Path(self.path).stem
        m = _AGENT_FILE_RE.match(stem)
        self.file_agent_id: str | None = st.get("file_agent_id") or (m.group(1) if m else None)
        self.file_session_id: str | None = st.get("file_session_id") or (stem if _UUID_RE.match(stem) else None)
        if self.file_agent_id and not st.get("file_session_id"):
            # <session>/subagents/agent-x.jsonl: the parent session id is the grandparent dir
            parent = Path(self.path).parent
            if parent.name == "subagents" and _UUID_RE.match(parent.parent.name):
                self.file_session_id = parent.parent.name
            else:
                self.file_session_id = None
        self.last_ts: int | None = st.get("last_ts")
        self.last_session_key: str | None = st.get("last_session_key")
        self.pending_tools: dict[str, list] = st.get("pending_tools", {})  # id -> [name, session_key]
        self.sc_root: dict[str, str] = st.get("sc_root", {})
        self.open_task: str | None = st.get("open_task")
        self.first_ts: int | None = None
        self.file_tag = format(zlib.crc32(self.path.encode()), "08x")
        self.version: str | None = st.get("version")
        self.repeats = _UnknownRepeats(self.buf, self.file_tag)

    # ------------------------------------------------------------------ identity
    def _session_key(self, d: dict, uuid: str | None) -> tuple[str, str | None, str | None, bool]:
        """(session_key, session_id, subagent_id, is_sidechain) for a line."""
        sid = d.get("sessionId")
        if not isinstance(sid, str) or not sid:
            sid = self.file_session_id
        agent_id = d.get("agentId")
        if not isinstance(agent_id, str) or not agent_id:
            agent_id = self.file_agent_id
        side = d.get("isSidechain") is True
        if sid is None:
            if self.last_session_key:
                return self.last_session_key, None, agent_id, side
            sid = Path(self.path).stem
        if agent_id:
            key = f"claude:{sid}/agent-{agent_id}"
        elif side:
            parent = d.get("parentUuid")
            root = self.sc_root.get(parent) if isinstance(parent, str) else None
            if root is None:
                root = uuid or f"L{len(self.sc_root)}"
            if uuid:
                self.sc_root[uuid] = root
            agent_id = f"sidechain-{root[:8]}"
            key = f"claude:{sid}/{agent_id}"
        else:
            key = f"claude:{sid}"
        self.last_session_key = key
        return key, sid, agent_id, side

    # ------------------------------------------------------------------ main loop
    def parse(self, start_offset: int = 0, start_line: int = 0) -> ParseResult:
        lines_total, lines_rejected, _, end_offset, end_line = scan(
            self.path,
            AGENT,
            start_offset,
            start_line,
            self.rejects,
            self._line,
            bulk_rejects=True,
            repeat=self.repeats,
        )
        state = {
            "file_agent_id": self.file_agent_id,
            "file_session_id": self.file_session_id,
            "last_ts": self.last_ts,
            "last_session_key": self.last_session_key,
            "pending_tools": self.pending_tools,
            "sc_root": self.sc_root,
            "open_task": self.open_task,
            "version": self.version,
        }
        return ParseResult(
            path=self.path,
            agent=AGENT,
            buffer=self.buf,
            rejects=self.rejects,
            line_keys=self.line_keys,
            lines_total=lines_total,
            lines_rejected=lines_rejected,
            lines_skipped_duplicate=0,
            bytes_ingested=end_offset,
            end_line_no=end_line,
            state=state,
            first_ts=self.first_ts,
            parser_version=PARSER_VERSION,
        )

    def _line(self, obj: Any, err: str | None, line: RawLine) -> str | None:
        """One line of the scan: rows of earlier lines are never changed again, so the buffer
        may flush them first (bounded memory for any file size)."""
        self.buf.settle()
        self.repeats.row = None
        return err if err is not None else self._handle(obj, line)

    # ------------------------------------------------------------------ dispatch
    def _handle(self, d: dict, line: RawLine) -> str | None:
        # every envelope field is read once into a local (this runs for every line)
        get = d.get
        t = get("type")
        if t is not None and not isinstance(t, str):
            return f"field 'type' has wrong type {type(t).__name__}"
        msg = get("message")
        if t is None and isinstance(msg, dict) and msg.get("role") in ("user", "assistant"):
            # very old / exported lines carry no `type`: the message role says what they are
            t = msg["role"]
        raw_ts = get("timestamp")
        if raw_ts is not None and not isinstance(raw_ts, str):
            return f"field 'timestamp' has wrong type {type(raw_ts).__name__}"
        ts = parse_ts(raw_ts) if raw_ts else None
        bad_ts = raw_ts if raw_ts and ts is None else None  # kept in extra, the line stays
        uuid = get("uuid")
        if uuid is not None and not isinstance(uuid, str):
            return f"field 'uuid' has wrong type {type(uuid).__name__}"
        if t in ("user", "assistant") and not isinstance(msg, dict):
            return f"field 'message' of a {t} line has wrong type {type(msg).__name__}"
        if ts is not None:
            self.last_ts = ts
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts = ts
        version = get("version")
        if not isinstance(version, str):
            version = None
        if version:
            self.version = version
        if t == "progress":
            data = get("data")
            if isinstance(data, dict) and data.get("type") == "agent_progress":
                return self._agent_progress(d, line, ts)
        key, sid, agent_id, side = self._session_key(d, uuid)
        parent_uuid = get("parentUuid")
        if not isinstance(parent_uuid, str):
            parent_uuid = None
        subtype = get("subtype")
        if t == "system" and subtype == "compact_boundary" and isinstance(get("logicalParentUuid"), str):
            parent_uuid = d["logicalParentUuid"]
        if bad_ts is None and d.keys() <= _ENVELOPE:  # the usual line: nothing for extra
            extra = None
        else:
            extra_obj = {k: v for k, v in d.items() if k not in _ENVELOPE}
            if bad_ts is not None:
                extra_obj["$unparsed_timestamp"] = bad_ts
            extra = dumps(shrink(extra_obj)) if extra_obj else None
        cwd = get("cwd")
        git_branch = get("gitBranch")
        base = {
            "session_key": key,
            "agent": AGENT,
            "ts": ts,
            "source_file": self.path,
            "line_no": line.line_no,
            "uuid": uuid,
            "parent_uuid": parent_uuid,
            "session_id": sid,
            "subagent_id": agent_id,
            "is_sidechain": side,
            "is_meta": get("isMeta") is True,
            "agent_version": version or self.version,
            "cwd": cwd if isinstance(cwd, str) else None,
            "git_branch": git_branch if isinstance(git_branch, str) else None,
            "line_bytes": len(line.raw),
            "extra": extra,
            "native_type": t if not subtype else f"{t}/{subtype}",
        }
        if agent_id and sid:
            base["parent_session_key"] = f"claude:{sid}"
        if uuid and _ID_RE.match(uuid):
            # resumed/forked copies repeat a line with the same uuid AND timestamp; placeholder
            # ids (fixtures, redacted exports) must not collapse distinct lines
            self.line_keys[line.line_no] = f"{uuid}|{raw_ts or ''}"
        else:
            uuid = uuid if uuid and _ID_RE.match(uuid) else None
        ek = uuid or f"{self.file_tag}:{line.line_no}"
        if side and not d.get("agentId") and not self.file_agent_id and parent_uuid is None and self.open_task:
            base["parent_tool_call_id"] = self.open_task
        if t == "assistant":
            return self._assistant(d, base, ek)
        if t == "user":
            return self._user(d, base, ek)
        if t == "system":
            return self._system(d, base, ek)
        if t == "summary":
            s = d.get("summary") if isinstance(d.get("summary"), str) else None
            text, nbytes = cap_text(s)
            leaf = d.get("leafUuid") if isinstance(d.get("leafUuid"), str) else None
            # parent_uuid holds the summary's leafUuid: it may point into another session's file
            self.buf.add({**base, "parent_uuid": leaf}, event_key=f"{ek}:0", block_index=0, kind="summary", text=text, text_bytes=nbytes, title=s)
            return None
        if t == "progress":
            return self._progress(d, base, ek)
        if t == "attachment":
            att = as_dict(d.get("attachment"))
            at = att.get("type") if isinstance(att.get("type"), str) else None
            kind = "hook" if at and at.startswith("hook_") else "user_context"
            text, nbytes = cap_text(dumps(shrink(att, 1024)))
            self.buf.add(**{**base, "native_type": f"attachment/{at}"}, event_key=f"{ek}:0", block_index=0, kind=kind, text=text, text_bytes=nbytes)
            return None
        if t in _TITLE_TYPES:
            title = d.get(_TITLE_TYPES[t]) if isinstance(d.get(_TITLE_TYPES[t]), str) else None
            if title is None:
                for k in ("title", "aiTitle", "customTitle"):
                    if isinstance(d.get(k), str):
                        title = d[k]
            self.buf.add(base, event_key=f"{ek}:0", block_index=0, kind="bookkeeping", title=title, text=title)
            return None
        if t in _BOOKKEEPING:
            text = None
            if t == "queue-operation":
                text, _ = _block_text(d.get("content"))
                text = text or None
            text, nbytes = cap_text(text)
            self.buf.add(base, event_key=f"{ek}:0", block_index=0, kind="bookkeeping", text=text, text_bytes=nbytes)
            return None
        # a type tracelab does not know (or none at all): keep everything in extra
        raw_extra = dumps(shrink(d, 1024))  # shrink copies
        base["extra"] = raw_extra
        self.buf.add(base, event_key=f"{ek}:0", block_index=0, kind="unknown")
        if uuid is None and not side:  # the event key is the line's, the state unchanged by a copy
            self.repeats.row = self.buf.rows[-1]
        return None

    # ------------------------------------------------------------------ line types
    def _assistant(self, d: dict, base: dict, ek: str) -> str | None:
        msg = d["message"]
        mget = msg.get
        model = _str(mget("model"))
        mid = _str(mget("id"))
        rid = _str(d.get("requestId"))
        is_api_error = d.get("isApiErrorMessage") is True
        synthetic = model == "<synthetic>" or is_api_error
        if mid:
            # message ids are unique per API response; the request id is part of the key so that
            # re-used placeholder ids in hand-made fixtures do not merge distinct responses
            call_key = f"claude:{mid}:{rid}" if rid else f"claude:{mid}"
        elif rid:
            call_key = f"claude:req:{rid}"
        else:
            call_key = f"claude:line:{ek}"
        usage = mget("usage")
        inp, out, cr, cw = _tokens(usage)
        speed = _str(usage.get("speed")) if isinstance(usage, dict) else None
        stop = _str(mget("stop_reason"))
        cost = d.get("costUSD")
        common = base  # this line's own dict: no copy
        common.update(
            {
                "role": "assistant",
                "model": model,
                "provider": "anthropic" if model and model != "<synthetic>" else None,
                "message_id": mid,
                "request_id": rid,
                "llm_call_key": call_key,
                "is_synthetic": synthetic,
                "input_tokens": inp,
                "output_tokens": out,
                "cache_read_tokens": cr,
                "cache_write_tokens": cw,
                "stop_reason": stop,
                "speed": speed,
                "cost_usd": cost if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None,
            }
        )
        content = mget("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list) or not content:
            kind = "api_error" if is_api_error else "assistant_text"
            self.buf.add(common, event_key=f"{ek}:0", block_index=0, kind=kind)
            return None
        for i, b in enumerate(content):
            if not isinstance(b, dict):
                text, nbytes = cap_text(str(b))
                self.buf.add(common, event_key=f"{ek}:{i}", block_index=i, kind="unknown", text=text, text_bytes=nbytes)
                continue
            bt = b.get("type")
            if bt == "text":
                text, nbytes = cap_text(b.get("text") if isinstance(b.get("text"), str) else None)
                kind = "api_error" if is_api_error else "assistant_text"
                self.buf.add(common, event_key=f"{ek}:{i}", block_index=i, kind=kind, text=text, text_bytes=nbytes, is_error=is_api_error or None)
            elif bt in ("thinking", "redacted_thinking"):
                raw = b.get("thinking") if bt == "thinking" else None
                text, nbytes = cap_text(raw if isinstance(raw, str) else None)
                self.buf.add(common, event_key=f"{ek}:{i}", block_index=i, kind="thinking", text=text, text_bytes=nbytes, native_type=f"assistant/{bt}")
            elif bt in ("tool_use", "server_tool_use"):
                tid = b.get("id") if isinstance(b.get("id"), str) else None
                name = b.get("name") if isinstance(b.get("name"), str) else None
                inp_json = dumps(b.get("input")) if b.get("input") is not None else None
                capped, nbytes = cap_text(inp_json, S.TOOL_INPUT_CAP)
                self.buf.add(
                    common,
                    event_key=f"{ek}:{i}",
                    block_index=i,
                    kind="tool_call",
                    tool_call_id=tid,
                    tool_name=name,
                    tool_input=capped,
                    text_bytes=nbytes,
                    native_type=f"assistant/{bt}",
                )
                if tid:
                    self.pending_tools[tid] = [name, base["session_key"]]
                    if name in ("Task", "Agent") and not base["is_sidechain"]:
                        self.open_task = tid
            elif isinstance(bt, str) and bt.endswith("_tool_result"):
                tid = b.get("tool_use_id") if isinstance(b.get("tool_use_id"), str) else None
                text, nbytes = cap_text(dumps(shrink(b.get("content"), 2048)))
                name = self.pending_tools.pop(tid, [None])[0] if tid else None
                self.buf.add(
                    common,
                    event_key=f"{ek}:{i}",
                    block_index=i,
                    kind="tool_result",
                    tool_call_id=tid,
                    tool_name=name,
                    text=text,
                    text_bytes=nbytes,
                    status="ok",
                    native_type=f"assistant/{bt}",
                )
            else:
                self.buf.add({**common, "extra": dumps(shrink(b, 1024))}, event_key=f"{ek}:{i}", block_index=i, kind="unknown", native_type=f"assistant/{bt}")
        return None

    def _classify_user_text(self, text: str, d: dict) -> str:
        if d.get("isCompactSummary") is True:
            return "compaction_summary"
        head = text.lstrip()[:64]
        if head.startswith(INTERRUPT_PREFIX):
            return "interrupt"
        if d.get("isMeta") is True:
            return "user_context"
        if head.startswith(
            (
                "<command-name>",
                "<local-command-stdout>",
                "<command-message>",
                "<local-command-stderr>",
                "Caveat:",
                "<system-reminder>",
                "<bash-input>",
                "<bash-stdout>",
                "<bash-stderr>",
                "<task-notification>",
                "<user-prompt-submit-hook>",
            )
        ):
            return "user_context"
        return "user_prompt"

    def _user(self, d: dict, base: dict, ek: str) -> str | None:
        msg = d["message"]
        content = msg.get("content")
        common = base  # this line's own dict: no copy
        common["role"] = "user"
        if isinstance(content, str) or content is None:
            text_full = content or ""
            kind = self._classify_user_text(text_full, d)
            text, nbytes = cap_text(text_full)
            self.buf.add(common, event_key=f"{ek}:0", block_index=0, kind=kind, text=text, text_bytes=nbytes)
            return None
        if not isinstance(content, list):
            return f"field 'message.content' has wrong type {type(content).__name__}"
        if not content:
            self.buf.add(common, event_key=f"{ek}:0", block_index=0, kind="user_context")
            return None
        tur = d.get("toolUseResult")
        n_results = sum(1 for b in content if isinstance(b, dict) and b.get("type") == "tool_result")
        for i, b in enumerate(content):
            if not isinstance(b, dict):
                text, nbytes = cap_text(str(b))
                self.buf.add(common, event_key=f"{ek}:{i}", block_index=i, kind="unknown", text=text, text_bytes=nbytes)
                continue
            bt = b.get("type")
            if bt == "tool_result":
                self._tool_result(b, tur if n_results == 1 else None, common, ek, i)
            elif bt == "text":
                raw = as_str(b.get("text"))
                kind = self._classify_user_text(raw, d)
                text, nbytes = cap_text(raw)
                self.buf.add(common, event_key=f"{ek}:{i}", block_index=i, kind=kind, text=text, text_bytes=nbytes)
            elif bt == "image":
                src = as_dict(b.get("source"))
                data = as_str(src.get("data"))
                meta = {"media_type": src.get("media_type"), "source_type": src.get("type")}
                self.buf.add({**common, "extra": dumps(meta)}, event_key=f"{ek}:{i}", block_index=i, kind="image", text_bytes=len(data))
            else:
                self.buf.add({**common, "extra": dumps(shrink(b, 1024))}, event_key=f"{ek}:{i}", block_index=i, kind="unknown", native_type=f"user/{bt}")
        return None

    def _tool_result(self, b: dict, tur: Any, common: dict, ek: str, i: int) -> None:
        tid = b.get("tool_use_id") if isinstance(b.get("tool_use_id"), str) else None
        raw_text, images = _block_text(b.get("content"))
        is_error = b.get("is_error") is True
        pending = self.pending_tools.pop(tid, None) if tid else None
        name = pending[0] if pending else None
        status = classify_tool_result(raw_text, is_error, name, common.get("agent_version"), tur)
        exit_code = None
        m = _EXIT_RE.match(raw_text)
        if m:
            exit_code = int(m.group(1))
        elif isinstance(tur, dict) and isinstance(tur.get("exitCode"), int):
            exit_code = tur["exitCode"]
        elif name == "Bash" and status == "ok":
            exit_code = 0  # Claude Code reports every non-zero exit as is_error "Exit code N"
        duration = None
        sub_id = None
        extra = common.get("extra")
        if isinstance(tur, dict):
            for k in ("durationMs", "totalDurationMs"):
                v = tur.get(k)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    duration = float(v)
                    break
            else:
                v = tur.get("durationSeconds")
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    duration = float(v) * 1000.0
            if isinstance(tur.get("agentId"), str):
                sub_id = tur["agentId"]
            extra = dumps({"toolUseResult": shrink(tur)})
        elif isinstance(tur, str) and is_error:
            pass
        text, nbytes = cap_text(raw_text)
        self.buf.add(
            common,
            extra=extra,
            event_key=f"{ek}:{i}",
            block_index=i,
            kind="tool_result",
            tool_call_id=tid,
            tool_name=name,
            text=text,
            text_bytes=nbytes,
            is_error=is_error,
            status=status,
            exit_code=exit_code,
            duration_ms=duration,
            spawned_session_key=f"claude:{common['session_id']}/agent-{sub_id}" if sub_id and common.get("session_id") else None,
        )
        if tid and tid == self.open_task:
            self.open_task = None

    def _system(self, d: dict, base: dict, ek: str) -> str | None:
        st = d.get("subtype")
        content = d.get("content")
        text_raw = content if isinstance(content, str) else (dumps(content) if content is not None else None)
        duration = None
        kind = "system"
        is_error = None
        if st == "compact_boundary":
            kind = "compaction"
            meta = d.get("compactMetadata")
            text_raw = dumps(meta) if meta is not None else text_raw
        elif st == "microcompact_boundary":
            kind = "microcompaction"
            meta = d.get("microcompactMetadata")
            text_raw = dumps(meta) if meta is not None else text_raw
        elif st == "api_error" or st == "error":
            kind = "api_error"
            is_error = True
            err = d.get("error")
            if err not in (None, {}, ""):
                text_raw = dumps(err) if not isinstance(err, str) else err
            elif text_raw is None:
                text_raw = "api_error"
        elif st == "turn_duration":
            kind = "turn_end"
            v = d.get("durationMs")
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                duration = float(v)
        elif st == "stop_hook_summary":
            kind = "hook"
            text_raw = dumps(shrink({k: d.get(k) for k in ("hookCount", "hookInfos", "hookErrors", "preventedContinuation", "stopReason")}, 1024))
        elif st is None and isinstance(content, str) and ("Hook" in content or "hook" in content[:80]):
            kind = "hook"
        elif st == "local_command":
            kind = "user_context"
        text, nbytes = cap_text(text_raw)
        self.buf.add(
            **base,
            event_key=f"{ek}:0",
            block_index=0,
            kind=kind,
            text=text,
            text_bytes=nbytes,
            duration_ms=duration,
            is_error=is_error,
            tool_call_id=d.get("toolUseID") if isinstance(d.get("toolUseID"), str) else None,
        )
        return None

    def _progress(self, d: dict, base: dict, ek: str) -> str | None:
        data = as_dict(d.get("data"))
        dt = data.get("type") if isinstance(data.get("type"), str) else None
        kind = "hook" if dt == "hook_progress" else "tool_event"
        tid = d.get("toolUseID") if isinstance(d.get("toolUseID"), str) else None
        ptid = d.get("parentToolUseID") if isinstance(d.get("parentToolUseID"), str) else None
        text, nbytes = cap_text(dumps(shrink(data, 512)))
        self.buf.add(
            **{**base, "native_type": f"progress/{dt}"}, event_key=f"{ek}:0", block_index=0, kind=kind, text=text, text_bytes=nbytes, tool_call_id=ptid or tid
        )
        return None

    def _agent_progress(self, d: dict, line: RawLine, ts: int | None) -> str | None:
        """Inline subagent streaming (2.1.12–2.1.37): the nested record belongs to the subagent
        session; its uuid is the line's dedup key, so a separate subagent file with the same
        record does not count it twice."""
        data = d["data"]
        rec = data.get("message")
        agent_id = data.get("agentId") if isinstance(data.get("agentId"), str) else None
        sid = d.get("sessionId") if isinstance(d.get("sessionId"), str) else self.file_session_id
        if not isinstance(rec, dict) or not agent_id or not sid:
            key, sid2, aid, side = self._session_key(d, d.get("uuid"))
            text, nbytes = cap_text(dumps(shrink(data, 512)))
            uuid = d.get("uuid") if isinstance(d.get("uuid"), str) and _ID_RE.match(d["uuid"]) else None
            if uuid:
                self.line_keys[line.line_no] = f"{uuid}|{d.get('timestamp') or ''}"
            self.buf.add(
                session_key=key,
                agent=AGENT,
                ts=ts,
                source_file=self.path,
                line_no=line.line_no,
                block_index=0,
                event_key=f"{uuid or self.file_tag + ':' + str(line.line_no)}:0",
                kind="tool_event",
                native_type="progress/agent_progress",
                text=text,
                text_bytes=nbytes,
                session_id=sid2,
                line_bytes=len(line.raw),
            )
            return None
        nested = dict(rec)
        nested.setdefault("sessionId", sid)
        nested["agentId"] = agent_id
        nested["isSidechain"] = True
        for k in ("cwd", "gitBranch", "version"):
            if k not in nested and k in d:
                nested[k] = d[k]
        if "timestamp" not in nested and "timestamp" in d:
            nested["timestamp"] = d["timestamp"]
        rtype = nested.get("type")
        if rtype not in ("user", "assistant") or not isinstance(nested.get("message"), dict):
            nested = {**nested, "type": rtype or "unknown"}
        saved_agent, saved_sid = self.file_agent_id, self.file_session_id
        saved_key = self.last_session_key
        try:
            reason = self._handle(nested, RawLine(line.line_no, line.offset, line.raw, line.complete))
        finally:
            self.file_agent_id, self.file_session_id = saved_agent, saved_sid
            self.last_session_key = saved_key
        if reason is None:
            ptid = d.get("parentToolUseID") if isinstance(d.get("parentToolUseID"), str) else None
            # mark the rows of this line as coming from inline progress
            for j in range(self.buf.n - 1, self.buf.flushed - 1, -1):
                row = self.buf.row(j)
                if row.get("line_no") != line.line_no or row.get("source_file") != self.path:
                    break
                row["native_type"] = f"progress/agent_progress/{row.get('native_type')}"
                row["parent_tool_call_id"] = row.get("parent_tool_call_id") or ptid
                row["line_bytes"] = len(line.raw)
        return reason
