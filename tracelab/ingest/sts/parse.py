"""Hugging Face Hub Session Trace Simple format (STS) → canonical events.

Line 1 ``{"type": "session", "harness", "id", "name"?}``; then ``{"type": "message", "message":
{role, content, reasoningContent?, toolCalls?, toolCallId?, timestamp?, model?}}``. ``agent`` is
the ``harness`` value; the session is ``sts:<harness>:<id>`` (so a session exported from
tracelab and read back never merges with the original). See ``README.md`` beside this file.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from tracelab import schema as S
from tracelab.ingest.base import EventBuffer, ParseResult, RawLine, RejectBuffer, cap_text, dumps, parse_ts, scan, shrink

AGENT = "sts"
PARSER_VERSION = "sts/1"
ROLES = frozenset({"user", "assistant", "system", "tool"})


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _content(v: Any) -> str | None:
    """``content`` is text; a list of parts (OpenAI style) is joined, anything else kept as JSON."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, list):
        parts = [p.get("text") if isinstance(p, dict) else p for p in v]
        if all(isinstance(p, str) for p in parts):
            return "\n".join(parts)  # type: ignore[arg-type]
    return dumps(v)


class StsParser:
    def __init__(self, path: str | Path, state: dict[str, Any] | None = None):
        self.path = str(path)
        self.buf = EventBuffer()
        self.rejects = RejectBuffer()
        self.line_keys: dict[int, str] = {}
        st = dict(state or {})
        self.harness: str | None = st.get("harness")
        self.sid: str | None = st.get("sid")
        self.first_ts: int | None = None
        self.file_tag = format(zlib.crc32(self.path.encode()), "08x")

    def parse(self, start_offset: int = 0, start_line: int = 0) -> ParseResult:
        total, rejected, skipped, end_offset, end_line = scan(
            self.path,
            AGENT,
            start_offset,
            start_line,
            self.rejects,
            self._step,
            bulk_rejects=True,
        )
        return ParseResult(
            path=self.path,
            agent=AGENT,
            buffer=self.buf,
            rejects=self.rejects,
            line_keys=self.line_keys,
            lines_total=total,
            lines_rejected=rejected,
            lines_skipped_duplicate=skipped,
            bytes_ingested=end_offset,
            end_line_no=end_line,
            state={"harness": self.harness, "sid": self.sid},
            first_ts=self.first_ts,
            parser_version=PARSER_VERSION,
        )

    def _base(self, line: RawLine, ts: int | None) -> dict[str, Any]:
        harness = self.harness or "sts"
        sid = self.sid or Path(self.path).stem
        if ts is not None and (self.first_ts is None or ts < self.first_ts):
            self.first_ts = ts
        return {
            "session_key": f"sts:{harness}:{sid}",
            "agent": harness,
            "ts": ts,
            "source_file": self.path,
            "line_no": line.line_no,
            "session_id": sid,
            "line_bytes": len(line.raw),
        }

    def _step(self, obj: Any, err: str | None, line: RawLine) -> str | None:
        """One line of the scan: rows of earlier lines are never changed again, so the buffer
        may flush them first (bounded memory for any file size)."""
        self.buf.settle()
        return err if err is not None else self._line(obj, line)

    def _line(self, d: dict, line: RawLine) -> str | None:
        t = d.get("type")
        if t == "session":
            harness, sid = _str(d.get("harness")), d.get("id")
            if harness is None:
                return "session header without a 'harness' string"
            if not isinstance(sid, (str, int)) or isinstance(sid, bool) or sid == "":
                return "session header without an 'id'"
            self.harness, self.sid = harness, str(sid)
            extra = {k: v for k, v in d.items() if k not in ("type", "harness", "id", "name")}
            name = _str(d.get("name"))
            self.buf.add(
                self._base(line, None),
                event_key=f"{self.file_tag}:{line.line_no}:0",
                block_index=0,
                kind="session_start",
                native_type="session",
                text=name,
                extra=dumps(shrink(extra)) if extra else None,
            )
            if name:  # the session's title
                self.buf.add(
                    self._base(line, None), event_key=f"{self.file_tag}:{line.line_no}:1", block_index=1, kind="bookkeeping", native_type="name", title=name
                )
            return None
        if t != "message":
            return f"unknown line type {t!r}" if isinstance(t, str) or t is None else f"field 'type' has wrong type {type(t).__name__}"
        m = d.get("message")
        if not isinstance(m, dict):
            return f"field 'message' has wrong type {type(m).__name__}"
        role = m.get("role")
        if role not in ROLES:
            return f"unknown message role {role!r}"
        raw_ts = m.get("timestamp")
        ts = parse_ts(raw_ts) if raw_ts is not None else None
        base = self._base(line, ts)
        base["role"] = role
        base["native_type"] = f"message/{role}"
        model = _str(m.get("model"))
        ek = f"{self.file_tag}:{line.line_no}"
        text_full = _content(m.get("content"))
        known = {"role", "content", "reasoningContent", "toolCalls", "toolCallId", "timestamp", "model"}
        extra_obj = {k: v for k, v in m.items() if k not in known}
        if extra_obj:
            base["extra"] = dumps(shrink(extra_obj))
        add = self.buf.add
        if role == "user":
            text, tb = cap_text(text_full)
            add(base, event_key=f"{ek}:0", block_index=0, kind="user_prompt", text=text, text_bytes=tb)
        elif role == "system":
            text, tb = cap_text(text_full)
            add(base, event_key=f"{ek}:0", block_index=0, kind="system", text=text, text_bytes=tb)
        elif role == "tool":
            text, tb = cap_text(text_full)
            add(base, event_key=f"{ek}:0", block_index=0, kind="tool_result", tool_call_id=_str(m.get("toolCallId")), text=text, text_bytes=tb, status="ok")
        else:
            common = {**base, "model": model, "llm_call_key": f"{base['session_key']}:L{line.line_no}"}
            i = 0
            reasoning = _content(m.get("reasoningContent"))
            if reasoning:
                text, tb = cap_text(reasoning)
                add(common, event_key=f"{ek}:{i}", block_index=i, kind="thinking", text=text, text_bytes=tb)
                i += 1
            raw_calls = m.get("toolCalls")
            calls: list[Any] = raw_calls if isinstance(raw_calls, list) else []
            if text_full or not calls:
                text, tb = cap_text(text_full or None)
                add(common, event_key=f"{ek}:{i}", block_index=i, kind="assistant_text", text=text, text_bytes=tb)
                i += 1
            for c in calls:
                raw_fn = c.get("function") if isinstance(c, dict) else None
                fn: dict[str, Any] = raw_fn if isinstance(raw_fn, dict) else {}
                args = fn.get("arguments")
                args = args if isinstance(args, str) or args is None else dumps(args)
                capped, ib = cap_text(args, S.TOOL_INPUT_CAP)
                tid = _str(c.get("id")) if isinstance(c, dict) else None
                add(
                    common,
                    event_key=f"{ek}:{i}",
                    block_index=i,
                    kind="tool_call",
                    tool_call_id=tid,
                    tool_name=_str(fn.get("name")),
                    tool_input=capped,
                    text_bytes=ib,
                )
                i += 1
        return None
