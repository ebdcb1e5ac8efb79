"""GitHub Copilot CLI ``events.jsonl`` (and ``copilot -p --output-format json``) → canonical events.

Every line is an envelope ``{type, data, id, timestamp, parentId, ephemeral?}``. See
``README.md`` beside this file for the mapping and what the format lacks.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any

from tracelab import schema as S
from tracelab.ingest.base import SKIP, EventBuffer, ParseResult, RawLine, RejectBuffer, cap_text, dumps, parse_ts, scan, shrink

AGENT = "copilot"
PARSER_VERSION = "copilot/1"

#: a value the publisher (or the CLI's redaction) replaced: never a number, never text
REDACTED = "[REDACTED]"
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

#: streaming fragments of content that a complete event repeats (``assistant.message``,
#: ``assistant.reasoning``, ``tool.execution_complete``): counted as duplicate lines, no rows
STREAM_FRAGMENTS = frozenset(
    {
        "assistant.message_delta",
        "assistant.reasoning_delta",
        "assistant.tool_call_delta",
        "assistant.message_start",
        "tool.execution_partial_result",
    }
)
#: state/bookkeeping events (no conversation content)
_BOOKKEEPING = frozenset(
    {
        "session.mode_changed",
        "session.mcp_server_status_changed",
        "mcp.tools.list_changed",
        "session.skills_loaded",
        "session.tools_updated",
        "session.background_tasks_changed",
        "session.usage_checkpoint",
        "assistant.idle",
        "model.call_start",
        "session.truncation",
        "session.snapshot_rewind",
        "session.title_changed",
    }
)


def _dict(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> list:
    return v if isinstance(v, list) else []


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v and v != REDACTED else None


def _count(v: Any) -> int | None:
    """A token count; ``"[REDACTED]"`` and other non-numbers are NULL, never 0."""
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _text(v: Any) -> str | None:
    if isinstance(v, str):
        return None if v == REDACTED else v
    if v is None:
        return None
    return dumps(shrink(v, 2048))


class CopilotParser:
    """Parses one Copilot CLI event log (or its appended tail, given the saved ``state``)."""

    def __init__(self, path: str | Path, state: dict[str, Any] | None = None):
        self.path = str(path)
        self.buf = EventBuffer()
        self.rejects = RejectBuffer()
        self.line_keys: dict[int, str] = {}
        st = dict(state or {})
        p = Path(self.path)
        default_sid = p.parent.name if p.name == "events.jsonl" else p.stem
        self.sid: str = st.get("sid") or default_sid
        self.sid_known: bool = st.get("sid_known", False)
        self.model: str | None = st.get("model")
        self.version: str | None = st.get("version")
        self.cwd: str | None = st.get("cwd")
        self.branch: str | None = st.get("branch")
        #: toolCallIds announced by an assistant.message (their tool_call row exists)
        self.requested: dict[str, str | None] = st.get("requested", {})
        #: (interactionId, parentToolCallId) -> model, learned from tool completions
        self.model_of: dict[str, str] = st.get("model_of", {})
        self.first_ts: int | None = None
        self.file_tag = format(zlib.crc32(self.path.encode()), "08x")
        self.redacted = 0  # this parse only: the engine sums them into the summary
        #: model -> output tokens of the per-call rows of the current run (since the last
        #: start, resume or shutdown), to keep a shutdown's total from counting them again
        self.run_output: dict[str, int] = st.get("run_output", {})
        #: row indexes of assistant rows still without a model, with their lookup key
        self._unmodelled: list[tuple[int, str]] = []

    # ------------------------------------------------------------------ entry
    def parse(self, start_offset: int = 0, start_line: int = 0) -> ParseResult:
        total, rejected, skipped, end_offset, end_line = scan(
            self.path,
            AGENT,
            start_offset,
            start_line,
            self.rejects,
            lambda obj, err, line: err if err is not None else self._handle(obj, line),
            bulk_rejects=True,
        )
        for idx, key in self._unmodelled:
            row = self.buf.row(idx)
            if row.get("model") is None:
                row["model"] = self.model_of.get(key) or self.model_of.get(key.split("|")[0] + "|") or self.model
                row["provider"] = _provider(row["model"])
        self._settle_usage()
        if self.sid_known and start_offset == 0:
            # the stream names its session only in the final ``result`` line
            key = f"copilot:{self.sid}"
            for r in self.buf.rows:
                if r.get("session_key", "").startswith("copilot:") and not r.get("is_sidechain"):
                    r["session_key"], r["session_id"] = key, self.sid
        state = {
            "sid": self.sid,
            "sid_known": self.sid_known,
            "model": self.model,
            "version": self.version,
            "cwd": self.cwd,
            "branch": self.branch,
            "requested": self.requested,
            "model_of": self.model_of,
            "redacted_values": self.redacted,
            "run_output": self.run_output,
        }
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
            state=state,
            first_ts=self.first_ts,
            parser_version=PARSER_VERSION,
        )

    # ------------------------------------------------------------------ dispatch
    def _handle(self, d: dict, line: RawLine) -> str | None:
        t = d.get("type")
        if not isinstance(t, str):
            return "field 'type' is missing" if t is None else f"field 'type' has wrong type {type(t).__name__}"
        if t in STREAM_FRAGMENTS:
            return SKIP
        data = d.get("data")
        if t == "result":
            data = {k: v for k, v in d.items() if k not in ("type", "timestamp")}
        if data is None:
            data = {}
        if not isinstance(data, dict):
            return f"field 'data' has wrong type {type(data).__name__}"
        raw_ts = d.get("timestamp")
        ts = parse_ts(raw_ts)
        if ts is not None and (self.first_ts is None or ts < self.first_ts):
            self.first_ts = ts
        self.redacted += sum(1 for v in data.values() if v == REDACTED)
        eid = d.get("id") if isinstance(d.get("id"), str) else None
        if eid:
            self.line_keys[line.line_no] = f"copilot:{eid}"
        ek = eid or f"{self.file_tag}:{line.line_no}"
        ptid = _str(data.get("parentToolCallId"))
        if t == "session.start" or t == "session.resume":
            ctx = _dict(data.get("context"))
            self.cwd = _str(ctx.get("cwd")) or self.cwd
            self.branch = _str(ctx.get("branch")) or self.branch
            if t == "session.start":
                if _str(data.get("sessionId")):
                    self.sid = data["sessionId"]
                self.version = _str(data.get("copilotVersion")) or self.version
                self.model = _str(data.get("selectedModel")) or self.model
        base = {
            "session_key": f"copilot:{self.sid}",
            "agent": AGENT,
            "ts": ts,
            "source_file": self.path,
            "line_no": line.line_no,
            "uuid": eid,
            "parent_uuid": d.get("parentId") if isinstance(d.get("parentId"), str) else None,
            "session_id": self.sid,
            "is_sidechain": False,
            "agent_version": self.version,
            "cwd": self.cwd,
            "git_branch": self.branch,
            "line_bytes": len(line.raw),
            "native_type": t,
        }
        if ptid:
            # a subagent's own work: its session, linked to the parent's tool call
            base.update(
                session_key=f"copilot:{self.sid}/agent-{ptid}",
                subagent_id=ptid,
                is_sidechain=True,
                parent_session_key=f"copilot:{self.sid}",
                parent_tool_call_id=ptid,
            )
        add = self.buf.add
        if t == "session.start":
            extra = {k: v for k, v in data.items() if k not in ("sessionId", "copilotVersion", "startTime")}
            add(base, event_key=f"{ek}:0", block_index=0, kind="session_start", extra=dumps(shrink(extra)) if extra else None)
        elif t == "session.resume":
            add(base, event_key=f"{ek}:0", block_index=0, kind="system", text=f"resumed ({data.get('eventCount')} events before)", extra=dumps(shrink(data)))
        elif t == "session.model_change":
            self.model = _str(data.get("newModel")) or self.model
            add(base, event_key=f"{ek}:0", block_index=0, kind="model_change", model=self.model, provider=_provider(self.model), extra=dumps(shrink(data)))
        elif t == "user.message":
            text, tb = cap_text(_text(data.get("content")))
            extra = {k: shrink(v, 512) for k, v in data.items() if k in ("attachments", "agentMode", "interactionId") and v}
            kind = "user_prompt"
            add(base, role="user", event_key=f"{ek}:0", block_index=0, kind=kind, text=text, text_bytes=tb, extra=dumps(extra) if extra else None)
        elif t == "assistant.turn_start":
            add(base, event_key=f"{ek}:0", block_index=0, kind="turn_start", extra=dumps(data) if data else None)
        elif t == "assistant.turn_end":
            add(base, event_key=f"{ek}:0", block_index=0, kind="turn_end", extra=dumps(data) if data else None)
        elif t == "assistant.message":
            self._assistant(data, base, ek)
        elif t == "assistant.reasoning":
            text, tb = cap_text(_text(data.get("content")))
            add(base, role="assistant", event_key=f"{ek}:0", block_index=0, kind="thinking", text=text, text_bytes=tb)
        elif t == "tool.execution_start":
            self._tool_start(data, base, ek)
        elif t == "tool.execution_complete":
            self._tool_complete(data, base, ek)
        elif t in ("hook.start", "hook.end"):
            hook_in = _dict(data.get("input"))
            tool = _str(hook_in.get("toolName"))
            summary = {"hookType": data.get("hookType"), "toolName": tool, "success": data.get("success"), "hookInvocationId": data.get("hookInvocationId")}
            failed = data.get("success") is False
            add(
                base,
                event_key=f"{ek}:0",
                block_index=0,
                kind="hook",
                text=dumps({k: v for k, v in summary.items() if v is not None}),
                is_error=True if failed else None,
            )
        elif t in ("subagent.started", "subagent.completed", "subagent.failed"):
            tid = _str(data.get("toolCallId"))
            add(
                base,
                event_key=f"{ek}:0",
                block_index=0,
                kind="tool_event",
                tool_call_id=tid,
                tool_name=_str(data.get("agentName")),
                status="error" if t == "subagent.failed" else None,
                spawned_session_key=f"copilot:{self.sid}/agent-{tid}" if tid else None,
                text=_str(data.get("agentDisplayName")),
                extra=dumps(shrink(data, 512)),
            )
        elif t == "skill.invoked":
            text, tb = cap_text(_text(data.get("content")))
            add(base, role="user", event_key=f"{ek}:0", block_index=0, kind="user_context", text=text, text_bytes=tb, title=_str(data.get("name")))
        elif t == "system.notification":
            text, tb = cap_text(_text(data.get("content")))
            add(
                base, role="user", event_key=f"{ek}:0", block_index=0, kind="user_context", text=text, text_bytes=tb, extra=dumps(shrink(data.get("kind"), 512))
            )
        elif t == "session.compaction_start":
            add(base, event_key=f"{ek}:0", block_index=0, kind="compaction", extra=dumps(data) if data else None)
        elif t == "session.compaction_complete":
            text, tb = cap_text(_text(data.get("summaryContent")))
            extra = {k: v for k, v in data.items() if k != "summaryContent"}
            add(
                base,
                event_key=f"{ek}:0",
                block_index=0,
                kind="compaction_summary",
                text=text,
                text_bytes=tb,
                is_error=True if data.get("success") is False else None,
                extra=dumps(shrink(extra)),
            )
        elif t in ("session.warning", "session.error", "session.info"):
            text, tb = cap_text(_text(data.get("message")))
            sub = data.get("errorType") or data.get("warningType") or data.get("infoType")
            kind = "system"
            if t == "session.error" and isinstance(sub, str) and sub.startswith(("api", "model", "rate", "quota", "capi")):
                kind = "api_error"
            add(
                {**base, "native_type": f"{t}/{sub}" if isinstance(sub, str) else t},
                event_key=f"{ek}:0",
                block_index=0,
                kind=kind,
                text=text,
                text_bytes=tb,
                is_error=True if t == "session.error" else None,
            )
        elif t == "session.task_complete":
            text, tb = cap_text(_text(data.get("summary")))
            add(base, event_key=f"{ek}:0", block_index=0, kind="system", text=text, text_bytes=tb, is_error=True if data.get("success") is False else None)
        elif t == "session.shutdown":
            self._shutdown(data, base, ek)
        elif t == "result":
            if _str(data.get("sessionId")):
                self.sid, self.sid_known = data["sessionId"], True
                base.update(session_key=f"copilot:{self.sid}", session_id=self.sid)
            add(
                base,
                event_key=f"{ek}:0",
                block_index=0,
                kind="system",
                text=f"exit code {data.get('exitCode')}",
                exit_code=_count(data.get("exitCode")),
                extra=dumps(shrink(data)),
            )
        elif t in _BOOKKEEPING:
            if t == "model.call_start":
                self.model = _str(data.get("model")) or self.model
            add(base, event_key=f"{ek}:0", block_index=0, kind="bookkeeping", extra=dumps(shrink(data, 512)) if data else None)
        else:
            add(base, event_key=f"{ek}:0", block_index=0, kind="unknown", extra=dumps(shrink(d, 1024)))
        return None

    # ------------------------------------------------------------------ assistant / tools
    def _model_key(self, data: dict, ptid: str | None) -> str:
        return f"{data.get('interactionId') or ''}|{ptid or ''}"

    def _assistant(self, data: dict, base: dict, ek: str) -> None:
        mid = _str(data.get("messageId"))
        model = _str(data.get("model"))
        common = {
            **base,
            "role": "assistant",
            "model": model,
            "provider": _provider(model),
            "message_id": mid,
            "request_id": _str(data.get("requestId")),
            "llm_call_key": f"copilot:{self.sid}:{mid or ek}",
            # per-call usage: only the output count is logged (``[REDACTED]`` stays NULL)
            "output_tokens": _count(data.get("outputTokens")),
        }
        first = self.buf.n
        i = 0
        reasoning = _text(data.get("reasoningText"))
        if reasoning is not None or _str(data.get("reasoningOpaque")):
            text, tb = cap_text(reasoning)
            self.buf.add(common, event_key=f"{ek}:{i}", block_index=i, kind="thinking", text=text, text_bytes=tb)
            i += 1
        content = _text(data.get("content"))
        reqs = _list(data.get("toolRequests"))
        if (content and content.strip()) or not reqs:
            text, tb = cap_text(content)
            self.buf.add(common, event_key=f"{ek}:{i}", block_index=i, kind="assistant_text", text=text, text_bytes=tb)
            i += 1
        for r in reqs:
            if not isinstance(r, dict):
                continue
            tid = _str(r.get("toolCallId"))
            name = _str(r.get("name"))
            args = r.get("arguments")
            capped, ib = cap_text(dumps(args) if args is not None else None, S.TOOL_INPUT_CAP)
            self.buf.add(
                common,
                event_key=f"{ek}:{i}",
                block_index=i,
                kind="tool_call",
                tool_call_id=tid,
                tool_name=name,
                tool_input=capped,
                text_bytes=ib,
                extra=dumps(shrink({k: v for k, v in r.items() if k in ("type", "intentionSummary")})),
            )
            if tid:
                self.requested[tid] = common["llm_call_key"]
            i += 1
        if model is None:
            key = self._model_key(data, base.get("parent_tool_call_id"))
            self._unmodelled.extend((j, key) for j in range(first, self.buf.n))

    def _tool_start(self, data: dict, base: dict, ek: str) -> None:
        tid = _str(data.get("toolCallId"))
        name = _str(data.get("toolName"))
        extra = {k: v for k, v in data.items() if k in ("mcpServerName", "mcpToolName")}
        if tid and tid not in self.requested:
            # the request was not logged (redacted toolRequests, stream output): the start is the call
            args = data.get("arguments")
            capped, ib = cap_text(dumps(args) if args is not None and args != REDACTED else None, S.TOOL_INPUT_CAP)
            self.requested[tid] = None
            self.buf.add(
                base,
                role="assistant",
                event_key=f"{ek}:0",
                block_index=0,
                kind="tool_call",
                tool_call_id=tid,
                tool_name=name,
                tool_input=capped,
                text_bytes=ib,
                model=self.model,
                extra=dumps(extra) if extra else None,
            )
            return
        self.buf.add(base, event_key=f"{ek}:0", block_index=0, kind="tool_event", tool_call_id=tid, tool_name=name, extra=dumps(extra) if extra else None)

    def _tool_complete(self, data: dict, base: dict, ek: str) -> None:
        tid = _str(data.get("toolCallId"))
        model = _str(data.get("model"))
        if model:
            self.model_of[self._model_key(data, base.get("parent_tool_call_id"))] = model
            self.model_of.setdefault(f"{data.get('interactionId') or ''}|", model)
        ok = data.get("success")
        err = data.get("error") if isinstance(data.get("error"), dict) else None
        result = data.get("result") if isinstance(data.get("result"), dict) else None
        if err is not None:
            raw = _text(err.get("message"))
        elif result is not None:
            raw = _text(result.get("content"))
            if raw is None:
                raw = _text(result.get("detailedContent"))
        else:
            raw = _text(data.get("result"))
        status = "ok" if ok is True else "error"
        code = _str(err.get("code")) if err else None
        if ok is not True and code in ("rejected", "denied", "user_rejected", "permission_denied"):
            status = "user_rejected"
        text, tb = cap_text(raw)
        extra = {k: shrink(v, 512) for k, v in data.items() if k in ("toolTelemetry", "interactionId") and v}
        if code:
            extra["error_code"] = code
        self.buf.add(
            base,
            role="tool",
            event_key=f"{ek}:0",
            block_index=0,
            kind="tool_result",
            tool_call_id=tid,
            model=model,
            text=text,
            text_bytes=tb,
            status=status,
            is_error=status != "ok",
            extra=dumps(extra) if extra else None,
        )

    def _settle_usage(self) -> None:
        """Give each shutdown usage row only the output its run's per-call rows did not already
        carry (after the models of those rows are known), so a session's output is counted
        once: per call where the log has it, the rest from the run total."""
        seen: set[str] = set()
        for r in self.buf.rows:
            nt = r.get("native_type")
            if nt in ("session.start", "session.resume"):
                self.run_output = {}
            key = r.get("llm_call_key")
            if not key or key in seen:
                continue
            seen.add(key)
            if r.get("stop_reason") == "usage_total":
                model = r.get("model") or ""
                reported = r.get("output_tokens")
                if reported is not None:
                    r["output_tokens"] = max(reported - self.run_output.get(model, 0), 0)
                continue
            if nt == "assistant.message" and r.get("output_tokens") is not None:
                model = r.get("model") or ""
                self.run_output[model] = self.run_output.get(model, 0) + r["output_tokens"]
        # a shutdown ends its run
        for r in reversed(self.buf.rows):
            if r.get("native_type") in ("session.start", "session.resume"):
                break
            if r.get("stop_reason") == "usage_total":
                self.run_output = {}
                break

    def _shutdown(self, data: dict, base: dict, ek: str) -> None:
        """Usage totals of the run that ends here (a resumed session writes one per run): one
        ``token_usage`` row per model, each its own ``llm_calls`` row marked
        ``stop_reason = 'usage_total'`` (key ``copilot:<session>:usage:<event id>:<model>``).
        Input and cache counts exist only here; output is reduced to what the run's per-call
        rows did not carry (:meth:`_settle_usage`), so nothing is counted twice."""
        metrics = _dict(data.get("modelMetrics"))
        rest = {k: v for k, v in data.items() if k != "modelMetrics"}
        self.model = _str(data.get("currentModel")) or self.model
        if not metrics:
            self.buf.add(base, event_key=f"{ek}:0", block_index=0, kind="token_usage", extra=dumps(shrink(rest)))
            return
        for i, (model, m) in enumerate(sorted(metrics.items())):
            usage = _dict(m.get("usage")) if isinstance(m, dict) else {}
            inp, cr = _count(usage.get("inputTokens")), _count(usage.get("cacheReadTokens"))
            self.buf.add(
                # one shutdown's rows are 1 ms apart (models in name order): every order derived
                # from time (a turn's last model) is then total, whatever the row order
                {**base, "ts": base["ts"] + i if base["ts"] is not None else None},
                event_key=f"{ek}:{i}",
                block_index=i,
                kind="token_usage",
                llm_call_key=f"copilot:{self.sid}:usage:{ek}:{model}",
                stop_reason="usage_total",
                request_ts=base["ts"] + i if base["ts"] is not None else None,
                model=model,
                provider=_provider(model),
                # Copilot's inputTokens include the cache reads (OpenAI convention)
                input_tokens=None if inp is None else max(inp - (cr or 0), 0),
                output_tokens=_count(usage.get("outputTokens")),
                cache_read_tokens=cr,
                cache_write_tokens=_count(usage.get("cacheWriteTokens")),
                extra=dumps(
                    shrink(
                        {
                            "requests": m.get("requests") if isinstance(m, dict) else None,
                            "reported_output_tokens": _count(usage.get("outputTokens")),
                            **({"session": rest} if i == 0 else {}),
                        }
                    )
                ),
            )


def _provider(model: str | None) -> str | None:
    if not model:
        return None
    m = model.lower()
    if m.startswith("claude"):
        return "anthropic"
    if m.startswith(("gpt", "o1", "o3", "o4", "codex")):
        return "openai"
    if m.startswith("gemini"):
        return "google"
    return "github"
