"""Gemini CLI chat recordings → canonical events.

Three shapes, all read whole (see ``README.md`` beside this file):

* ``session-*.json``: one pretty-printed ``ConversationRecord`` document
  ``{sessionId, projectHash, startTime, lastUpdated, messages[], summary?, kind?}``, rewritten
  as the session grows;
* ``session-*.jsonl`` (newer CLIs): a metadata line, then message records appended on every
  update (the last record of an id wins), ``{"$rewindTo": id}`` and ``{"$set": {...}}`` lines;
* ``checkpoint-*.json`` (``/chat save``): the API history ``Content[]`` (or
  ``{history: Content[], authType}``), with no ids, times or tokens.

Message accounting: a whole-document file has no lines to count, so its *units* are counted
instead: unit 1 is the document itself (its header fields become a ``session_start`` row) and
unit ``i + 2`` is ``messages[i]``. ``line_no`` holds the unit number. Every unit produces rows
or a reject; a document that does not parse is one rejected unit with the reason.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any

import orjson

from tracelab import schema as S
from tracelab.ingest.base import EventBuffer, ParseResult, Reject, RejectBuffer, cap_text, dumps, parse_ts, shrink

AGENT = "gemini"
PARSER_VERSION = "gemini/1"

MESSAGE_TYPES = frozenset({"user", "gemini", "info", "error", "warning"})
_HEADER_KEYS = ("sessionId", "projectHash", "startTime", "lastUpdated", "messages", "summary", "kind")
_EXIT_RE = re.compile(r"Exit Code: (-?\d+)")
_API_ERROR_RE = re.compile(r"^\s*\[API Error|quota|RESOURCE_EXHAUSTED|rate limit|\b(429|500|503)\b", re.IGNORECASE)
_CHECKPOINT_RE = re.compile(r"^checkpoint-(.+)\.json$")

#: Gemini tool status -> tracelab tool status (``cancelled`` is the user's doing: a declined
#: confirmation is ``user_rejected``, anything else an ``interrupted`` call)
_STATUS = {"success": "ok", "error": "error", "cancelled": "interrupted"}


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _count(v: Any) -> int | None:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def part_text(content: Any) -> tuple[str, int]:
    """Text of a ``PartListUnion`` (a string, a Part, or a list of them) and its count of
    inline data parts (images, files)."""
    if content is None:
        return "", 0
    if isinstance(content, str):
        return content, 0
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return dumps(content), 0
    texts: list[str] = []
    media = 0
    for p in content:
        if isinstance(p, str):
            texts.append(p)
        elif isinstance(p, dict):
            if isinstance(p.get("text"), str):
                texts.append(p["text"])
            elif "inlineData" in p or "fileData" in p:
                media += 1
    return "\n".join(texts), media


def tool_result_text(result: Any, display: Any) -> str | None:
    """The text of a tool call's result: the ``functionResponse.response`` output or error
    (what the model saw), else the display string."""
    if isinstance(result, list):
        outs: list[str] = []
        for p in result:
            if not isinstance(p, dict):
                continue
            fr = p.get("functionResponse")
            if isinstance(fr, dict):
                resp = fr.get("response")
                if isinstance(resp, dict):
                    for k in ("output", "error", "content", "llmContent"):
                        v = resp.get(k)
                        if isinstance(v, str):
                            outs.append(v)
                            break
                    else:
                        outs.append(dumps(shrink(resp, 2048)))
                elif resp is not None:
                    outs.append(str(resp))
            elif isinstance(p.get("text"), str):
                outs.append(p["text"])
        if outs:
            return "\n".join(outs)
    elif isinstance(result, str):
        return result
    elif isinstance(result, dict):
        return tool_result_text([result], display)
    if isinstance(display, str) and display:
        return display
    if isinstance(display, dict):
        return dumps(shrink(display, 2048))
    return None


def split_tokens(tokens: Any) -> dict[str, int | None]:
    """Gemini ``tokens`` in tracelab's vocabulary: ``input`` includes ``cached`` (so uncached
    input = input - cached), ``tool`` (tool-use prompt tokens) is more uncached input, and
    ``thoughts`` are output (``output_tokens`` includes reasoning, ``reasoning_tokens`` is that
    part). Missing counts stay NULL."""
    if not isinstance(tokens, dict):
        return {}
    inp, out, cached = _count(tokens.get("input")), _count(tokens.get("output")), _count(tokens.get("cached"))
    thoughts, tool = _count(tokens.get("thoughts")), _count(tokens.get("tool"))
    uncached = None
    if inp is not None:
        uncached = max(inp - (cached or 0), 0) + (tool or 0)
    output = None if out is None and thoughts is None else (out or 0) + (thoughts or 0)
    return {
        "input_tokens": uncached,
        "output_tokens": output,
        "cache_read_tokens": cached,
        "cache_write_tokens": 0 if inp is not None else None,
        "reasoning_tokens": thoughts,
    }


class GeminiParser:
    """Parses one Gemini CLI recording (always the whole file)."""

    def __init__(self, path: str | Path, state: dict[str, Any] | None = None):
        self.path = str(path)
        self.buf = EventBuffer()
        self.rejects = RejectBuffer()
        self.line_keys: dict[int, str] = {}
        self.first_ts: int | None = None
        self.file_tag = format(zlib.crc32(self.path.encode()), "08x")
        self.units = 0
        self.rejected = 0
        self.skipped = 0

    # ------------------------------------------------------------------ entry
    def parse(self, start_offset: int = 0, start_line: int = 0) -> ParseResult:
        if start_offset:
            # a recording is rewritten, never appended to (and a JSONL record may replace an
            # earlier one): any growth means parsing the whole file again
            return self._result(start_offset, start_line, {"needs_full_reparse": True})
        raw = Path(self.path).read_bytes()
        if self.path.endswith(".jsonl"):
            self._jsonl(raw)
            return self._result(len(raw), raw.count(b"\n") + (0 if raw.endswith(b"\n") or not raw else 1), {})
        if raw.strip():
            self._document(raw)
        return self._result(len(raw), self.units, {})

    def _result(self, end_offset: int, end_line: int, state: dict) -> ParseResult:
        return ParseResult(
            path=self.path,
            agent=AGENT,
            buffer=self.buf,
            rejects=self.rejects,
            line_keys=self.line_keys,
            lines_total=self.units,
            lines_rejected=self.rejected,
            lines_skipped_duplicate=self.skipped,
            bytes_ingested=end_offset,
            end_line_no=end_line,
            state=state,
            first_ts=self.first_ts,
            parser_version=PARSER_VERSION,
        )

    def _reject(self, unit: int, reason: str, raw: bytes | str) -> None:
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "replace")
        text = data[: S.RAW_REJECT_CAP].decode("utf-8", "replace")
        self.rejects.append(Reject(self.path, unit, 0, AGENT, reason, text, len(data)))
        self.rejected += 1

    def _seen_ts(self, ts: int | None) -> None:
        if ts is not None and (self.first_ts is None or ts < self.first_ts):
            self.first_ts = ts

    # ------------------------------------------------------------------ shapes
    def _document(self, raw: bytes) -> None:
        self.units = 1
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            try:
                raw.decode("utf-8")
                reason = f"invalid JSON document: {exc}"
            except UnicodeDecodeError:
                reason = "invalid UTF-8"
            self._reject(1, reason, raw)
            return
        if isinstance(doc, list) or (isinstance(doc, dict) and isinstance(doc.get("history"), list) and "messages" not in doc):
            self._checkpoint(doc, len(raw))
            return
        if not isinstance(doc, dict) or not isinstance(doc.get("messages"), list):
            self._reject(1, "not a Gemini CLI chat recording (no 'messages' list)", raw[: S.RAW_REJECT_CAP])
            return
        msgs = doc["messages"]
        sid = _str(doc.get("sessionId")) or Path(self.path).stem
        ctx = self._header(doc, sid, 1, len(raw))
        self.units = 1 + len(msgs)
        for i, m in enumerate(msgs):
            self._message(m, i + 2, ctx, None)

    def _jsonl(self, raw: bytes) -> None:
        """Newer recordings: records appended; a message id written again replaces the earlier
        record (which counts as a duplicate unit), ``$rewindTo`` / ``$set`` are bookkeeping."""
        lines = raw.split(b"\n")
        objs: list[tuple[int, Any, bytes]] = []
        last_of: dict[str, int] = {}
        header: dict[str, Any] = {}
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            self.units += 1
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                self._reject(n, f"invalid JSON: {exc}" if n < len(lines) else f"truncated last line (no newline, invalid JSON: {exc})", line)
                continue
            if not isinstance(obj, dict):
                self._reject(n, f"not a JSON object (got {type(obj).__name__})", line)
                continue
            objs.append((n, obj, line))
            if isinstance(obj.get("id"), str) and obj.get("type") in MESSAGE_TYPES:
                last_of[obj["id"]] = n
            elif "sessionId" in obj and not header:
                header = obj
        sid = _str(header.get("sessionId")) or Path(self.path).stem
        ctx: dict[str, Any] | None = None
        for n, obj, line in objs:
            if ctx is None:
                ctx = self._header(header or {}, sid, None, 0)
            if isinstance(obj.get("id"), str) and obj.get("type") in MESSAGE_TYPES:
                if last_of[obj["id"]] != n:
                    self.skipped += 1  # superseded by a later record of the same message
                    continue
                self._message(obj, n, ctx, len(line))
            elif obj is header:
                self._header(header, sid, n, len(line), emit_only=True)
            else:
                native = "$rewindTo" if "$rewindTo" in obj else "$set" if "$set" in obj else "unknown"
                kind = "bookkeeping" if native != "unknown" else "unknown"
                text, nbytes = cap_text(dumps(shrink(obj, 1024)))
                self.buf.add(
                    ctx["base"],
                    line_no=n,
                    block_index=0,
                    event_key=f"{self.file_tag}:{n}:0",
                    kind=kind,
                    native_type=native,
                    text=text,
                    text_bytes=nbytes,
                    line_bytes=len(line),
                )

    # ------------------------------------------------------------------ header
    def _header(self, doc: dict, sid: str, unit: int | None, nbytes: int, emit_only: bool = False) -> dict[str, Any]:
        """The session's shared row fields; with ``unit``, also the ``session_start`` row."""
        start = parse_ts(doc.get("startTime"))
        self._seen_ts(start)
        kind = doc.get("kind")
        session_key = f"gemini:{sid}"
        base = {
            "session_key": session_key,
            "agent": AGENT,
            "source_file": self.path,
            "session_id": sid,
            "is_sidechain": kind == "subagent",
        }
        ctx = {"base": base, "sid": sid}
        if unit is not None:
            extra = {k: v for k, v in doc.items() if k not in ("sessionId", "startTime", "messages", "summary")}
            summary = _str(doc.get("summary"))
            text, tb = cap_text(summary)
            self.buf.add(
                base,
                ts=start,
                line_no=unit,
                block_index=0,
                event_key=f"gemini:{sid}:header",
                kind="session_start",
                native_type="session" if not emit_only else "metadata",
                text=text,
                text_bytes=tb,
                extra=dumps(shrink(extra)) if extra else None,
                line_bytes=nbytes,
            )
            if summary:
                # the CLI's generated session summary is the session's title
                self.buf.add(
                    base, ts=start, line_no=unit, block_index=1, event_key=f"gemini:{sid}:header:1", kind="bookkeeping", native_type="summary", title=summary
                )
            self.line_keys[unit] = f"gemini:{sid}:header"
        return ctx

    # ------------------------------------------------------------------ messages
    def _message(self, m: Any, unit: int, ctx: dict, nbytes: int | None) -> None:
        if not isinstance(m, dict):
            self._reject(unit, f"message is not a JSON object (got {type(m).__name__})", dumps(m))
            return
        t = m.get("type")
        mid = m.get("id")
        if t not in MESSAGE_TYPES:
            self._reject(
                unit, f"unknown message type {t!r}" if isinstance(t, str) or t is None else f"field 'type' has wrong type {type(t).__name__}", dumps(shrink(m))
            )
            return
        if mid is not None and not isinstance(mid, str):
            self._reject(unit, f"field 'id' has wrong type {type(mid).__name__}", dumps(shrink(m)))
            return
        raw_ts = m.get("timestamp")
        ts = parse_ts(raw_ts)
        self._seen_ts(ts)
        sid = ctx["sid"]
        ek = f"gemini:{sid}:{mid}" if mid else f"{self.file_tag}:{unit}"
        if mid:
            self.line_keys[unit] = f"gemini:{sid}:{mid}|{raw_ts if isinstance(raw_ts, str) else ''}"
        known = {"id", "timestamp", "type", "content", "displayContent", "model", "thoughts", "tokens", "toolCalls"}
        extra_obj = {k: v for k, v in m.items() if k not in known}
        if raw_ts is not None and ts is None:
            extra_obj["$unparsed_timestamp"] = raw_ts
        base = {
            **ctx["base"],
            "ts": ts,
            "line_no": unit,
            "uuid": mid,
            "native_type": t,
            "line_bytes": nbytes if nbytes is not None else len(orjson.dumps(m)),
            "extra": dumps(shrink(extra_obj)) if extra_obj else None,
        }
        if t == "gemini":
            self._gemini(m, base, ek, mid)
            return
        text_full, media = part_text(m.get("content"))
        text, tb = cap_text(text_full)
        if t == "user":
            kind = "user_prompt"
            if text_full.lstrip().startswith("/") or not text_full.strip():
                kind = "user_context"  # slash commands, empty turns
            self.buf.add(base, role="user", event_key=f"{ek}:0", block_index=0, kind=kind, text=text, text_bytes=tb)
            for j in range(media):
                self.buf.add(base, role="user", event_key=f"{ek}:{j + 1}", block_index=j + 1, kind="image")
            return
        is_error = t == "error" or None
        kind = "system"
        if t == "error" and _API_ERROR_RE.search(text_full[:400]):
            kind = "api_error"
        elif t == "info" and text_full.strip().startswith("Request cancelled"):
            kind = "interrupt"
        self.buf.add(base, role="system", event_key=f"{ek}:0", block_index=0, kind=kind, text=text, text_bytes=tb, is_error=is_error)

    def _gemini(self, m: dict, base: dict, ek: str, mid: str | None) -> None:
        model = _str(m.get("model"))
        common = {
            **base,
            "role": "assistant",
            "model": model,
            "provider": "google" if model else None,
            "message_id": mid,
            "llm_call_key": ek,
            **split_tokens(m.get("tokens")),
        }
        i = 0
        thoughts = m.get("thoughts")
        if isinstance(thoughts, list):
            for th in thoughts:
                if isinstance(th, dict):
                    subj, desc = _str(th.get("subject")), _str(th.get("description"))
                    raw = f"**{subj}** {desc}" if subj and desc else (subj or desc or "")
                else:
                    raw = str(th)
                text, tb = cap_text(raw)
                self.buf.add(common, event_key=f"{ek}:{i}", block_index=i, kind="thinking", text=text, text_bytes=tb, native_type="gemini/thought")
                i += 1
        text_full, _ = part_text(m.get("content"))
        raw_calls = m.get("toolCalls")
        calls: list[Any] = raw_calls if isinstance(raw_calls, list) else []
        if text_full or not calls:
            text, tb = cap_text(text_full or None)
            self.buf.add(common, event_key=f"{ek}:{i}", block_index=i, kind="assistant_text", text=text, text_bytes=tb)
            i += 1
        for c in calls:
            if not isinstance(c, dict):
                text, tb = cap_text(dumps(shrink(c)))
                self.buf.add(common, event_key=f"{ek}:{i}", block_index=i, kind="unknown", text=text, text_bytes=tb, native_type="gemini/toolCall")
                i += 1
                continue
            tid = _str(c.get("id")) or f"{ek}:call{i}"
            name = _str(c.get("name"))
            args = c.get("args")
            capped, ib = cap_text(dumps(args) if args is not None else None, S.TOOL_INPUT_CAP)
            call_extra = {k: v for k, v in c.items() if k in ("displayName", "agentId", "description")}
            self.buf.add(
                common,
                event_key=f"{ek}:{i}",
                block_index=i,
                kind="tool_call",
                tool_call_id=tid,
                tool_name=name,
                tool_input=capped,
                text_bytes=ib,
                native_type="gemini/toolCall",
                extra=dumps(shrink(call_extra)) if call_extra else common["extra"],
            )
            i += 1
            status_raw = c.get("status")
            result_text = tool_result_text(c.get("result"), c.get("resultDisplay"))
            if status_raw is None and result_text is None:
                continue  # still running when the file was written: the call has no result yet
            status = _STATUS.get(status_raw, "error") if isinstance(status_raw, str) else "ok"
            if status == "interrupted" and result_text and "did not allow" in result_text:
                status = "user_rejected"
            exit_code = None
            if result_text:
                em = _EXIT_RE.search(result_text[-2000:])
                if em:
                    exit_code = int(em.group(1))
            rts = parse_ts(c.get("timestamp"))
            text, tb = cap_text(result_text)
            display = c.get("resultDisplay")
            rextra = {"resultDisplay": shrink(display, 1024)} if isinstance(display, dict) else None
            self.buf.add(
                common,
                ts=rts if rts is not None else common["ts"],
                role="tool",
                event_key=f"{ek}:{i}",
                block_index=i,
                kind="tool_result",
                tool_call_id=tid,
                tool_name=name,
                text=text,
                text_bytes=tb,
                status=status,
                is_error=status != "ok",
                exit_code=exit_code if exit_code is not None and -(2**31) <= exit_code < 2**31 else None,
                native_type=f"gemini/toolResult/{status_raw}",
                extra=dumps(rextra) if rextra else None,
            )
            i += 1

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint(self, doc: Any, nbytes: int) -> None:
        """``/chat save`` history: API ``Content[]`` without ids, times or tokens. Its rows form
        their own session ``gemini:checkpoint/<project dir>/<tag>`` (times: none, so the file's
        mtime partitions them); nothing in it is usage, so nothing is counted twice."""
        history = doc if isinstance(doc, list) else doc.get("history")
        m = _CHECKPOINT_RE.match(Path(self.path).name)
        tag = m.group(1) if m else Path(self.path).stem
        sid = f"checkpoint/{Path(self.path).parent.name}/{tag}"
        ctx = self._header({} if isinstance(doc, list) else {k: v for k, v in doc.items() if k != "history"}, sid, 1, nbytes)
        self.units = 1 + len(history)
        for n, content in enumerate(history, 2):
            if not isinstance(content, dict) or not isinstance(content.get("parts"), list):
                self._reject(n, "checkpoint entry is not a Content object with 'parts'", dumps(shrink(content)))
                continue
            role = content.get("role")
            base = {**ctx["base"], "line_no": n, "native_type": f"checkpoint/{role}", "line_bytes": len(orjson.dumps(content))}
            rows = 0
            for j, p in enumerate(content["parts"]):
                if not isinstance(p, dict):
                    continue
                ek = f"{self.file_tag}:{n}:{j}"
                if isinstance(p.get("functionCall"), dict):
                    fc = p["functionCall"]
                    capped, ib = cap_text(dumps(fc.get("args")) if fc.get("args") is not None else None, S.TOOL_INPUT_CAP)
                    tid = _str(fc.get("id")) or f"{self.file_tag}:{n}:{j}"
                    self.buf.add(
                        base,
                        role="assistant",
                        event_key=ek,
                        block_index=j,
                        kind="tool_call",
                        tool_call_id=tid,
                        tool_name=_str(fc.get("name")),
                        tool_input=capped,
                        text_bytes=ib,
                    )
                elif isinstance(p.get("functionResponse"), dict):
                    fr = p["functionResponse"]
                    text, tb = cap_text(tool_result_text([p], None))
                    resp = fr.get("response")
                    err = isinstance(resp, dict) and "error" in resp
                    self.buf.add(
                        base,
                        role="tool",
                        event_key=ek,
                        block_index=j,
                        kind="tool_result",
                        tool_call_id=_str(fr.get("id")),
                        tool_name=_str(fr.get("name")),
                        text=text,
                        text_bytes=tb,
                        status="error" if err else "ok",
                        is_error=err,
                    )
                elif isinstance(p.get("text"), str):
                    text, tb = cap_text(p["text"])
                    if role == "model":
                        kind = "thinking" if p.get("thought") is True else "assistant_text"
                        self.buf.add(base, role="assistant", event_key=ek, block_index=j, kind=kind, text=text, text_bytes=tb)
                    else:
                        self.buf.add(base, role="user", event_key=ek, block_index=j, kind="user_prompt", text=text, text_bytes=tb)
                else:
                    self.buf.add(base, event_key=ek, block_index=j, kind="unknown", extra=dumps(shrink(p, 1024)))
                rows += 1
            if not rows:
                self.buf.add(base, event_key=f"{self.file_tag}:{n}:0", block_index=0, kind="bookkeeping")
