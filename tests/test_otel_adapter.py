"""OpenTelemetry GenAI adapter: the real Copilot CLI file-exporter logs and Visual Studio
OTLP/JSON traces (golden, hand-checked counts), redacted values, the cache-token convention,
Claude Code / Codex log events, and a pretty-printed OTLP document.

Hand-checked counts were read from the raw files with ``json`` alone (span names, operation
attributes, status codes, metric lines, exact ``"[REDACTED]"`` values).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES, require_samples

from tracelab.catalog import connect
from tracelab.ingest import registry
from tracelab.ingest.otel.parse import OtelParser, Redactions, usage_spec
from tracelab.pipeline import ingest

OTEL = SAMPLES / "otel"
P1 = "copilot-sdk-copilot-cli-otel-phase1-20260804-0129-2151.jsonl"
P2 = "copilot-sdk-copilot-cli-otel-phase2-20260803-1550-2169.jsonl"
VS1 = "agentsview-sample-1_VSGitHubCopilot_traces.jsonl"
VS4 = "agentsview-sample-4_VSGitHubCopilot_traces.jsonl"


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    require_samples("otel")
    w = tmp_path_factory.mktemp("otel_wh")
    s = ingest([str(OTEL)], w, jobs=1)
    assert s.files_failed == 0, s.errors
    return w, s


@pytest.fixture(scope="module")
def con(wh):
    c = connect(wh[0])
    yield c
    c.close()


def _q(con, sql, *p):
    return con.execute(sql, list(p)).fetchall()


def _raw_redacted(path: Path) -> int:
    """Exact "[REDACTED]" values where tracelab reads numbers or event/metric attributes."""
    n = 0
    for line in path.read_text().splitlines():
        d = json.loads(line)
        if d["type"] == "span":
            n += sum(1 for k, v in d["attributes"].items() if k.startswith("gen_ai.usage.") and v == "[REDACTED]")
            n += sum(1 for e in d.get("events", []) for v in e["attributes"].values() if v == "[REDACTED]")
        else:
            n += sum(1 for p in d.get("dataPoints", []) for v in p.get("attributes", {}).values() if v == "[REDACTED]")
    return n


def test_accounting(con):
    rows = {Path(p).name: r for p, *r in _q(con, "SELECT path, lines_total, lines_ingested, lines_duplicate, lines_rejected FROM files")}
    # phase2: 42 spans + 102 metric lines; phase1: 112 spans + 379 metrics; VS: one request a line
    assert rows[P2] == [144, 144, 0, 0]
    assert rows[P1] == [491, 491, 0, 0]
    assert rows[VS1] == [4, 4, 0, 0]
    assert rows[VS4] == [5, 5, 0, 0]


def test_golden_copilot_cli_phase2(con):
    sk = "otel:ff420841-138b-4cf7-9d16-ded0ecfbf0bc"  # gen_ai.conversation.id = the Copilot session id
    # 21 "chat claude-opus-4.6" spans, 20 execute_tool (17 bash, 2 read_bash, 1 skill), 1 invoke_agent
    assert _q(con, "SELECT model, count(*), count(DISTINCT message_id) FROM llm_calls WHERE session_key = ? GROUP BY 1", sk) == [("claude-opus-4.6", 21, 21)]
    assert dict(_q(con, "SELECT tool_name, count(*) FROM tool_calls WHERE session_key = ? GROUP BY 1", sk)) == {"bash": 17, "read_bash": 2, "skill": 1}
    assert _q(con, "SELECT DISTINCT status FROM tool_calls WHERE session_key = ?", sk) == [("ok",)]
    assert _q(con, "SELECT count(*) FROM events WHERE session_key = ? AND kind = 'turn_start'", sk) == [(1,)]
    # all 102 metric lines are bookkeeping of the same session, never usage
    assert _q(con, "SELECT count(*) FROM events WHERE session_key = ? AND native_type LIKE 'metric/%'", sk) == [(102,)]
    assert _q(con, "SELECT count(*) FROM events WHERE native_type LIKE 'metric/%' AND (input_tokens IS NOT NULL OR llm_call_key IS NOT NULL)") == [(0,)]
    # latency from the span: request_ts = start, ts = end
    assert _q(con, "SELECT min(latency_ms) > 0, count(latency_ms) FROM llm_calls WHERE session_key = ?", sk) == [(True, 21)]


def test_golden_copilot_cli_phase1(con):
    sk = "otel:36cc82e6-40c5-4ff3-b927-14b5813633fd"
    # 56 chat spans, 55 execute_tool, 1 invoke_agent; 2 user.message span events
    assert _q(con, "SELECT count(*) FROM llm_calls WHERE session_key = ?", sk) == [(56,)]
    assert _q(con, "SELECT count(*) FROM tool_calls WHERE session_key = ?", sk) == [(55,)]
    assert _q(con, "SELECT count(*) FROM events WHERE session_key = ? AND kind = 'user_prompt'", sk) == [(2,)]


def test_golden_visual_studio(con):
    # sample-1: invoke_agent + 3 execute_tool (gpt-5.5); sample-4: 2 invoke_agent (2 conversations) + 3 tools
    rows = _q(con, "SELECT session_key, count(*) FROM tool_calls WHERE source_file LIKE '%VSGitHubCopilot%' GROUP BY 1 ORDER BY 1")
    assert rows == [("otel:4a8f63f6-7626-4416-a874-fc7bd2c3f005", 5), ("otel:c0aca2e3-d1f2-4d28-bd5e-5dab29e2be28", 1)]
    assert _q(con, "SELECT tool_name, input_json, output_text FROM tool_calls WHERE tool_call_id = 'call_0032'") == [
        ("run_build", '{"configuration":"Release"}', "Build succeeded with 0 warning(s).")
    ]
    # 3 invoke_agent spans: the response model where the span has one, else the requested model
    rows = _q(con, "SELECT model FROM events WHERE kind = 'turn_start' AND source_file LIKE '%VSGitHubCopilot%' ORDER BY 1")
    assert [r[0] for r in rows] == ["gpt-5.5", "gpt-5.5-2026-03-05", "gpt-5.5-2026-03-05"]


def test_redacted_tokens_are_null_and_counted(wh, con):
    _, summary = wh
    # every chat span's usage was redacted: NULL in events, never 0
    assert _q(con, "SELECT count(*), count(input_tokens), count(output_tokens) FROM events WHERE native_type = 'span/chat'") == [(77, 0, 0)]
    assert summary.redacted_values == _raw_redacted(OTEL / P1) + _raw_redacted(OTEL / P2) == 460 + 163
    out, _ = summary.text_lines()
    assert "redacted   623 values redacted by their publisher, read as NULL (not 0)" in out


def test_cache_convention():
    red = Redactions()
    # the spec: input includes cache reads and writes
    u = usage_spec(
        red,
        {
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.cache_read.input_tokens": 700,
            "gen_ai.usage.cache_creation.input_tokens": 100,
            "gen_ai.usage.output_tokens": 50,
        },
    )
    assert (u["input_tokens"], u["cache_read_tokens"], u["cache_write_tokens"], u["output_tokens"]) == (200, 700, 100, 50)
    # a producer that excluded them (input smaller than the cache counts): input is uncached already
    u = usage_spec(red, {"gen_ai.usage.input_tokens": 12, "gen_ai.usage.cache_read.input_tokens": 900})
    assert (u["input_tokens"], u["cache_read_tokens"]) == (12, 900)
    u = usage_spec(red, {"gen_ai.usage.input_tokens": "[REDACTED]", "gen_ai.usage.output_tokens": "17"})
    assert (u["input_tokens"], u["output_tokens"], red.n) == (None, 17, 1)


def _otlp_logs(service: str, records: list[dict]) -> dict:
    def kv(d):
        out = []
        for k, v in d.items():
            val = (
                {"intValue": str(v)}
                if isinstance(v, int) and not isinstance(v, bool)
                else {"boolValue": v}
                if isinstance(v, bool)
                else {"doubleValue": v}
                if isinstance(v, float)
                else {"stringValue": v}
            )
            out.append({"key": k, "value": val})
        return out

    return {
        "resourceLogs": [
            {
                "resource": {"attributes": kv({"service.name": service, "service.version": "2.1.0"})},
                "scopeLogs": [
                    {
                        "scope": {"name": service},
                        "logRecords": [{"timeUnixNano": str(r.pop("t")), "body": {"stringValue": r["event.name"]}, "attributes": kv(r)} for r in records],
                    }
                ],
            }
        ]
    }


def test_claude_code_and_codex_log_events(tmp_path):
    t0 = 1_780_000_000_000_000_000
    cc = _otlp_logs(
        "claude-code",
        [
            {"t": t0, "event.name": "claude_code.user_prompt", "session.id": "s-cc", "prompt": "fix it"},
            {
                "t": t0 + 10**9,
                "event.name": "claude_code.api_request",
                "session.id": "s-cc",
                "model": "claude-sonnet-4-5",
                "input_tokens": 12,
                "output_tokens": 40,
                "cache_read_tokens": 900,
                "cache_creation_tokens": 30,
                "cost_usd": 0.01,
                "duration_ms": 800,
            },
            {
                "t": t0 + 2 * 10**9,
                "event.name": "claude_code.tool_result",
                "session.id": "s-cc",
                "tool_name": "Bash",
                "success": False,
                "duration_ms": 120,
                "error": "Exit code 1",
            },
            {
                "t": t0 + 3 * 10**9,
                "event.name": "claude_code.api_error",
                "session.id": "s-cc",
                "model": "claude-sonnet-4-5",
                "error": "overloaded",
                "status_code": 529,
            },
        ],
    )
    cx = _otlp_logs(
        "codex_cli_rs",
        [
            {
                "t": t0,
                "event.name": "codex.sse_event",
                "conversation.id": "s-cx",
                "event.kind": "response.completed",
                "model": "gpt-5",
                "input_token_count": 1000,
                "cached_token_count": 600,
                "output_token_count": 80,
                "reasoning_token_count": 30,
            },
            {"t": t0 + 10**9, "event.name": "codex.sse_event", "conversation.id": "s-cx", "event.kind": "response.output_text.delta", "model": "gpt-5"},
            {
                "t": t0 + 2 * 10**9,
                "event.name": "codex.tool_result",
                "conversation.id": "s-cx",
                "tool_name": "shell",
                "call_id": "call_1",
                "arguments": '{"command":["ls"]}',
                "success": "true",
                "duration_ms": 5,
                "output": "a b",
            },
        ],
    )
    f = tmp_path / "logs.jsonl"
    f.write_text(json.dumps(cc) + "\n" + json.dumps(cx) + "\n")
    assert registry.detect(f).name == "otel"
    s = ingest([str(f)], tmp_path / "wh", jobs=1)
    assert (s.lines_total, s.lines_ingested) == (2, 2)
    c = connect(tmp_path / "wh")
    calls = c.execute(
        "SELECT session_key, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens FROM llm_calls ORDER BY 1"
    ).fetchall()
    # Claude Code's input excludes the cache; Codex's includes it (1000 - 600)
    assert calls == [("otel:s-cc", "claude-sonnet-4-5", 12, 40, 900, 30, 0), ("otel:s-cx", "gpt-5", 400, 80, 600, 0, 30)]
    tools = c.execute("SELECT session_key, tool_name, status, error_text IS NOT NULL FROM tool_calls ORDER BY 1").fetchall()
    assert tools == [("otel:s-cc", "Bash", "error", True), ("otel:s-cx", "shell", "ok", False)]
    assert c.execute("SELECT count(*) FROM events WHERE kind = 'api_error'").fetchall() == [(1,)]
    assert c.execute("SELECT text FROM events WHERE kind = 'user_prompt'").fetchall() == [("fix it",)]
    c.close()


def test_pretty_printed_otlp_document_and_bad_lines(tmp_path):
    src = require_samples("otel") / VS1
    first = json.loads(src.read_text().splitlines()[0])
    doc = tmp_path / "trace.json"
    doc.write_text(json.dumps(first, indent=2))
    assert registry.detect(doc).name == "otel"
    res = OtelParser(doc).parse()
    assert (res.lines_total, res.lines_rejected) == (1, 0)
    assert [r["kind"] for r in res.buffer.rows] == ["turn_start"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(src.read_text().splitlines()[1] + "\n" + '{"hello": 1}\n' + "{broken\n")
    res = OtelParser(bad).parse()
    assert (res.lines_total, res.lines_rejected) == (3, 2)
    assert [r.reason.split(":")[0] for r in res.rejects] == ["not an OpenTelemetry span, log or metric record", "invalid JSON"]
