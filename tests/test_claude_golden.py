"""Golden counts on real Claude Code samples (hand-checked, see tests/golden/claude_samples.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracelab.catalog import connect

GOLDEN = json.loads((Path(__file__).parent / "golden" / "claude_samples.json").read_text())


@pytest.fixture(scope="module")
def con(claude_wh):
    c = connect(claude_wh)
    yield c
    c.close()


def _one(con, sql, **params):
    return con.execute(sql, params).fetchone()[0]


@pytest.mark.parametrize("name", sorted(GOLDEN["files"]))
def test_golden_file_counts(con, claude_samples, name):
    exp = GOLDEN["files"][name]
    f = str((claude_samples / name).resolve())
    main = "session_key NOT LIKE '%/%'"
    got = {
        "llm_calls": _one(con, f"SELECT count(*) FROM llm_calls WHERE source_file = $f AND NOT is_synthetic AND {main}", f=f),
        "tool_calls": _one(con, f"SELECT count(*) FROM tool_calls WHERE source_file = $f AND {main}", f=f),
        "error": _one(con, f"SELECT count(*) FROM tool_calls WHERE source_file = $f AND status = 'error' AND {main}", f=f),
        "user_rejected": _one(con, f"SELECT count(*) FROM tool_calls WHERE source_file = $f AND status = 'user_rejected' AND {main}", f=f),
        "interrupts": _one(con, f"SELECT count(*) FROM events WHERE source_file = $f AND kind = 'interrupt' AND {main}", f=f),
        "compactions": _one(con, "SELECT count(*) FROM events WHERE source_file = $f AND kind = 'compaction'", f=f),
    }
    for k in got:
        assert got[k] == exp[k], f"{name}: {k} expected {exp[k]}, got {got[k]}"
    if "microcompactions" in exp:
        assert _one(con, "SELECT count(*) FROM events WHERE source_file = $f AND kind = 'microcompaction'", f=f) == exp["microcompactions"]
    if "models" in exp:
        models = [
            r[0]
            for r in con.execute(f"SELECT DISTINCT model FROM llm_calls WHERE source_file = $f AND NOT is_synthetic AND {main} ORDER BY 1", {"f": f}).fetchall()
        ]
        assert models == exp["models"]
    if "inline_subagent" in exp:
        sub = exp["inline_subagent"]
        sk = "session_key LIKE '%/agent-%'"
        assert _one(con, f"SELECT count(DISTINCT session_key) FROM events WHERE source_file = $f AND {sk}", f=f) == sub["sessions"]
        assert _one(con, f"SELECT count(*) FROM llm_calls WHERE source_file = $f AND {sk}", f=f) == sub["llm_calls"]
        assert _one(con, f"SELECT count(*) FROM tool_calls WHERE source_file = $f AND {sk}", f=f) == sub["tool_calls"]
        assert _one(con, f"SELECT count(*) FROM tool_calls WHERE source_file = $f AND {sk} AND status = 'user_rejected'", f=f) == sub["user_rejected"]


@pytest.mark.parametrize("parent", sorted(GOLDEN["subagent_groups"]))
def test_subagent_linkage(con, parent):
    exp = GOLDEN["subagent_groups"][parent]
    rows = con.execute("SELECT is_warmup, parent_tool_call_id FROM sessions WHERE parent_session_key = $p AND is_subagent", {"p": parent}).fetchall()
    assert sum(1 for w, _ in rows if not w) == exp["subagents"]
    assert sum(1 for w, _ in rows if w) == exp["warmups"]
    assert sum(1 for w, t in rows if not w and t) == exp["linked_to_task_call"]
    # the parent counts its real subagents, not warm-ups
    n = con.execute("SELECT n_subagents FROM sessions WHERE session_key = $p", {"p": parent}).fetchone()
    if exp.get("parent_in_samples", True):
        assert n is not None and n[0] == exp["subagents"]


def test_split_assistant_lines_are_one_call_with_final_usage(con, claude_samples):
    """1.0.24 writes early lines of a response with a streaming snapshot (output_tokens small,
    stop_reason null); the call must carry the last line's usage, not a sum or the first."""
    import orjson

    f = claude_samples / "claude-code-log__Users-dain-workspace-claude-code-log-sample__fe869ecb-c176-478f-9734-7e4b8ef12cff.jsonl"
    groups: dict[str, list[int]] = {}
    for raw in f.read_bytes().splitlines():
        if not raw.strip():
            continue
        d = orjson.loads(raw)
        if d.get("type") == "assistant":
            groups.setdefault(d["message"]["id"], []).append(d["message"]["usage"]["output_tokens"])
    differing = {k: v for k, v in groups.items() if len(set(v)) > 1}
    assert differing, "sample no longer has split groups with differing usage"
    for mid, outs in differing.items():
        got = _one(con, "SELECT output_tokens FROM llm_calls WHERE message_id = $m", m=mid)
        assert got == outs[-1]
        assert _one(con, "SELECT count(*) FROM llm_calls WHERE message_id = $m", m=mid) == 1


def test_synthetic_api_errors_are_events_not_token_stats(con):
    n_syn = _one(con, "SELECT count(*) FROM llm_calls WHERE is_synthetic")
    assert n_syn > 0
    assert _one(con, "SELECT coalesce(sum(input_tokens + output_tokens), 0) FROM llm_calls WHERE is_synthetic") == 0
    assert _one(con, "SELECT count(*) FROM events WHERE kind = 'api_error'") >= n_syn
    s = _one(con, "SELECT sum(output_tokens) FROM sessions")
    t = _one(con, "SELECT sum(output_tokens) FROM llm_calls WHERE NOT is_synthetic")
    assert s == t


def test_bash_exit_codes_parsed(con):
    rows = con.execute("SELECT exit_code, count(*) FROM tool_calls WHERE tool_name = 'Bash' AND status = 'error' GROUP BY 1").fetchall()
    codes = dict(rows)
    assert codes.get(1, 0) >= 8 and codes.get(127, 0) >= 1 and codes.get(128, 0) >= 2
    ok_codes = {r[0] for r in con.execute("SELECT DISTINCT exit_code FROM tool_calls WHERE tool_name = 'Bash' AND status = 'ok'").fetchall()}
    assert ok_codes <= {0, None}
