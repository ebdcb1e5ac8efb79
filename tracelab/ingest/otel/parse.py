"""OpenTelemetry GenAI exports → canonical events.

Two line shapes (see ``README.md`` beside this file):

* the Copilot CLI file exporter: one ``{"type": "span" | "metric" | "log", …}`` per line, flat
  ``attributes`` objects, times as ``[seconds, nanos]``;
* OTLP/JSON (the collector's file exporter, Visual Studio's trace files): one export request
  per line, ``{"resourceSpans" | "resourceLogs" | "resourceMetrics": […]}``, attributes as
  ``[{key, value: {stringValue | intValue | …}}]``, times as unix-nano strings. A ``.json``
  file holding one (pretty-printed) request is read as a single unit.

Spans follow the GenAI semantic conventions (``invoke_agent``, ``chat``, ``execute_tool``,
``create_agent``); log records with the known coding-agent event names (Claude Code
``claude_code.*``, Codex ``codex.*``) are mapped too. A value the publisher redacted
(``"[REDACTED]"``) is NULL, never 0, and counted (``state["redacted_values"]``, this parse's count,
summed into the ingest summary).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from tracelab import schema as S
from tracelab.ingest.base import EventBuffer, ParseResult, RawLine, Reject, RejectBuffer, cap_text, dumps, parse_ts, scan, shrink

AGENT = "otel"
PARSER_VERSION = "otel/1"
REDACTED = "[REDACTED]"

_STATUS_ERROR = 2  # OTLP StatusCode ERROR


def _d(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list:
    return v if isinstance(v, list) else []


def any_value(v: Any) -> Any:
    """An OTLP/JSON ``AnyValue`` as a plain value."""
    if not isinstance(v, dict):
        return v
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    if "intValue" in v:
        try:
            return int(v["intValue"])
        except (TypeError, ValueError):
            return v["intValue"]
    if "arrayValue" in v:
        return [any_value(x) for x in _l(_d(v["arrayValue"]).get("values"))]
    if "kvlistValue" in v:
        return attrs(_d(v["kvlistValue"]).get("values"))
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def attrs(v: Any) -> dict[str, Any]:
    """Attributes as a flat dict, from either a list of ``{key, value}`` or a plain object."""
    if isinstance(v, dict):
        return v
    out: dict[str, Any] = {}
    for kv in _l(v):
        if isinstance(kv, dict) and isinstance(kv.get("key"), str):
            out[kv["key"]] = any_value(kv.get("value"))
    return out


def otel_ms(v: Any) -> int | None:
    """Epoch ms from unix nanos (string or int), ``[seconds, nanos]`` or an ISO string."""
    if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v):
        return int(v[0] * 1000 + v[1] // 1_000_000)
    if isinstance(v, str) and v.isdigit():
        v = int(v)
    if isinstance(v, int) and not isinstance(v, bool):
        if v <= 0:
            return None
        return v // 1_000_000 if v > 10**14 else v
    if isinstance(v, str):
        return parse_ts(v)
    return None


class Redactions:
    """Counts values that were redacted (and so read as NULL)."""

    def __init__(self, n: int = 0):
        self.n = n

    def count(self, v: Any) -> int | None:
        """A token count; a redacted or non-numeric value is None (the redacted ones counted)."""
        if isinstance(v, bool):
            return None
        if isinstance(v, (int, float)):
            return int(v)
        if isinstance(v, str):
            if REDACTED in v:
                self.n += 1
                return None
            try:
                return int(float(v))
            except ValueError:
                return None
        return None

    def text(self, v: Any) -> str | None:
        if v is None:
            return None
        if isinstance(v, str):
            if v == REDACTED:
                self.n += 1
                return None
            return v
        return dumps(shrink(v, 2048))


def usage_spec(red: Redactions, a: dict[str, Any]) -> dict[str, int | None]:
    """``gen_ai.usage.*`` in tracelab's vocabulary. The semantic conventions put cache reads
    (and writes) inside ``input_tokens``; uncached input is what remains. A producer that
    reports input smaller than its cache counts evidently excluded them (Anthropic's way):
    then input is taken as uncached already."""
    inp = red.count(a.get("gen_ai.usage.input_tokens"))
    out = red.count(a.get("gen_ai.usage.output_tokens"))
    cr = red.count(a.get("gen_ai.usage.cache_read.input_tokens", a.get("gen_ai.usage.cache_read_input_tokens")))
    cw = red.count(a.get("gen_ai.usage.cache_creation.input_tokens", a.get("gen_ai.usage.cache_creation_input_tokens")))
    reasoning = red.count(a.get("gen_ai.usage.reasoning.output_tokens"))
    uncached = inp
    if inp is not None and inp >= (cr or 0) + (cw or 0):
        uncached = inp - (cr or 0) - (cw or 0)
    return {"input_tokens": uncached, "output_tokens": out, "cache_read_tokens": cr, "cache_write_tokens": cw, "reasoning_tokens": reasoning}


class Record:
    """One span / log record / metric, normalised from either line shape."""

    __slots__ = ("signal", "body", "attrs", "resource", "scope")

    def __init__(self, signal: str, body: dict, resource: dict, scope: dict):
        self.signal = signal
        self.body = body
        self.attrs = attrs(body.get("attributes"))
        self.resource = resource
        self.scope = scope


def records(obj: dict) -> Iterator[Record] | None:
    """The records one decoded line holds (None: not an OTel shape)."""
    t = obj.get("type")
    if t in ("span", "metric", "log") and "resourceSpans" not in obj:
        res = attrs(_d(obj.get("resource")).get("attributes"))
        return iter([Record(t, obj, res, _d(obj.get("instrumentationScope")))])
    groups = [
        ("span", "resourceSpans", "scopeSpans", "spans"),
        ("log", "resourceLogs", "scopeLogs", "logRecords"),
        ("metric", "resourceMetrics", "scopeMetrics", "metrics"),
    ]
    if not any(g[1] in obj for g in groups):
        return None

    def gen() -> Iterator[Record]:
        for signal, top, mid, leaf in groups:
            for rs in _l(obj.get(top)):
                res = attrs(_d(_d(rs).get("resource")).get("attributes"))
                for ss in _l(_d(rs).get(mid, _d(rs).get("instrumentationLibrarySpans"))):
                    scope = _d(_d(ss).get("scope"))
                    for item in _l(_d(ss).get(leaf)):
                        if isinstance(item, dict):
                            yield Record(signal, item, res, scope)

    return gen()


class OtelParser:
    """Parses one OTel export file (or its appended tail)."""

    def __init__(self, path: str | Path, state: dict[str, Any] | None = None):
        self.path = str(path)
        self.buf = EventBuffer()
        self.rejects = RejectBuffer()
        self.line_keys: dict[int, str] = {}
        st = dict(state or {})
        self.red = Redactions()  # this parse only: the engine sums them into the summary
        self.first_ts: int | None = None
        self.file_tag = format(zlib.crc32(self.path.encode()), "08x")
        #: the last session a record named: records that name none (metrics) join it
        self.last_sid: str | None = st.get("last_sid")

    # ------------------------------------------------------------------ entry
    def parse(self, start_offset: int = 0, start_line: int = 0) -> ParseResult:
        if self.path.endswith(".json") and start_offset == 0:
            total, rejected, end_offset, end_line = self._document()
            skipped = 0
        else:
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
            state={"redacted_values": self.red.n, "last_sid": self.last_sid},
            first_ts=self.first_ts,
            parser_version=PARSER_VERSION,
        )

    def _document(self) -> tuple[int, int, int, int]:
        raw = Path(self.path).read_bytes()
        if not raw.strip():
            return 0, 0, len(raw), 0
        line = RawLine(1, 0, raw, True)
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            reason: str | None = f"invalid JSON document: {exc}"
        else:
            reason = self._line(obj, line) if isinstance(obj, dict) else f"not a JSON object (got {type(obj).__name__})"
        if reason is not None:
            text = raw[: S.RAW_REJECT_CAP].decode("utf-8", "replace")
            self.rejects.append(Reject(self.path, 1, 0, AGENT, reason, text, len(raw)))
            return 1, 1, len(raw), 1
        return 1, 0, len(raw), 1

    # ------------------------------------------------------------------ dispatch
    def _step(self, obj: Any, err: str | None, line: RawLine) -> str | None:
        """One line of the scan: rows of earlier lines are never changed again, so the buffer
        may flush them first (bounded memory for any file size)."""
        self.buf.settle()
        return err if err is not None else self._line(obj, line)

    def _line(self, obj: dict, line: RawLine) -> str | None:
        recs = records(obj)
        if recs is None:
            return "not an OpenTelemetry span, log or metric record"
        n0 = self.buf.n
        for i, rec in enumerate(recs):
            if rec.signal == "span":
                self._span(rec, line, i)
            elif rec.signal == "log":
                self._log(rec, line, i)
            else:
                self._metric(rec, line, i)
        if self.buf.n == n0:
            # an export request with no records: one bookkeeping row keeps the line accounted
            self._add(self._base(line, None, None, {}, {}), line, 0, 0, kind="bookkeeping", native_type="otlp/empty")
        return None

    def _seen(self, ts: int | None) -> None:
        if ts is not None and (self.first_ts is None or ts < self.first_ts):
            self.first_ts = ts

    def _base(self, line: RawLine, rec: Record | None, ts: int | None, a: dict, extra: dict) -> dict[str, Any]:
        res = rec.resource if rec else {}
        conv = a.get("gen_ai.conversation.id") or a.get("session.id") or a.get("conversation.id") or a.get("thread.id")
        trace = rec.body.get("traceId") if rec else None
        if isinstance(conv, str) and conv and conv != REDACTED:
            sid = self.last_sid = conv
        elif isinstance(trace, str) and trace:
            sid = self.last_sid = f"trace-{trace}"
        else:
            sid = self.last_sid or f"file-{self.file_tag}"
        service = res.get("service.name")
        version = res.get("service.version")
        self._seen(ts)
        return {
            "session_key": f"otel:{sid}",
            "agent": AGENT,
            "ts": ts,
            "source_file": self.path,
            "line_no": line.line_no,
            "session_id": sid,
            "agent_version": f"{service} {version}" if isinstance(service, str) and isinstance(version, str) else service if isinstance(service, str) else None,
            "git_branch": a.get("github.copilot.git.branch") if isinstance(a.get("github.copilot.git.branch"), str) else None,
            "line_bytes": len(line.raw),
            "extra": dumps(shrink(extra, 512)) if extra else None,
        }

    def _add(self, base: dict, line: RawLine, rec_i: int, j: int, **values: Any) -> None:
        block = rec_i * 8 + j
        self.buf.add(base, event_key=f"{self.file_tag}:{line.line_no}:{block}", block_index=block, **values)

    # ------------------------------------------------------------------ spans
    def _span(self, rec: Record, line: RawLine, i: int) -> None:
        b, a = rec.body, rec.attrs
        start, end = otel_ms(b.get("startTimeUnixNano", b.get("startTime"))), otel_ms(b.get("endTimeUnixNano", b.get("endTime")))
        op = a.get("gen_ai.operation.name")
        name = b.get("name") if isinstance(b.get("name"), str) else None
        if not isinstance(op, str) and name:
            op = (
                name.split(" ", 1)[0]
                if name.split(" ", 1)[0] in ("chat", "execute_tool", "invoke_agent", "create_agent", "embeddings", "text_completion")
                else None
            )
        status = _d(b.get("status"))
        failed = status.get("code") in (_STATUS_ERROR, "STATUS_CODE_ERROR") or isinstance(a.get("error.type"), str)
        err_text = status.get("message") if isinstance(status.get("message"), str) and status.get("message") else a.get("error.type")
        span_id = b.get("spanId") if isinstance(b.get("spanId"), str) else None
        trace_id = b.get("traceId") if isinstance(b.get("traceId"), str) else None
        if span_id and trace_id:
            self.line_keys.setdefault(line.line_no, f"otel:{trace_id}:{span_id}")
        dur = float(end - start) if start is not None and end is not None and end >= start else None
        keep = {
            k: v
            for k, v in a.items()
            if not k.startswith("gen_ai.usage.")
            and k not in ("gen_ai.tool.definitions", "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions")
        }
        ids = {"traceId": trace_id, "spanId": span_id, "parentSpanId": b.get("parentSpanId") or None}
        base = self._base(line, rec, end if op == "chat" else start, a, {"span": ids, "attributes": keep})
        base["uuid"] = span_id
        base["parent_uuid"] = ids["parentSpanId"] if isinstance(ids["parentSpanId"], str) else None
        native = f"span/{op or name}"
        model = a.get("gen_ai.response.model") or a.get("gen_ai.request.model")
        model = model if isinstance(model, str) and model != REDACTED else None
        provider = a.get("gen_ai.provider.name", a.get("gen_ai.system"))
        provider = provider if isinstance(provider, str) else None
        j = 0
        if op == "chat" or op == "text_completion":
            finish = a.get("gen_ai.response.finish_reasons")
            stop = finish[0] if isinstance(finish, list) and finish and isinstance(finish[0], str) else None
            out_text = self.red.text(a.get("gen_ai.output.messages"))
            text, tb = cap_text(out_text)
            cost = a.get("github.copilot.cost") if isinstance(a.get("github.copilot.cost"), (int, float)) else None
            self._add(
                base,
                line,
                i,
                j,
                kind="api_error" if failed else "assistant_text",
                native_type=native,
                role="assistant",
                model=model,
                provider=provider,
                message_id=a.get("gen_ai.response.id") if isinstance(a.get("gen_ai.response.id"), str) else None,
                request_id=a.get("github.copilot.service_request_id") if isinstance(a.get("github.copilot.service_request_id"), str) else None,
                llm_call_key=f"otel:{trace_id}:{span_id}" if span_id else f"otel:{self.file_tag}:{line.line_no}:{i}",
                request_ts=start,
                duration_ms=dur,
                stop_reason=stop,
                is_error=failed or None,
                text=text if not failed else (err_text if isinstance(err_text, str) else text),
                text_bytes=tb,
                **usage_spec(self.red, a),
                extra=base["extra"] if cost is None else dumps({"copilot_premium_cost": cost}),
            )
            j += 1
        elif op == "execute_tool":
            tid = a.get("gen_ai.tool.call.id") if isinstance(a.get("gen_ai.tool.call.id"), str) else (span_id or f"{self.file_tag}:{line.line_no}:{i}")
            tname = a.get("gen_ai.tool.name") if isinstance(a.get("gen_ai.tool.name"), str) else (name.split(" ", 1)[1] if name and " " in name else None)
            args = self.red.text(a.get("gen_ai.tool.call.arguments"))
            capped, ib = cap_text(args, S.TOOL_INPUT_CAP)
            self._add(
                base, line, i, 0, kind="tool_call", native_type=native, role="assistant", tool_call_id=tid, tool_name=tname, tool_input=capped, text_bytes=ib
            )
            result = self.red.text(a.get("gen_ai.tool.call.result"))
            if failed and not result and isinstance(err_text, str):
                result = err_text
            text, tb = cap_text(result)
            self._add(
                {**base, "ts": end if end is not None else start},
                line,
                i,
                1,
                kind="tool_result",
                native_type=native,
                role="tool",
                tool_call_id=tid,
                tool_name=tname,
                text=text,
                text_bytes=tb,
                status="error" if failed else "ok",
                is_error=failed,
                duration_ms=dur,
            )
            j = 2
        elif op == "invoke_agent":
            # the agent's whole invocation: its usage attributes sum its chat spans, so they are
            # kept as a token_usage row outside llm_calls (never added to the calls' totals)
            usage = usage_spec(self.red, a)
            agent_name = a.get("gen_ai.agent.name") or a.get("gen_ai.agent.id")
            self._add(
                base,
                line,
                i,
                0,
                kind="turn_start",
                native_type=native,
                model=model,
                provider=provider,
                duration_ms=dur,
                title=agent_name if isinstance(agent_name, str) else None,
                is_error=failed or None,
            )
            j = 1
            if any(v is not None for v in usage.values()):
                self._add(base, line, i, j, kind="token_usage", native_type=f"{native}/usage", model=model, provider=provider, **usage)
                j += 1
        else:
            kind = "system" if op == "create_agent" else "bookkeeping"
            self._add(
                base,
                line,
                i,
                0,
                kind=kind,
                native_type=native,
                duration_ms=dur,
                is_error=failed or None,
                text=err_text if failed and isinstance(err_text, str) else None,
            )
            j = 1
        for ev in _l(b.get("events")):
            if j >= 8 or not isinstance(ev, dict):
                break
            self._span_event(ev, base, line, i, j, op)
            j += 1

    def _span_event(self, ev: dict, base: dict, line: RawLine, i: int, j: int, op: Any) -> None:
        raw_name = ev.get("name")
        ename: str = raw_name if isinstance(raw_name, str) else "event"
        ea = attrs(ev.get("attributes"))
        ts = otel_ms(ev.get("timeUnixNano", ev.get("time")))
        b = {**base, "ts": ts if ts is not None else base["ts"], "extra": dumps(shrink(ea, 512)) if ea else None}
        if ename.endswith("user.message") or ename == "gen_ai.user.message":
            text, tb = cap_text(self.red.text(ea.get("content") or ea.get("github.copilot.user.message.content")))
            self._add(b, line, i, j, kind="user_prompt", native_type=f"event/{ename}", role="user", text=text, text_bytes=tb)
        elif ename.endswith("skill.invoked"):
            self._add(b, line, i, j, kind="user_context", native_type=f"event/{ename}", title=self.red.text(ea.get("github.copilot.skill.name")))
        elif ename == "exception":
            text, tb = cap_text(self.red.text(ea.get("exception.message") or ea.get("exception.type")))
            self._add(b, line, i, j, kind="api_error" if op == "chat" else "system", native_type=f"event/{ename}", is_error=True, text=text, text_bytes=tb)
        else:
            for v in ea.values():
                if v == REDACTED:
                    self.red.n += 1
            self._add(b, line, i, j, kind="bookkeeping", native_type=f"event/{ename}")

    # ------------------------------------------------------------------ logs
    def _log(self, rec: Record, line: RawLine, i: int) -> None:
        b, a = rec.body, rec.attrs
        ts = otel_ms(b.get("timeUnixNano") or b.get("observedTimeUnixNano") or b.get("time") or a.get("event.timestamp"))
        body = any_value(b.get("body"))
        name = a.get("event.name") or b.get("eventName") or (body if isinstance(body, str) and "." in body and " " not in body else None)
        name = name if isinstance(name, str) else "log"
        base = self._base(line, rec, ts, a, {"attributes": {k: v for k, v in a.items() if k not in ("prompt",)}})
        short = name.split(".", 1)[1] if name.startswith(("claude_code.", "codex.")) else name
        prefix = name.split(".", 1)[0]
        model = a.get("model") if isinstance(a.get("model"), str) else None
        c = self.red.count
        if short == "user_prompt":
            text, tb = cap_text(self.red.text(a.get("prompt")))
            self._add(base, line, i, 0, kind="user_prompt", native_type=f"log/{name}", role="user", text=text, text_bytes=tb)
        elif short == "api_request" and prefix == "claude_code":
            # Claude Code's own convention: input_tokens exclude the cache counts
            cost = a.get("cost_usd")
            self._add(
                base,
                line,
                i,
                0,
                kind="assistant_text",
                native_type=f"log/{name}",
                role="assistant",
                model=model,
                provider="anthropic",
                llm_call_key=f"otel:{self.file_tag}:{line.line_no}:{i}",
                input_tokens=c(a.get("input_tokens")),
                output_tokens=c(a.get("output_tokens")),
                cache_read_tokens=c(a.get("cache_read_tokens")),
                cache_write_tokens=c(a.get("cache_creation_tokens")),
                duration_ms=float(c(a.get("duration_ms")) or 0) or None,
                cost_usd=float(cost) if isinstance(cost, (int, float)) or (isinstance(cost, str) and cost.replace(".", "", 1).isdigit()) else None,
            )
        elif short == "sse_event" and prefix == "codex":
            kind_attr = a.get("event.kind")
            if kind_attr == "response.completed" and (a.get("input_token_count") is not None or a.get("output_token_count") is not None):
                inp, cached = c(a.get("input_token_count")), c(a.get("cached_token_count"))
                tool = c(a.get("tool_token_count"))
                self._add(
                    base,
                    line,
                    i,
                    0,
                    kind="assistant_text",
                    native_type=f"log/{name}",
                    role="assistant",
                    model=model,
                    provider="openai",
                    llm_call_key=f"otel:{self.file_tag}:{line.line_no}:{i}",
                    # Codex (OpenAI) convention: input includes the cached part
                    input_tokens=None if inp is None else max(inp - (cached or 0), 0) + (tool or 0),
                    output_tokens=c(a.get("output_token_count")),
                    cache_read_tokens=cached,
                    cache_write_tokens=0 if inp is not None else None,
                    reasoning_tokens=c(a.get("reasoning_token_count")),
                )
            else:
                self._add(base, line, i, 0, kind="bookkeeping", native_type=f"log/{name}/{kind_attr}")
        elif short in ("api_error",):
            text, tb = cap_text(self.red.text(a.get("error") or a.get("error.message") or body))
            self._add(base, line, i, 0, kind="api_error", native_type=f"log/{name}", model=model, is_error=True, text=text, text_bytes=tb)
        elif short == "tool_result":
            tid = a.get("tool_use_id") or a.get("call_id") or a.get("tool_call_id")
            tid = tid if isinstance(tid, str) else f"{self.file_tag}:{line.line_no}:{i}"
            tname = a.get("tool_name") if isinstance(a.get("tool_name"), str) else None
            args = self.red.text(a.get("arguments") or a.get("tool_parameters"))
            capped, ib = cap_text(args, S.TOOL_INPUT_CAP)
            ok = a.get("success")
            ok = ok if isinstance(ok, bool) else (str(ok).lower() == "true" if ok is not None else True)
            dur = c(a.get("duration_ms"))
            self._add(
                base,
                line,
                i,
                0,
                kind="tool_call",
                native_type=f"log/{name}",
                role="assistant",
                tool_call_id=tid,
                tool_name=tname,
                tool_input=capped,
                text_bytes=ib,
            )
            text, tb = cap_text(self.red.text(a.get("output") or a.get("error")))
            self._add(
                base,
                line,
                i,
                1,
                kind="tool_result",
                native_type=f"log/{name}",
                role="tool",
                tool_call_id=tid,
                tool_name=tname,
                text=text,
                text_bytes=tb,
                status="ok" if ok else "error",
                is_error=not ok,
                duration_ms=float(dur) if dur is not None else None,
            )
        elif short == "tool_decision":
            decision = a.get("decision")
            self._add(
                base,
                line,
                i,
                0,
                kind="tool_event",
                native_type=f"log/{name}",
                tool_name=a.get("tool_name") if isinstance(a.get("tool_name"), str) else None,
                status="user_rejected" if isinstance(decision, str) and decision.lower() in ("reject", "denied", "deny", "abort") else None,
                text=decision if isinstance(decision, str) else None,
            )
        elif short == "conversation_starts":
            self._add(base, line, i, 0, kind="session_start", native_type=f"log/{name}", model=model)
        else:
            text, tb = cap_text(self.red.text(body) if body is not None and not isinstance(body, str) or (isinstance(body, str) and body != name) else None)
            self._add(
                base,
                line,
                i,
                0,
                kind="system" if prefix in ("claude_code", "codex", "gen_ai") else "bookkeeping",
                native_type=f"log/{name}",
                text=text,
                text_bytes=tb,
            )

    # ------------------------------------------------------------------ metrics
    def _metric(self, rec: Record, line: RawLine, i: int) -> None:
        """Metrics are aggregates over calls the spans already hold: kept as bookkeeping rows
        (name, unit, data points in ``extra``), never as usage."""
        b = rec.body
        name = b.get("name") if isinstance(b.get("name"), str) else "metric"
        points = _l(b.get("dataPoints"))
        if not points:
            for k in ("sum", "gauge", "histogram", "exponentialHistogram", "summary"):
                points = _l(_d(b.get(k)).get("dataPoints"))
                if points:
                    break
        ts = None
        for p in points:
            if isinstance(p, dict):
                ts = otel_ms(p.get("timeUnixNano", p.get("endTime")))
                for v in attrs(p.get("attributes")).values():
                    if v == REDACTED:
                        self.red.n += 1
        summary = {
            "unit": b.get("unit"),
            "points": [shrink({k: v for k, v in p.items() if k != "value"} | {"value": _metric_value(p)}, 256) for p in points[:20] if isinstance(p, dict)],
        }
        base = self._base(line, rec, ts, {}, summary)
        self._add(base, line, i, 0, kind="bookkeeping", native_type=f"metric/{name}")


def _metric_value(p: dict) -> Any:
    v = p.get("value")
    if isinstance(v, dict):
        return {k: v.get(k) for k in ("count", "sum", "min", "max") if k in v}
    for k in ("asInt", "asDouble", "sum", "count"):
        if k in p:
            return p[k]
    return v
