"""Copilot CLI adapter: the two real ``events.jsonl`` logs (golden, hand-checked counts), the
``--output-format json`` stream, subagents, shutdown usage never counted twice, appends and
bad lines.

Hand-checked numbers were read from the raw files with ``json`` alone: event types, the
``assistant.message`` count and ``outputTokens`` sum (with and without ``parentToolCallId``),
``tool.execution_start``/``_complete`` counts and failures, ``session.shutdown.modelMetrics``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import SAMPLES, require_samples

from tracelab.catalog import connect
from tracelab.ingest import registry
from tracelab.ingest.copilot import default_roots, discover
from tracelab.ingest.copilot.parse import CopilotParser
from tracelab.pipeline import ingest

COP = SAMPLES / "copilot-cli"
A = "agent-engram-07c40cd0-events.jsonl"
B = "agent-engram-8baa78ec-events.jsonl"
STREAM = "copilot-sdk-phase2-task-20260803-1550-2169.output-format-json.jsonl"
SID_A = "07c40cd0-ff51-4d6e-bdcd-ac2f90877203"
SID_B = "8baa78ec-b203-4c7f-b1d3-c1170ae84b7d"
TASK = "toolu_vrtx_01R27ZwYteU55tkfsFnfwttf"


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    require_samples("copilot-cli")
    wh = tmp_path_factory.mktemp("copilot_wh")
    s = ingest([str(COP)], wh, jobs=1)
    assert s.files_failed == 0, s.errors
    c = connect(wh)
    yield c
    c.close()


def _q(con, sql, *p):
    return con.execute(sql, list(p)).fetchall()


def test_accounting_identity(con):
    rows = {Path(p).name: r for p, *r in _q(con, "SELECT path, lines_total, lines_ingested, lines_duplicate, lines_rejected FROM files")}
    assert rows[A] == [592, 592, 0, 0]
    assert rows[B] == [1553, 1553, 0, 0]
    # the stream: 2152 lines, 1770 of them streaming fragments repeated by complete events
    # (1337 tool_call_delta + 204 message_delta + 130 reasoning_delta + 88 partial results
    # + 11 message_start)
    assert rows[STREAM] == [2152, 382, 1770, 0]


def test_golden_session_a(con):
    sk = f"copilot:{SID_A}"
    # 75 assistant.message (70 before / 5 after the switch to sonnet), outputTokens 22185
    assert _q(con, "SELECT model, count(*) FROM llm_calls WHERE session_key = ? GROUP BY 1 ORDER BY 1", sk) == [
        ("claude-opus-4.6", 70),
        ("claude-sonnet-4.6", 5),
    ]
    assert _q(con, "SELECT sum(output_tokens) FROM llm_calls WHERE session_key = ?", sk) == [(22185,)]
    # 86 tool starts, 86 completions, none failed
    assert _q(con, "SELECT status, count(*) FROM tool_calls WHERE session_key = ? GROUP BY 1", sk) == [("ok", 86)]
    assert _q(con, "SELECT n_user_prompts, agent_version, cwd, git_branch FROM sessions WHERE session_key = ?", sk) == [
        (9, "1.0.10", "D:\\Source\\GitHub\\agent-engram", "007-agent-engineering-refactor")
    ]
    assert _q(con, "SELECT count(*) FROM events WHERE session_key = ? AND kind = 'model_change'", sk) == [(3,)]
    assert _q(con, "SELECT count(*) FROM events WHERE session_key = ? AND kind = 'hook'", sk) == [(172,)]


def test_golden_session_b_with_subagent(con):
    sk, sub = f"copilot:{SID_B}", f"copilot:{SID_B}/agent-{TASK}"
    # 215 assistant.message: 199 main, 16 of the explore subagent (parentToolCallId = the task call)
    assert _q(con, "SELECT count(*) FROM llm_calls WHERE session_key = ? AND stop_reason IS NULL", sk) == [(199,)]
    assert _q(con, "SELECT model, count(*), sum(output_tokens) FROM llm_calls WHERE session_key = ? GROUP BY 1", sub) == [("claude-haiku-4.5", 16, 5463)]
    assert _q(con, "SELECT parent_session_key, parent_tool_call_id, is_subagent FROM sessions WHERE session_key = ?", sub) == [(sk, TASK, True)]
    assert _q(con, "SELECT tool_name FROM tool_calls WHERE tool_call_id = ?", TASK) == [("task",)]
    # 269 starts (232 main + 37 subagent), 268 completions, 6 failures, 1 call never completed
    assert _q(con, "SELECT count(*) FROM tool_calls WHERE session_key IN (?, ?)", sk, sub) == [(269,)]
    assert dict(_q(con, "SELECT status, count(*) FROM tool_calls WHERE session_key IN (?, ?) GROUP BY 1", sk, sub)) == {"ok": 262, "error": 6, "no_result": 1}
    errs = [r[0] for r in _q(con, "SELECT error_text FROM tool_calls WHERE status = 'error' AND session_key IN (?, ?) ORDER BY error_text", sk, sub)]
    assert "Tool 'task_complete' does not exist." in errs and "rg: unrecognized file type: rs" in errs
    kinds = dict(_q(con, "SELECT kind, count(*) FROM events WHERE session_key IN (?, ?) GROUP BY 1", sk, sub))
    assert (kinds["compaction"], kinds["compaction_summary"]) == (1, 1)
    assert _q(con, "SELECT count(*) FROM events WHERE session_key = ? AND native_type = 'session.resume'", sk) == [(3,)]
    assert _q(con, "SELECT count(*) FROM events WHERE native_type LIKE 'session.warning%' AND session_key = ?", sk) == [(28,)]


def test_shutdown_usage_is_never_counted_twice(con):
    """Two runs end with session.shutdown: opus 54 + 39 requests, haiku 16. Their output equals
    the per-call outputTokens of those runs (12356 + 8545 = 20901 opus, 5463 haiku), so the usage
    rows add input and cache only."""
    sk = f"copilot:{SID_B}"
    rows = _q(
        con,
        "SELECT model, sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), count(*) FROM llm_calls "
        "WHERE session_key = ? AND stop_reason = 'usage_total' GROUP BY 1 ORDER BY 1",
        sk,
    )
    # input is uncached: 364103 - 311058; 3832521 + 4137889 - (3399168 + 3908170)
    assert rows == [("claude-haiku-4.5", 53045, 0, 311058, 1), ("claude-opus-4.6", 663072, 0, 7307338, 2)]
    per_call = _q(
        con,
        "SELECT model, sum(output_tokens) FROM llm_calls WHERE session_key LIKE ? AND stop_reason IS NULL AND model <> 'claude-sonnet-4.6' GROUP BY 1 ORDER BY 1",
        sk + "%",
    )
    assert per_call == [("claude-haiku-4.5", 5463), ("claude-opus-4.6", 20901)]
    reported = _q(con, "SELECT sum(CAST(json_extract(extra, '$.reported_output_tokens') AS BIGINT)) FROM events WHERE stop_reason = 'usage_total'")
    assert reported == [(12356 + 5463 + 8545,)]


def test_stream_output(con):
    """The --output-format json stream: session id from the final result line, model and
    request ids on assistant.message, redacted values NULL, tool calls from execution_start."""
    sk = "copilot:ff420841-138b-4cf7-9d16-ded0ecfbf0bc"
    assert (
        _q(con, "SELECT count(*), count(output_tokens) FROM events WHERE session_key = ? AND llm_call_key IS NOT NULL AND kind <> 'token_usage'", sk)[0][1] == 0
    )
    assert _q(con, "SELECT count(*), count(DISTINCT request_id) FROM llm_calls WHERE session_key = ?", sk) == [(21, 21)]
    assert _q(con, "SELECT status, count(*) FROM tool_calls WHERE session_key = ? GROUP BY 1", sk) == [("ok", 20)]
    assert _q(con, "SELECT count(*) FROM events WHERE session_key <> ? AND source_file LIKE '%output-format-json%'", sk) == [(0,)]


def test_append_continues(tmp_path):
    src = require_samples("copilot-cli") / A
    lines = src.read_bytes().splitlines(keepends=True)
    d = tmp_path / "session-state" / SID_A
    d.mkdir(parents=True)
    f = d / "events.jsonl"
    f.write_bytes(b"".join(lines[:300]))
    ingest([str(f)], tmp_path / "wh", jobs=1)
    f.write_bytes(b"".join(lines))
    os.utime(f, ns=(2_000_000_000_000_000_000, 2_000_000_000_000_000_000))
    s = ingest([str(f)], tmp_path / "wh", jobs=1)
    assert s.files_appended == 1
    ingest([str(f)], tmp_path / "clean", jobs=1)
    q = "SELECT llm_call_key, model, output_tokens FROM llm_calls ORDER BY ALL"
    q2 = "SELECT tool_call_id, status FROM tool_calls ORDER BY ALL"
    a, b = connect(tmp_path / "wh"), connect(tmp_path / "clean")
    assert a.execute(q).fetchall() == b.execute(q).fetchall()
    assert a.execute(q2).fetchall() == b.execute(q2).fetchall()
    a.close()
    b.close()


def test_bad_lines(tmp_path):
    f = tmp_path / "events.jsonl"
    good = {"type": "user.message", "data": {"content": "hi"}, "id": "e1", "timestamp": "2026-01-01T00:00:00Z", "parentId": None}
    f.write_text("\n".join([json.dumps(good), "{not json", json.dumps({"data": {}}), json.dumps({"type": "user.message", "data": [1]})]) + "\n")
    res = CopilotParser(f).parse()
    assert (res.lines_total, res.lines_rejected) == (4, 3)
    assert [r.reason.split(":")[0] for r in res.rejects] == ["invalid JSON", "field 'type' is missing", "field 'data' has wrong type list"]


def test_discovery_and_detection(tmp_path, monkeypatch):
    home = tmp_path / "cp"
    d = home / "session-state" / SID_A
    d.mkdir(parents=True)
    (d / "events.jsonl").write_bytes((require_samples("copilot-cli") / A).read_bytes())
    monkeypatch.setenv("COPILOT_HOME", str(home))
    (root,) = default_roots()
    assert [p.parent.name for p in discover(root)] == [SID_A]
    for name in (A, B, STREAM):
        assert registry.detect(COP / name).name == "copilot", name
