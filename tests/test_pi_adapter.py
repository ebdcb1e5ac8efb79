"""Pi adapter: real samples (golden, hand-checked counts), malformed input, trees and branches,
forks, appends, and token parity with ccusage.

Real samples are read in place from ``shared/samples/pi`` (see conftest); the synthetic files
below are written line by line to ``tmp_path`` in pi's own shapes.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from conftest import SAMPLES, nonblank_lines, require_samples

from tracelab.catalog import connect
from tracelab.ingest import registry
from tracelab.ingest.pi import ADAPTER, default_roots, discover
from tracelab.ingest.pi.parse import classify_tool_result
from tracelab.pipeline import ingest

GOLDEN = json.loads((Path(__file__).parent / "golden" / "pi_samples.json").read_text())["files"]
DOC_SAMPLE = "pi-mono__assistant-message-with-thinking-code.json"


# ------------------------------------------------------------------------------ helpers
def _rows(wh, sql, **params):
    """Run ``sql`` on a warehouse path (a fresh connection) or an open connection."""
    if not isinstance(wh, (str, os.PathLike)):
        return wh.execute(sql, params).fetchall()
    con = connect(wh)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def _one(wh, sql, **params):
    return _rows(wh, sql, **params)[0][0]


def _accounting(wh):
    return {Path(r[0]).name: r[1:] for r in _rows(wh, "SELECT path, lines_total, lines_ingested, lines_duplicate, lines_rejected FROM files")}


def _write(path: Path, lines: list, *, newline_at_end: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    path.write_text(text + ("\n" if newline_at_end else ""))
    return path


def _append(path: Path, lines: list) -> None:
    with open(path, "a") as fh:
        for x in lines:
            fh.write((x if isinstance(x, str) else json.dumps(x)) + "\n")


SID = "0190aaaa-0000-7000-8000-000000000001"


def _ts(sec: float) -> str:
    ms = int(round(sec * 1000))
    return f"2026-03-01T10:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}Z"


def _ms(sec: float) -> int:
    return 1772359200000 + int(round(sec * 1000))  # 2026-03-01T10:00:00Z


def header(sid=SID, sec=0, cwd="/work/proj", **kw):
    return {"type": "session", "version": 3, "id": sid, "timestamp": _ts(sec), "cwd": cwd, **kw}


def ent(typ, eid, parent, sec, **kw):
    return {"type": typ, "id": eid, "parentId": parent, "timestamp": _ts(sec), **kw}


def user(eid, parent, sec, text="do it"):
    return ent("message", eid, parent, sec, message={"role": "user", "content": [{"type": "text", "text": text}], "timestamp": _ms(sec)})


def usage(inp=10, out=5, cr=100, cw=20, cost=0.01, **more):
    return {
        "input": inp,
        "output": out,
        "cacheRead": cr,
        "cacheWrite": cw,
        "totalTokens": inp + out + cr + cw,
        "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": cost},
        **more,
    }


def asst(eid, parent, sec, content=None, u=None, stop="stop", model="claude-sonnet-4-5", started=None, **kw):
    msg = {
        "role": "assistant",
        "content": content if content is not None else [{"type": "text", "text": "done"}],
        "api": "anthropic-messages",
        "provider": "anthropic",
        "model": model,
        "usage": u if u is not None else usage(),
        "stopReason": stop,
        "timestamp": _ms(started if started is not None else sec - 1),
        **kw,
    }
    return ent("message", eid, parent, sec, message=msg)


def tool_call(tid, name="bash", **args):
    return {"type": "toolCall", "id": tid, "name": name, "arguments": args or {"command": "ls"}}


def tool_result(eid, parent, sec, tid, text="ok", is_error=False, name="bash"):
    return ent(
        "message",
        eid,
        parent,
        sec,
        message={
            "role": "toolResult",
            "toolCallId": tid,
            "toolName": name,
            "content": [{"type": "text", "text": text}],
            "isError": is_error,
            "timestamp": _ms(sec),
        },
    )


def pi_file(root: Path, sid=SID, sec=0, project="--work-proj--") -> Path:
    return root / "sessions" / project / f"2026-03-01T10-00-{sec:02d}-000Z_{sid}.jsonl"


# ------------------------------------------------------------------------------ real samples
@pytest.fixture(scope="module")
def pi_samples() -> Path:
    return require_samples("pi")


@pytest.fixture(scope="module")
def pi_wh(tmp_path_factory, pi_samples) -> Path:
    wh = tmp_path_factory.mktemp("pi_wh")
    summary = ingest([str(pi_samples)], wh, jobs=1)
    assert summary.files_failed == 0, summary.errors
    assert summary.agents == {"pi": 4}
    return wh


@pytest.fixture(scope="module")
def pi_con(pi_wh):
    con = connect(pi_wh)
    yield con
    con.close()


def test_every_sample_is_accounted(pi_wh, pi_samples):
    acc = _accounting(pi_wh)
    jsonl = sorted(p.name for p in pi_samples.glob("*.jsonl"))
    assert sorted(acc) == jsonl  # the .json document is not picked up from a directory
    for name in jsonl:
        total, ing, dup, rej = acc[name]
        assert total == nonblank_lines(pi_samples / name) == GOLDEN[name]["lines_total"]
        assert total == ing + dup + rej
        assert (dup, rej) == (0, 0), name


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_sample(pi_con, pi_samples, name):
    pi_wh = pi_con
    exp = GOLDEN[name]
    f = str((pi_samples / name).resolve())
    q = lambda sql: _one(pi_wh, sql, f=f)  # noqa: E731
    sess = _rows(pi_wh, "SELECT session_key, cwd, forked_from FROM sessions WHERE list_contains(source_files, $f)", f=f)
    assert sess == [(exp["session_key"], exp["cwd"], exp["forked_from"])]
    assert q("SELECT max(title) FROM events WHERE source_file = $f AND native_type = 'session_info'") == exp["title"]
    version = q("SELECT json_extract(extra, '$.version')::INT FROM events WHERE source_file = $f AND kind = 'session_start'")
    assert (version or 1) == exp["version"]
    assert q("SELECT count(*) FROM llm_calls WHERE source_file = $f") == exp["llm_calls"]
    assert q("SELECT count(*) FROM llm_calls WHERE source_file = $f AND is_synthetic") == exp["synthetic"]
    assert q("SELECT count(*) FROM llm_calls WHERE source_file = $f AND stop_reason = 'aborted'") == exp["aborted"]
    assert q("SELECT count(*) FROM llm_calls WHERE source_file = $f AND stop_reason = 'error' AND is_error") == exp["errors"]
    # every failed turn is one interrupt / api_error event
    assert q("SELECT count(*) FROM events WHERE source_file = $f AND kind = 'interrupt'") == exp["aborted"]
    assert q("SELECT count(*) FROM events WHERE source_file = $f AND kind = 'api_error'") == exp["errors"]
    toks = {
        f"{d}|{m}": [n, i, o, cr, cw]
        for d, m, n, i, o, cr, cw in _rows(
            pi_wh,
            "SELECT strftime(date, '%Y-%m-%d'), model, count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
            "sum(cache_write_tokens) FROM llm_calls WHERE source_file = $f AND NOT is_synthetic GROUP BY ALL",
            f=f,
        )
    }
    assert toks == exp["tokens"]
    assert q("SELECT sum(cost_usd_reported) FROM llm_calls WHERE source_file = $f") == pytest.approx(exp["cost_usd"], abs=1e-5)
    assert q("SELECT count(*) FROM tool_calls WHERE source_file = $f") == exp["tool_calls"]
    status = dict(_rows(pi_wh, "SELECT status, count(*) FROM tool_calls WHERE source_file = $f GROUP BY 1", f=f))
    assert status == exp["tool_status"]
    assert q("SELECT count(*) FROM tool_calls WHERE source_file = $f AND tool_name = 'bash (user)'") == exp["user_bash"]
    assert q("SELECT count(*) FROM events WHERE source_file = $f AND kind = 'compaction'") == exp["compactions"]
    if "compaction_first_kept_lines" in exp:
        kept = [
            r[0]
            for r in _rows(
                pi_wh, "SELECT json_extract(text, '$.firstKeptLineNo')::INT FROM events WHERE source_file = $f AND kind = 'compaction' ORDER BY line_no", f=f
            )
        ]
        assert kept == exp["compaction_first_kept_lines"]
    assert q("SELECT count(*) FROM events WHERE source_file = $f AND native_type = 'model_change'") == exp["model_changes"]
    assert q("SELECT count(*) FROM events WHERE source_file = $f AND native_type = 'thinking_level_change'") == exp["thinking_level_changes"]
    assert q("SELECT count(*) FROM events WHERE source_file = $f AND kind = 'user_prompt'") == exp["user_prompts"]
    branches = dict(_rows(pi_wh, "SELECT branch, count(DISTINCT line_no) FROM events WHERE source_file = $f AND kind <> 'session_start' GROUP BY 1", f=f))
    assert branches.get("active", 0) == exp["entries_active"]
    assert branches.get("abandoned", 0) == exp["entries_abandoned"]
    assert q("SELECT count(*) FROM events WHERE source_file = $f AND branch IS NULL") == 0
    if "copied_entries" in exp:
        copies = "SELECT count(DISTINCT line_no) FROM events WHERE source_file = $f AND json_extract(extra, '$.\"$fork_copy\"')::BOOLEAN"
        assert q(copies) == exp["copied_entries"]


def test_sample_latency_and_request_start(pi_con, pi_samples):
    """large-session line 3: entry written 23:33:02.351, request sent at message.timestamp
    1763681581545 (23:33:01.545) → 806 ms; tool latency = result entry − call entry."""
    f = str((pi_samples / "pi-mono__large-session.jsonl").resolve())
    row = _rows(pi_con, "SELECT latency_ms, stop_reason, is_synthetic, model, provider FROM llm_calls WHERE source_file = $f AND line_no = 3", f=f)
    assert row == [(806.0, "aborted", True, "gpt-5.1-codex", "openai")]
    assert _one(pi_con, "SELECT count(*) FROM llm_calls WHERE source_file = $f AND latency_ms IS NULL", f=f) == 0
    # line 40 is `Command exited with code 1` for the bash call on line 39
    tc = _rows(pi_con, "SELECT tool_name, status, exit_code, call_line_no, latency_ms >= 0 FROM tool_calls WHERE source_file = $f AND result_line_no = 40", f=f)
    assert tc == [("bash", "error", 1, 39, True)]


def test_json_document_is_not_discovered_and_is_rejected_clearly(tmp_path, pi_samples):
    doc = pi_samples / DOC_SAMPLE
    assert doc not in set(discover(pi_samples))
    wh = tmp_path / "wh"
    s = ingest([str(doc)], wh, agent="pi", jobs=1)
    assert (s.lines_total, s.lines_ingested, s.lines_rejected) == (33, 0, 33)
    acc = _accounting(wh)[DOC_SAMPLE]
    assert acc == (nonblank_lines(doc), 0, 0, 33)
    reasons = [r[0] for r in _rows(wh, "SELECT reason FROM rejects ORDER BY line_no")]
    assert reasons[0].startswith("not JSONL: the file is one multi-line pi assistant message object (role 'assistant')")
    assert set(reasons[1:]) == {"not JSONL: part of the multi-line JSON document that starts at line 1"}
    assert _one(wh, "SELECT count(*) FROM events") == 0


def test_sniff_tells_pi_from_other_agents(pi_samples):
    for p in pi_samples.glob("*.jsonl"):
        assert registry.detect(p).name == "pi", p
    for other in ("claude-code", "codex"):
        d = SAMPLES / other
        for p in sorted(d.rglob("*.jsonl")) if d.is_dir() else []:
            assert ADAPTER.sniff(registry.head_objects(p)) == 0, p


# ------------------------------------------------------------------------------ trees and branches
def test_tree_branches_active_and_abandoned(tmp_path):
    """Tree: s(session_info) → m(model_change) → u1 → a1 → u2 → a2 (first branch)
                                                   ↘ bs(branch_summary from a1) → u3 → a3 → lb(label) (leaf)
    Active = path from the last entry: lb, a3, u3, bs, a1, u1, m, s. Abandoned: u2, a2.
    """
    f = _write(
        pi_file(tmp_path),
        [
            header(),
            ent("session_info", "s0000001", None, 1, name="  my session  "),
            ent("model_change", "m0000001", "s0000001", 1, provider="anthropic", modelId="claude-sonnet-4-5"),
            user("u0000001", "m0000001", 2),
            asst("a0000001", "u0000001", 4),
            user("u0000002", "a0000001", 6, "try A"),
            asst("a0000002", "u0000002", 8, u=usage(inp=1, out=2, cr=3, cw=4)),
            ent("branch_summary", "b0000001", "a0000001", 10, fromId="a0000001", summary="tried A, it failed"),
            user("u0000003", "b0000001", 12, "try B"),
            asst("a0000003", "u0000003", 14),
            ent("label", "l0000001", "a0000003", 15, targetId="a0000003", label="good"),
        ],
    )
    wh = tmp_path / "wh"
    ingest([str(f)], wh, jobs=1)
    got = dict(_rows(wh, "SELECT uuid, any_value(branch) FROM events WHERE kind <> 'session_start' GROUP BY 1"))
    abandoned = {"u0000002", "a0000002"}
    assert got == {k: ("abandoned" if k in abandoned else "active") for k in got} and len(got) == 10
    assert _one(wh, "SELECT branch FROM events WHERE kind = 'session_start'") == "active"
    # abandoned work is kept and counted, flagged
    assert _one(wh, "SELECT count(*) FROM llm_calls") == 3
    assert _one(wh, "SELECT count(*) FROM llm_calls l JOIN events e USING (llm_call_key) WHERE e.branch = 'abandoned'") == 1
    assert _one(wh, "SELECT title FROM sessions") == "my session"
    summary = _rows(wh, "SELECT kind, text, parent_uuid, title FROM events WHERE native_type = 'branch_summary'")
    assert summary == [("summary", "tried A, it failed", "a0000001", None)]
    assert _one(wh, "SELECT json_extract_string(extra, '$.targetId') FROM events WHERE native_type = 'label'") == "a0000003"


def test_append_relabels_tail_and_keeps_identity(tmp_path):
    f = _write(pi_file(tmp_path), [header(), user("u0000001", None, 1), asst("a0000001", "u0000001", 3)])
    wh = tmp_path / "wh"
    ingest([str(f)], wh, jobs=1)
    # continue on the same branch, with a half-written last line
    _append(f, [user("u0000002", "a0000001", 5)])
    with open(f, "a") as fh:
        fh.write(json.dumps(asst("a0000002", "u0000002", 7))[:40])
    s = ingest([str(f)], wh, jobs=1)
    assert s.files_appended == 1 and s.lines_rejected == 1
    assert _accounting(wh)[f.name] == (5, 4, 0, 1)
    # finish the line and go on
    with open(f, "a") as fh:
        fh.write(json.dumps(asst("a0000002", "u0000002", 7))[40:] + "\n")
    _append(f, [ent("thinking_level_change", "t0000001", "a0000002", 8, thinkingLevel="high")])
    s = ingest([str(f)], wh, jobs=1)
    assert s.files_appended == 1 and s.lines_rejected == 0
    assert _accounting(wh)[f.name] == (nonblank_lines(f), 6, 0, 0)
    assert _one(wh, "SELECT count(*) FROM rejects") == 0
    # identical to a fresh full ingest of the final file
    fresh = tmp_path / "fresh"
    ingest([str(f)], fresh, jobs=1)
    q = "SELECT event_key, kind, branch, llm_call_key, input_tokens, line_key FROM events ORDER BY event_key"
    assert _rows(wh, q) == _rows(fresh, q)
    assert _rows(wh, "SELECT * EXCLUDE (source_files) FROM sessions") == _rows(fresh, "SELECT * EXCLUDE (source_files) FROM sessions")


def test_append_that_moves_the_leaf_relabels_earlier_rows(tmp_path):
    f = _write(
        pi_file(tmp_path),
        [header(), user("u0000001", None, 1), asst("a0000001", "u0000001", 3), user("u0000002", "a0000001", 5), asst("a0000002", "u0000002", 7)],
    )
    wh = tmp_path / "wh"
    ingest([str(f)], wh, jobs=1)
    assert dict(_rows(wh, "SELECT uuid, any_value(branch) FROM events WHERE uuid IN ('u0000002', 'a0000002') GROUP BY 1")) == {
        "u0000002": "active",
        "a0000002": "active",
    }
    _append(f, [user("u0000003", "a0000001", 9, "other way"), asst("a0000003", "u0000003", 11)])
    s = ingest([str(f)], wh, jobs=1)
    # the new tail moved the leaf off the old path: the parser asks for a full parse, so the
    # rows of earlier runs are relabelled too, as in a clean ingest
    assert s.files_parsed == 1
    assert dict(_rows(wh, "SELECT uuid, any_value(branch) FROM events WHERE line_no > 5 GROUP BY 1")) == {"u0000003": "active", "a0000003": "active"}
    assert dict(_rows(wh, "SELECT uuid, any_value(branch) FROM events WHERE uuid IN ('u0000002', 'a0000002') GROUP BY 1")) == {
        "u0000002": "abandoned",
        "a0000002": "abandoned",
    }
    assert "needs_full_reparse" not in json.loads(_one(wh, "SELECT parser_state FROM files"))
    fresh = tmp_path / "fresh"
    ingest([str(f)], fresh, jobs=1)
    q = "SELECT event_key, branch FROM events ORDER BY event_key"
    assert _rows(wh, q) == _rows(fresh, q)


# ------------------------------------------------------------------------------ LLM calls, tools
def test_llm_call_fields_failures_and_synthetic_rule(tmp_path):
    f = _write(
        pi_file(tmp_path),
        [
            header(),
            ent("model_change", "m0000001", None, 0.5, provider="openai", modelId="gpt-5.1-codex"),
            user("u0000001", "m0000001", 1),
            # ok call with reasoning and an unknown usage key
            asst(
                "a0000001",
                "u0000001",
                3.25,
                started=1.5,
                u=usage(inp=7, out=50, cr=1000, cw=0, cost=0.5, reasoning=30, cacheWrite1h=9),
                model="gpt-5.1-codex",
                provider="openai",
                responseId="resp_1",
                api="openai-responses",
            ),
            user("u0000002", "a0000001", 4),
            # aborted before anything was billed: synthetic interrupt
            asst("a0000002", "u0000002", 5, content=[], u=usage(0, 0, 0, 0, 0), stop="aborted", errorMessage="Request was aborted"),
            user("u0000003", "a0000002", 6),
            # aborted mid-stream, billed: counted, still an interrupt
            asst(
                "a0000003",
                "u0000003",
                8,
                content=[{"type": "text", "text": "par"}, tool_call("t1", partialJson='{"co')],
                u=usage(inp=3, out=2, cr=500, cw=40),
                stop="aborted",
                errorMessage="Request was aborted.",
            ),
            user("u0000004", "a0000003", 9),
            # API error
            asst("a0000004", "u0000004", 10, content=[], u=usage(0, 0, 0, 0, 0), stop="error", errorMessage="overloaded_error"),
        ],
    )
    wh = tmp_path / "wh"
    ingest([str(f)], wh, jobs=1)
    rows = _rows(
        wh,
        "SELECT llm_call_key, model, provider, latency_ms, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
        "reasoning_tokens, cost_usd_reported, stop_reason, is_synthetic, is_error, n_blocks, message_id FROM llm_calls ORDER BY ts",
    )
    k = f"pi:{SID}:"
    assert rows == [
        (k + "a0000001", "gpt-5.1-codex", "openai", 1750.0, 7, 50, 1000, 0, 30, 0.5, "stop", False, False, 1, "resp_1"),
        (k + "a0000002", "claude-sonnet-4-5", "anthropic", 1000.0, 0, 0, 0, 0, 0, 0.0, "aborted", True, False, 1, None),
        (k + "a0000003", "claude-sonnet-4-5", "anthropic", 1000.0, 3, 2, 500, 40, 0, 0.01, "aborted", False, False, 3, None),
        (k + "a0000004", "claude-sonnet-4-5", "anthropic", 1000.0, 0, 0, 0, 0, 0, 0.0, "error", True, True, 1, None),
    ]
    extra = json.loads(_one(wh, "SELECT extra FROM events WHERE uuid = 'a0000001'"))
    assert extra["api"] == "openai-responses" and extra["usage"] == {"cacheWrite1h": 9}
    fails = _rows(wh, "SELECT uuid, kind, text, block_index FROM events WHERE kind IN ('interrupt', 'api_error') ORDER BY line_no")
    assert fails == [
        ("a0000002", "interrupt", "Request was aborted", 0),
        ("a0000003", "interrupt", "Request was aborted.", 2),
        ("a0000004", "api_error", "overloaded_error", 0),
    ]
    sess = _rows(wh, "SELECT n_llm_calls, n_interrupts, n_api_errors, input_tokens, cache_read_tokens, primary_model FROM sessions")
    assert sess == [(2, 2, 1, 10, 1500, "claude-sonnet-4-5")] or sess == [(2, 2, 1, 10, 1500, "gpt-5.1-codex")]
    # the tool call of the aborted turn never ran
    assert _rows(wh, "SELECT tool_call_id, status FROM tool_calls") == [("t1", "no_result")]


def test_tool_results_bash_exit_codes_and_user_bash(tmp_path):
    f = _write(
        pi_file(tmp_path),
        [
            header(),
            user("u0000001", None, 1),
            asst("a0000001", "u0000001", 2, content=[tool_call("t1"), tool_call("t2"), tool_call("t3"), tool_call("t4", "edit", path="x")], stop="toolUse"),
            tool_result("r0000001", "a0000001", 3, "t1", "file1\n"),
            tool_result("r0000002", "a0000001", 4, "t2", "boom\n\nCommand exited with code 2", is_error=True),
            tool_result("r0000003", "a0000001", 5, "t3", "partial\n\nCommand aborted", is_error=True),
            tool_result("r0000004", "r0000003", 6, "t4", "Could not find the exact text", is_error=True, name="edit"),
            ent(
                "message",
                "x0000001",
                "r0000004",
                7,
                message={
                    "role": "bashExecution",
                    "command": "make",
                    "output": "ok",
                    "exitCode": 0,
                    "cancelled": False,
                    "truncated": False,
                    "timestamp": _ms(7),
                },
            ),
            ent(
                "message",
                "x0000002",
                "x0000001",
                8,
                message={
                    "role": "bashExecution",
                    "command": "false",
                    "output": "",
                    "exitCode": 1,
                    "cancelled": False,
                    "truncated": True,
                    "fullOutputPath": "/tmp/o.log",
                    "timestamp": _ms(8),
                },
            ),
            ent(
                "message",
                "x0000003",
                "x0000002",
                9,
                message={
                    "role": "bashExecution",
                    "command": "sleep 9",
                    "output": "",
                    "exitCode": None,
                    "cancelled": True,
                    "truncated": False,
                    "timestamp": _ms(9),
                },
            ),
        ],
    )
    wh = tmp_path / "wh"
    ingest([str(f)], wh, jobs=1)
    got = _rows(
        wh,
        "SELECT tool_call_id, tool_name, status, is_error, exit_code, latency_ms, json_extract_string(input_json, '$.command') "
        "FROM tool_calls ORDER BY call_line_no, tool_call_id",
    )
    assert got == [
        ("t1", "bash", "ok", False, 0, 1000.0, "ls"),
        ("t2", "bash", "error", True, 2, 2000.0, "ls"),
        ("t3", "bash", "interrupted", True, None, 3000.0, "ls"),
        ("t4", "edit", "error", True, None, 4000.0, None),
        ("user-bash:x0000001", "bash (user)", "ok", False, 0, 0.0, "make"),
        ("user-bash:x0000002", "bash (user)", "error", True, 1, 0.0, "false"),
        ("user-bash:x0000003", "bash (user)", "interrupted", True, None, 0.0, "sleep 9"),
    ]
    assert _one(wh, "SELECT n_tool_errors FROM sessions") == 3
    extra = json.loads(_one(wh, "SELECT extra FROM events WHERE uuid = 'x0000002' AND kind = 'tool_result'"))
    assert extra["message"]["fullOutputPath"] == "/tmp/o.log" and extra["message"]["truncated"] is True
    assert _one(wh, "SELECT count(*) FROM llm_calls") == 1  # a user shell run is not an LLM call


@pytest.mark.parametrize(
    ("name", "text", "is_error", "expected"),
    [
        ("bash", "x", False, ("ok", 0)),
        ("read", "x", False, ("ok", None)),
        ("bash", "out\n\nCommand exited with code 127\n", True, ("error", 127)),
        ("bash", "Command aborted", True, ("interrupted", None)),
        ("read", "Operation aborted", True, ("interrupted", None)),
        ("bash", "Command timed out after 30 seconds", True, ("error", None)),
    ],
)
def test_classify_tool_result(name, text, is_error, expected):
    assert classify_tool_result(name, text, is_error) == expected


def test_compaction_v1_index_v3_id_and_summary_usage(tmp_path):
    v3 = _write(
        pi_file(tmp_path),
        [
            header(),
            user("u0000001", None, 1),
            asst("a0000001", "u0000001", 2),
            ent(
                "compaction",
                "c0000001",
                "a0000001",
                3,
                summary="so far",
                firstKeptEntryId="a0000001",
                tokensBefore=900,
                details={"readFiles": [], "modifiedFiles": []},
                fromHook=False,
                usage=usage(inp=800, out=60, cr=0, cw=0, cost=0.2),
            ),
            ent("branch_summary", "b0000001", "c0000001", 4, fromId="a0000001", summary="branch", usage=usage(inp=5, out=1, cr=0, cw=0, cost=0.0)),
        ],
    )
    v1 = _write(
        tmp_path / "v1" / "s.jsonl",
        [
            {
                "type": "session",
                "id": "v1-session",
                "timestamp": _ts(0),
                "cwd": "/w",
                "provider": "anthropic",
                "modelId": "claude-opus-4-5",
                "thinkingLevel": "off",
            },
            {"type": "message", "timestamp": _ts(1), "message": {"role": "user", "content": "hi", "timestamp": _ms(1)}},
            "",
            {"type": "message", "timestamp": _ts(2), "message": {"role": "hookMessage", "content": "hook says", "timestamp": _ms(2)}},
            {"type": "compaction", "timestamp": _ts(3), "summary": "s", "firstKeptEntryIndex": 2, "tokensBefore": 5},
        ],
    )
    wh = tmp_path / "wh"
    ingest([str(v3), str(v1)], wh, agent="pi", jobs=1)
    kept = dict(_rows(wh, "SELECT session_key, json_extract(text, '$.firstKeptLineNo')::INT FROM events WHERE kind = 'compaction'"))
    assert kept == {f"pi:{SID}": 3, "pi:v1-session": 4}  # v1 index 2 = third decoded entry (header = 0), after a blank line
    calls = _rows(wh, "SELECT llm_call_key, model, input_tokens, output_tokens, cost_usd_reported FROM llm_calls ORDER BY ts")
    assert calls == [
        (f"pi:{SID}:a0000001", "claude-sonnet-4-5", 10, 5, 0.01),
        (f"pi:{SID}:c0000001", "claude-sonnet-4-5", 800, 60, 0.2),
        (f"pi:{SID}:b0000001", "claude-sonnet-4-5", 5, 1, 0.0),
    ]
    assert _rows(wh, "SELECT n_compactions FROM sessions ORDER BY session_key") == [(1,), (1,)]
    assert _rows(wh, "SELECT kind, text FROM events WHERE session_key = 'pi:v1-session' AND native_type = 'message/hookMessage'") == [
        ("user_context", "hook says")
    ]
    assert _one(wh, "SELECT count(*) FROM events WHERE session_key = 'pi:v1-session' AND branch <> 'active'") == 0


# ------------------------------------------------------------------------------ forks
PARENT = "0190aaaa-0000-7000-8000-00000000000a"
FORK = "0190aaaa-0000-7000-8000-00000000000b"


def _parent_and_fork(root: Path):
    shared = [
        user("u0000001", None, 1),
        asst("a0000001", "u0000001", 3, u=usage(inp=100, out=10, cr=0, cw=0)),
        user("u0000002", "a0000001", 5),
        asst("a0000002", "u0000002", 7, u=usage(inp=200, out=20, cr=0, cw=0)),
    ]
    parent = _write(
        pi_file(root, PARENT, 0),
        [header(PARENT, 0), *shared, user("u0000003", "a0000002", 9), asst("a0000003", "u0000003", 11, u=usage(inp=300, out=30, cr=0, cw=0))],
    )
    # the fork sits in a folder that sorts before the parent's, so path order alone would
    # hand the copies to the fork
    fork = _write(
        pi_file(root, FORK, 20, project="--a-fork--"),
        [
            header(FORK, 20, parentSession=str(parent)),
            *shared,
            user("f0000001", "a0000002", 21, "fork here"),
            asst("f0000002", "f0000001", 23, u=usage(inp=400, out=40, cr=0, cw=0)),
        ],
    )
    return parent, fork


def test_fork_copies_count_once_and_fork_is_linked(tmp_path):
    parent, fork = _parent_and_fork(tmp_path)
    wh = tmp_path / "wh"
    # the fork sorts first by path: the header time still puts the parent first
    s = ingest([str(fork), str(parent)], wh, jobs=1)
    assert s.lines_duplicate == 4
    acc = _accounting(wh)
    assert acc[parent.name] == (7, 7, 0, 0)
    assert acc[fork.name] == (7, 3, 4, 0)
    sess = dict((r[0], r[1:]) for r in _rows(wh, "SELECT session_key, forked_from, is_subagent, n_llm_calls, input_tokens FROM sessions"))
    assert sess == {f"pi:{PARENT}": (None, False, 3, 600), f"pi:{FORK}": (f"pi:{PARENT}", False, 1, 400)}
    assert _one(wh, "SELECT sum(input_tokens) FROM llm_calls") == 1000
    # ingesting again changes nothing
    s2 = ingest([str(parent), str(fork)], wh, jobs=1)
    assert s2.files_unchanged == 2 and _one(wh, "SELECT sum(input_tokens) FROM llm_calls") == 1000


def test_v1_fork_copies_match_a_migrated_parent(tmp_path):
    """pi migrates files in place (v1 → v3 adds random ids), so a parent read as v3 and its v1
    fork disagree on ids: the content key still pairs the copies."""
    parent, _ = _parent_and_fork(tmp_path)
    lines = [json.loads(x) for x in parent.read_text().splitlines()]
    strip = lambda d: {k: v for k, v in d.items() if k not in ("id", "parentId")}  # noqa: E731
    v1_fork = _write(
        tmp_path / "old" / f"2026-03-01T10-00-30-000Z_{FORK}.jsonl",
        [
            {
                "type": "session",
                "id": FORK,
                "timestamp": _ts(30),
                "cwd": "/work/proj",
                "provider": "anthropic",
                "modelId": "claude-sonnet-4-5",
                "thinkingLevel": "off",
                "branchedFrom": str(parent),
            },
            *[strip(d) for d in lines[1:5]],
            {"type": "message", "timestamp": _ts(31), "message": {"role": "user", "content": [{"type": "text", "text": "v1 fork"}], "timestamp": _ms(31)}},
        ],
    )
    wh = tmp_path / "wh"
    ingest([str(parent), str(v1_fork)], wh, jobs=1)
    assert _accounting(wh)[v1_fork.name] == (6, 2, 4, 0)
    assert _one(wh, f"SELECT forked_from FROM sessions WHERE session_key = 'pi:{FORK}'") == f"pi:{PARENT}"


def test_fork_without_its_parent_keeps_the_copies_flagged(tmp_path):
    _, fork = _parent_and_fork(tmp_path)
    wh = tmp_path / "wh"
    ingest([str(fork)], wh, jobs=1)
    assert _accounting(wh)[fork.name] == (7, 7, 0, 0)
    flagged = dict(_rows(wh, "SELECT coalesce(json_extract(extra, '$.\"$fork_copy\"')::BOOLEAN, false), count(DISTINCT line_no) FROM events GROUP BY 1"))
    assert flagged == {True: 4, False: 3}  # 4 copied entries; header + 2 own entries
    assert _one(wh, "SELECT forked_from FROM sessions") == f"pi:{PARENT}"


# ------------------------------------------------------------------------------ malformed input
def test_malformed_lines_lose_nothing(tmp_path):
    good = [header(), user("u0000001", None, 1), asst("a0000001", "u0000001", 2)]
    bad = [
        "{not json",
        "[1, 2]",
        '{"type": 5, "id": "z0000001"}',
        '{"id": "z0000002", "timestamp": "2026-03-01T10:00:03.000Z"}',
        json.dumps({"type": "message", "id": "z0000003", "parentId": None, "timestamp": 1772359203000, "message": {"role": "user", "content": "x"}}),
        json.dumps({"type": "message", "id": "z0000004", "parentId": None, "timestamp": _ts(3), "message": "a string"}),
        json.dumps({"type": "message", "id": 7, "parentId": None, "timestamp": _ts(3), "message": {"role": "user", "content": "x"}}),
        json.dumps({"type": "message", "id": "z0000005", "parentId": None, "timestamp": _ts(3), "message": {"content": "no role"}}),
        json.dumps({"type": "message", "id": "z0000006", "parentId": None, "timestamp": _ts(3), "message": {"role": "assistant", "content": 42}}),
    ]
    kept = [
        # unknown entry type and unknown role: kept whole
        json.dumps(ent("brand_new_entry", "k0000001", "a0000001", 4, payloadish={"a": 1})),
        json.dumps(ent("message", "k0000002", "k0000001", 5, message={"role": "robot", "content": "beep", "timestamp": _ms(5)})),
        # usage numbers of the wrong type: line kept, columns null, noted
        json.dumps(asst("k0000003", "k0000002", 6, u={"input": "12", "output": 3, "cacheRead": None, "cacheWrite": 0, "cost": {"total": "x"}})),
        # unparseable timestamp string: kept, noted
        json.dumps(ent("label", "k0000004", "k0000003", 7, targetId="k0000003", label="x") | {"timestamp": "yesterday"}),
    ]
    f = pi_file(tmp_path)
    f.parent.mkdir(parents=True)
    with open(f, "wb") as fh:
        for x in good + bad[:3]:
            fh.write((x if isinstance(x, str) else json.dumps(x)).encode() + b"\n")
        fh.write(b'{"type": "custom", "id": "z0000009", "text": "\xff\xfe"}\n')  # invalid UTF-8
        for x in bad[3:] + kept:
            fh.write(x.encode() + b"\n")
        fh.write(json.dumps(asst("k0000005", "k0000004", 8)).encode()[:50])  # truncated last line
    wh = tmp_path / "wh"
    s = ingest([str(f)], wh, jobs=1)
    n_bad = len(bad) + 2  # + invalid UTF-8 + truncated last line
    assert (s.lines_total, s.lines_ingested, s.lines_rejected) == (nonblank_lines(f), 7, n_bad)
    assert _accounting(wh)[f.name] == (nonblank_lines(f), 7, 0, n_bad)
    reasons = [r[0] for r in _rows(wh, "SELECT reason FROM rejects ORDER BY line_no")]
    assert reasons[0].startswith("invalid JSON")
    assert reasons[1:10] == [
        "not a JSON object (got list)",
        "field 'type' has wrong type int",
        "invalid UTF-8",
        "field 'type' is missing",
        "field 'timestamp' has wrong type int",
        "field 'message' of a message entry has wrong type str",
        "field 'id' has wrong type int",
        "field 'message.role' is missing",
        "field 'message.content' of an assistant message has wrong type int",
    ]
    assert reasons[10].startswith("truncated last line")
    kinds = dict(_rows(wh, "SELECT uuid, kind FROM events WHERE uuid LIKE 'k%'"))
    assert kinds == {"k0000001": "unknown", "k0000002": "unknown", "k0000003": "assistant_text", "k0000004": "bookkeeping"}
    assert json.loads(_one(wh, "SELECT extra FROM events WHERE uuid = 'k0000001'"))["payloadish"] == {"a": 1}
    call = _rows(wh, "SELECT input_tokens, output_tokens, cache_read_tokens, cost_usd_reported FROM llm_calls WHERE llm_call_key LIKE '%k0000003'")
    assert call == [(0, 3, 0, None)]
    assert json.loads(_one(wh, "SELECT extra FROM events WHERE uuid = 'k0000003'"))["$invalid"] == {"usage.input": "12", "usage.cacheRead": None}
    lab = _rows(wh, "SELECT ts IS NOT NULL, json_extract_string(extra, '$.\"$invalid\".timestamp') FROM events WHERE uuid = 'k0000004'")
    assert lab == [(False, "yesterday")]


@pytest.mark.parametrize("content", [b"", b"\n\n", b"   \n\t\n  "])
def test_empty_and_whitespace_files(tmp_path, content):
    f = pi_file(tmp_path)
    f.parent.mkdir(parents=True)
    f.write_bytes(content)
    wh = tmp_path / "wh"
    s = ingest([str(f)], wh, agent="pi", jobs=1)
    assert s.files_failed == 0 and s.lines_total == 0
    assert _accounting(wh)[f.name] == (0, 0, 0, 0)
    assert _one(wh, "SELECT count(*) FROM events") == 0


def test_headerless_file_is_keyed_by_file_name(tmp_path):
    f = _write(
        pi_file(tmp_path),
        ['{"type": "session", "version": 3, "timestamp": "2026-03-01T10:00:00.000Z"}', user("u0000001", None, 1), asst("a0000001", "u0000001", 2)],
    )
    wh = tmp_path / "wh"
    ingest([str(f)], wh, agent="pi", jobs=1)
    assert _rows(wh, "SELECT reason FROM rejects") == [("session header without a string 'id'",)]
    assert _rows(wh, "SELECT session_key, n_llm_calls FROM sessions") == [(f"pi:{SID}", 1)]


# ------------------------------------------------------------------------------ discovery
def test_default_roots_and_discovery(tmp_path, monkeypatch):
    agent_dir = tmp_path / "agent"
    f = _write(pi_file(agent_dir), [header(), user("u0000001", None, 1)])
    (f.parent / "notes.json").write_text("{}")
    monkeypatch.setenv("PI_AGENT_DIR", str(agent_dir))
    assert default_roots() == [agent_dir / "sessions"]
    assert list(discover(agent_dir / "sessions")) == [f]
    wh = tmp_path / "wh"
    s = ingest([], wh, agent="pi", jobs=1)
    assert s.files_seen == 1 and s.lines_ingested == 2


# ------------------------------------------------------------------------------ ccusage parity
def _ccusage_or_skip():
    from tracelab.devtools import ccusage as C

    exe = C.ensure_ccusage()
    if exe is None:
        pytest.skip(f"ccusage unavailable: {C.ccusage_unavailable_reason()}")
    return C, exe


def _tracelab_daily(wh) -> dict:
    rows = _rows(
        wh,
        "SELECT strftime(date, '%Y-%m-%d'), model, sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
        "sum(cache_write_tokens) FROM llm_calls WHERE NOT is_synthetic GROUP BY ALL",
    )
    return {(d, m): tuple(t) for d, m, *t in rows if any(t)}


def _ccusage_daily(C, exe, files, tmp) -> dict:
    home = C.stage_corpus("pi", files, tmp)
    out = {}
    for r in C.daily_model_totals(C.run_ccusage("pi", home, exe=exe)):
        toks = (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["cache_write_tokens"])
        if any(toks):  # rule 2: zero rows are not compared
            model = r["model"][len("[pi] ") :] if r["model"] and r["model"].startswith("[pi] ") else r["model"]  # rule 1
            out[(r["day"], model)] = toks
    return out


@pytest.mark.peer
def test_ccusage_parity_on_shared_samples(pi_con, pi_samples):
    C, exe = _ccusage_or_skip()
    with tempfile.TemporaryDirectory(prefix="tracelab-pi-ccusage-") as tmp:
        theirs = _ccusage_daily(C, exe, C.shared_sample_files("pi", SAMPLES), Path(tmp) / "home")
    ours = _tracelab_daily(pi_con)
    assert ours == theirs
    assert len(ours) == 6


@pytest.mark.peer
def test_ccusage_parity_rules(tmp_path):
    """Each documented difference (README, 'Token parity'), checked against ccusage itself."""
    C, exe = _ccusage_or_skip()
    src = tmp_path / "src"
    parent, _ = _parent_and_fork(src)
    # a v3 fork naming its parent by a path that resolves in the corpus: both sides count the
    # copies once
    lines = [json.loads(x) for x in parent.read_text().splitlines()]
    fork3 = _write(
        pi_file(src, FORK, 20),
        [header(FORK, 20, parentSession=parent.name), *lines[1:5], asst("f0000002", "a0000002", 23, u=usage(inp=400, out=40, cr=0, cw=0))],
    )
    # rule 3: a v1 fork (`branchedFrom`): ccusage counts its copies again
    v1 = "0190aaaa-0000-7000-8000-00000000000c"
    fork1 = _write(
        pi_file(src, v1, 30),
        [
            {
                "type": "session",
                "id": v1,
                "timestamp": _ts(30),
                "cwd": "/work/proj",
                "provider": "anthropic",
                "modelId": "claude-sonnet-4-5",
                "thinkingLevel": "off",
                "branchedFrom": str(parent),
            },
            *[{k: v for k, v in d.items() if k not in ("id", "parentId")} for d in lines[1:5]],
            {"type": "message", "timestamp": _ts(31), "message": {**asst("x", None, 31, u=usage(inp=50, out=5, cr=0, cw=0))["message"]}},
        ],
    )
    _append(
        parent,
        [
            # rule 4: a compaction reporting the usage of its summarisation call
            ent("compaction", "c0000001", "a0000003", 12, summary="s", firstKeptEntryId="a0000003", tokensBefore=1, usage=usage(inp=1000, out=100, cr=0, cw=0)),
            # rule 5: two different entries with the same time and total
            asst("d0000001", "c0000001", 13, u=usage(inp=7, out=1, cr=0, cw=0)),
            asst("d0000002", "d0000001", 13, content=[{"type": "text", "text": "other"}], u=usage(inp=7, out=1, cr=0, cw=0)),
            # rule 6: a usage with nothing but totalTokens
            asst("e0000001", "d0000002", 14, u={"totalTokens": 50}),
        ],
    )
    wh = tmp_path / "wh"
    s = ingest([str(parent), str(fork3), str(fork1)], wh, jobs=1)
    assert s.lines_duplicate == 8
    ours = _tracelab_daily(wh)
    with tempfile.TemporaryDirectory(prefix="tracelab-pi-ccusage-") as tmp:
        theirs = _ccusage_daily(C, exe, [parent, fork3, fork1], Path(tmp) / "home")
    assert set(ours) == set(theirs) == {("2026-03-01", "claude-sonnet-4-5")}
    (inp, out, cr, cw), (tinp, tout, tcr, tcw) = ours[("2026-03-01", "claude-sonnet-4-5")], theirs[("2026-03-01", "claude-sonnet-4-5")]
    common_in, common_out = 100 + 200 + 300 + 400 + 50 + 7, 10 + 20 + 30 + 40 + 5 + 1
    assert (inp, out) == (common_in + 1000 + 7, common_out + 100 + 1)  # rules 4 and 5
    assert (tinp, tout) == (common_in + 100 + 200, common_out + 10 + 20 + 50)  # rules 3 and 6
    assert (cr, cw) == (tcr, tcw) == (0, 0)


def test_total_only_usage_is_kept_not_split(tmp_path):
    """README parity rule 6: a usage without a breakdown gives no token counts; the total stays in extra."""
    f = _write(pi_file(tmp_path), [header(), user("u0000001", None, 1), asst("a0000001", "u0000001", 2, u={"totalTokens": 50})])
    wh = tmp_path / "wh"
    ingest([str(f)], wh, jobs=1)
    assert _rows(wh, "SELECT total_tokens, is_synthetic FROM llm_calls") == [(0, False)]
    assert json.loads(_one(wh, "SELECT extra FROM events WHERE uuid = 'a0000001'"))["usage"] == {"totalTokens": 50}


def test_extension_entries(tmp_path):
    """custom (extension state, not in context) → bookkeeping; custom_message (in context) →
    user_context; v3 role `custom` → user_context; none of them is a user prompt."""
    f = _write(
        pi_file(tmp_path),
        [
            header(),
            user("u0000001", None, 1),
            ent("custom", "e0000001", "u0000001", 2, customType="todo-state", data={"todos": ["a", "b"]}),
            ent("custom_message", "e0000002", "e0000001", 3, customType="reminder", content="remember the tests", display=True, details={"n": 1}),
            ent(
                "message",
                "e0000003",
                "e0000002",
                4,
                message={"role": "custom", "customType": "hook", "content": [{"type": "text", "text": "from a hook"}], "display": False, "timestamp": _ms(4)},
            ),
        ],
    )
    wh = tmp_path / "wh"
    ingest([str(f)], wh, jobs=1)
    got = _rows(wh, "SELECT uuid, kind, native_type, text FROM events WHERE uuid LIKE 'e%' ORDER BY line_no")
    assert got == [
        ("e0000001", "bookkeeping", "custom/todo-state", '{"todos":["a","b"]}'),
        ("e0000002", "user_context", "custom_message/reminder", "remember the tests"),
        ("e0000003", "user_context", "message/custom/hook", "from a hook"),
    ]
    assert json.loads(_one(wh, "SELECT extra FROM events WHERE uuid = 'e0000002'")) == {"display": True, "details": {"n": 1}}
    assert _one(wh, "SELECT n_user_prompts FROM sessions") == 1


def test_number_too_large_for_its_column_fails_only_its_file(tmp_path):
    """pi rows reach the engine as a buffer merged with other files' rows; a number from the
    file that its column cannot hold (exit code beyond int32, token count beyond int64) must
    fail that file alone, while counts above int32 that fit int64 are kept as they are."""
    good = _write(
        pi_file(tmp_path, sid="0190aaaa-0000-7000-8000-00000000000a"),
        [
            header(sid="0190aaaa-0000-7000-8000-00000000000a"),
            user("u0000001", None, 1),
            asst("a0000001", "u0000001", 2, u=usage(inp=2**40)),
        ],
    )
    bad_exit = _write(
        pi_file(tmp_path, sid="0190aaaa-0000-7000-8000-00000000000b", sec=1),
        [
            header(sid="0190aaaa-0000-7000-8000-00000000000b", sec=1),
            ent("message", "b0000001", None, 2, message={"role": "bashExecution", "command": "ls", "output": "x", "exitCode": 2**40, "timestamp": _ms(2)}),
        ],
    )
    bad_tokens = _write(
        pi_file(tmp_path, sid="0190aaaa-0000-7000-8000-00000000000c", sec=2),
        [
            header(sid="0190aaaa-0000-7000-8000-00000000000c", sec=2),
            user("u0000001", None, 1),
            asst("a0000001", "u0000001", 2, u=usage(out=2**64)),
        ],
    )
    wh = tmp_path / "wh"
    s = ingest([str(good), str(bad_exit), str(bad_tokens)], wh, jobs=1)
    assert s.files_failed == 2 and sorted(Path(e.split(":")[0]).name for e in s.errors) == sorted([bad_exit.name, bad_tokens.name])
    assert _rows(wh, "SELECT DISTINCT session_id FROM events") == [("0190aaaa-0000-7000-8000-00000000000a",)]
    assert _one(wh, "SELECT input_tokens FROM llm_calls") == 2**40
