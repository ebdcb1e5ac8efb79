"""Codex CLI adapter: real samples (accounting + hand-checked goldens), format rules on small
hand-written rollouts, malformed input, incremental appends, and parity with ccusage.

Rules under test are documented in ``tracelab/ingest/codex/README.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES, nonblank_lines, require_samples

from tracelab.catalog import connect
from tracelab.ingest import registry
from tracelab.pipeline import ingest

GOLDEN = json.loads((Path(__file__).parent / "golden" / "codex_samples.json").read_text())


# ------------------------------------------------------------------------------------ helpers
def L(ts, typ, payload):
    return json.dumps({"timestamp": ts, "type": typ, "payload": payload}, separators=(",", ":"))


def T(sec, minute=0, day=2):
    """An ISO timestamp on 2026-01-<day> 10:<minute>:<sec>."""
    whole = int(sec)
    ms = round((sec - whole) * 1000)
    return f"2026-01-{day:02d}T10:{minute:02d}:{whole:02d}.{ms:03d}Z"


def meta(tid, ts, **kw):
    return L(
        ts,
        "session_meta",
        {"id": tid, "timestamp": ts, "cwd": "/w", "originator": "codex_cli_rs", "cli_version": "0.120.0", "source": "cli", "model_provider": "openai", **kw},
    )


def ctx(ts, model="gpt-5.4"):
    return L(ts, "turn_context", {"cwd": "/w", "model": model})


def msg(ts, role, *texts):
    kind = "output_text" if role == "assistant" else "input_text"
    return L(ts, "response_item", {"type": "message", "role": role, "content": [{"type": kind, "text": t} for t in texts]})


def ev(ts, typ, **kw):
    return L(ts, "event_msg", {"type": typ, **kw})


def call(ts, cid, name, args):
    return L(ts, "response_item", {"type": "function_call", "name": name, "arguments": json.dumps(args), "call_id": cid})


def out(ts, cid, output, typ="function_call_output"):
    return L(ts, "response_item", {"type": typ, "call_id": cid, "output": output})


def U(i, c, o, r=0, w=None):
    d = {"input_tokens": i, "cached_input_tokens": c, "output_tokens": o, "reasoning_output_tokens": r, "total_tokens": i + o}
    if w is not None:
        d["cache_write_input_tokens"] = w
    return d


def tc(ts, total, last, **info):
    return ev(ts, "token_count", info={"total_token_usage": total, "last_token_usage": last, **info}, rate_limits=None)


def tid(n):
    return f"0000aaaa-0000-4000-8000-{n:012d}"


def rollout(home: Path, thread: str, lines: list[str], day: int = 2) -> Path:
    d = home / "sessions" / "2026" / "01" / f"{day:02d}"
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"rollout-2026-01-{day:02d}T10-00-00-{thread}.jsonl"
    p.write_text("\n".join(lines) + "\n")
    return p


def run(tmp_path, *paths, name="wh"):
    wh = tmp_path / name
    s = ingest([str(p) for p in paths], wh, jobs=1)
    assert s.files_failed == 0, s.errors
    return connect(wh)


def q(con, sql, **params):
    return con.execute(sql, params).fetchall()


def one(con, sql, **params):
    return con.execute(sql, params).fetchone()[0]


# ------------------------------------------------------------------------------------ real samples
@pytest.fixture(scope="module")
def codex_samples() -> Path:
    return require_samples("codex")


@pytest.fixture(scope="module")
def codex_wh(tmp_path_factory, codex_samples) -> Path:
    wh = tmp_path_factory.mktemp("codex_wh")
    s = ingest([str(codex_samples)], wh, jobs=1)
    assert s.files_failed == 0, s.errors
    return wh


@pytest.fixture(scope="module")
def con(codex_wh):
    c = connect(codex_wh)
    yield c
    c.close()


def test_every_sample_detected_and_accounted(con, codex_samples):
    rows = {r[0]: r[1:] for r in q(con, "SELECT path, agent, lines_total, lines_ingested, lines_duplicate, lines_rejected FROM files")}
    files = sorted(codex_samples.glob("*.jsonl"))
    assert len(files) == len(GOLDEN["files"]) == len(rows)
    for p in files:
        agent, total, ing, dup, rej = rows[str(p.resolve())]
        assert agent == "codex", p
        assert total == nonblank_lines(p) == GOLDEN["files"][p.name]["lines"], p
        assert total == ing + dup + rej, p
        assert (dup, rej) == (0, 0), p
    assert one(con, "SELECT count(*) FROM rejects") == 0


@pytest.mark.parametrize("name", sorted(GOLDEN["files"]))
def test_golden_sample(con, codex_samples, name):
    exp = GOLDEN["files"][name]
    f = str((codex_samples / name).resolve())
    assert q(con, "SELECT DISTINCT session_key FROM events WHERE source_file = $f", f=f) == [(exp["session_key"],)]
    assert one(con, "SELECT count(*) FROM llm_calls WHERE source_file = $f AND NOT is_synthetic", f=f) == exp["llm_calls"]
    tokens = {
        (m or ""): {"input": i, "cache_read": cr, "cache_write": cw, "output": o, "reasoning": r}
        for m, i, cr, cw, o, r in q(
            con,
            """SELECT model, sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
                                                   sum(output_tokens), sum(reasoning_tokens)
                                            FROM llm_calls WHERE source_file = $f GROUP BY model""",
            f=f,
        )
    }
    assert tokens == exp["tokens"]
    assert one(con, "SELECT count(*) FROM tool_calls WHERE source_file = $f", f=f) == exp["tool_calls"]
    assert dict(q(con, "SELECT status, count(*) FROM tool_calls WHERE source_file = $f GROUP BY 1", f=f)) == exp["tool_status"]
    errors = q(con, "SELECT call_line_no, exit_code FROM tool_calls WHERE source_file = $f AND status = 'error' ORDER BY 1", f=f)
    assert [list(e) for e in errors] == exp["errors"]
    codes = q(con, "SELECT exit_code, count(*) FROM tool_calls WHERE source_file = $f AND exit_code IS NOT NULL GROUP BY 1", f=f)
    assert {str(c): n for c, n in codes} == exp["exit_codes"]
    assert one(con, "SELECT count(*) FROM tool_calls WHERE source_file = $f AND status = 'user_rejected'", f=f) == 0
    kinds = dict(q(con, "SELECT kind, count(*) FROM events WHERE source_file = $f GROUP BY 1", f=f))
    assert kinds.get("user_prompt", 0) == exp["user_prompts"]
    assert kinds.get("interrupt", 0) == exp["interrupts"]
    assert kinds.get("compaction", 0) == exp["compactions"]
    assert kinds.get("api_error", 0) == exp["api_errors"]
    assert kinds.get("turn_start", 0) == exp["turns"]
    if "unknown_lines" in exp:
        assert [r[0] for r in q(con, "SELECT line_no FROM events WHERE source_file = $f AND kind = 'unknown' ORDER BY 1", f=f)] == exp["unknown_lines"]
    # session row agrees with the events
    s = q(con, "SELECT n_user_prompts, n_llm_calls, n_tool_calls, n_interrupts, n_compactions FROM sessions WHERE session_key = $k", k=exp["session_key"])
    assert s == [(exp["user_prompts"], exp["llm_calls"], exp["tool_calls"], exp["interrupts"], exp["compactions"])]


def test_sample_response_grouping_and_latency(con, codex_samples):
    """uwsyfi 0.114: reasoning, commentary and three exec_command calls (lines 9-14) are one
    response closed by the token_count at line 15; its request is the user prompt (line 7)."""
    f = str((codex_samples / "tracelab-uwsyfi__codex_trace.jsonl").resolve())
    key = "codex:01a7c9e4-6d12-7b3a-9f42-8c6d5e1a0b73:15"
    assert [r[0] for r in q(con, "SELECT line_no FROM events WHERE llm_call_key = $k ORDER BY seq", k=key)] == [9, 11, 12, 13, 14, 15]
    row = q(
        con,
        "SELECT n_blocks, n_tool_calls, latency_ms, input_tokens, cache_read_tokens, output_tokens, reasoning_tokens FROM llm_calls WHERE llm_call_key = $k",
        k=key,
    )
    assert row == [(6, 3, 6214.0, 9324 - 6912, 6912, 444, 199)]  # 10:06:05.542 - 10:05:59.328
    # every tool call of the file belongs to the response that requested it
    assert one(con, "SELECT count(*) FROM tool_calls WHERE source_file = $f AND llm_call_key IS NULL", f=f) == 0
    # the echoed event_msg texts are bookkeeping without text: one prompt/answer per item
    assert q(
        con,
        "SELECT count(*), count(text) FROM events WHERE source_file = $f AND native_type IN "
        "('event_msg/user_message', 'event_msg/agent_message') AND kind = 'bookkeeping'",
        f=f,
    ) == [(11, 0)]
    assert one(con, "SELECT count(*) FROM events WHERE source_file = $f AND kind = 'assistant_text'", f=f) == 8
    # the write_stdin that found stdin closed is a harness error; durations come from Wall time
    assert q(con, "SELECT tool_name, status, exit_code FROM tool_calls WHERE call_line_no = 26 AND source_file = $f", f=f) == [("write_stdin", "error", None)]
    assert one(con, "SELECT duration_ms_reported FROM tool_calls WHERE call_line_no = 14 AND source_file = $f", f=f) == pytest.approx(1001.6)


def test_sample_context_messages_and_identity(con, codex_samples):
    f = str((codex_samples / "claude-code-transcripts__sample_codex_session.jsonl").resolve())
    kinds = q(con, "SELECT line_no, kind FROM events WHERE source_file = $f AND native_type = 'response_item/message' ORDER BY 1", f=f)
    assert kinds == [(2, "user_context"), (3, "user_context"), (4, "user_prompt")]  # AGENTS.md, <environment_context>, prompt
    s = q(con, "SELECT agent_version, cwd, project, n_llm_calls FROM sessions WHERE session_key = 'codex:019b64e5-57fa-7463-b644-fba7e456f905'")
    assert s == [("0.77.0", "/Users/macmini/Code/homelab-migration", "homelab-migration", 0)]


def test_sniff_recognises_both_eras_by_content(tmp_path, codex_samples):
    for p in codex_samples.glob("*.jsonl"):
        assert registry.detect(p).name == "codex", p
    bare = tmp_path / "anything.jsonl"
    bare.write_text(
        "\n".join(
            [
                json.dumps({"id": "b1", "timestamp": "2025-08-01T10:00:00.000Z", "instructions": None, "git": {"branch": "main"}}),
                json.dumps({"record_type": "state"}),
                json.dumps({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}),
            ]
        )
        + "\n"
    )
    assert registry.detect(bare).name == "codex"
    claude = SAMPLES / "claude-code"
    if claude.is_dir():
        for p in sorted(claude.rglob("*.jsonl"))[:5]:
            assert registry.adapters()["codex"].sniff(registry.head_objects(p)) == 0, p


def test_discover_and_default_roots(tmp_path, monkeypatch):
    ad = registry.get("codex")
    home = tmp_path / "ch"
    a = rollout(home, tid(1), [meta(tid(1), T(0))])
    (home / "sessions" / "rollout-old-flat.jsonl").write_text(meta(tid(2), T(0)) + "\n")
    (home / "sessions" / "notes.jsonl").write_text("{}\n")
    (home / "archived_sessions").mkdir()
    b = home / "archived_sessions" / f"rollout-2025-12-01T00-00-00-{tid(3)}.jsonl"
    b.write_text(meta(tid(3), T(0)) + "\n")
    (home / "history.jsonl").write_text("{}\n")
    assert sorted(ad.discover(home)) == sorted([a, home / "sessions" / "rollout-old-flat.jsonl", b])
    monkeypatch.setenv("CODEX_HOME", str(home))
    assert ad.default_roots() == [home]
    monkeypatch.delenv("CODEX_HOME")
    assert ad.default_roots() == [Path.home() / ".codex"]


# ------------------------------------------------------------------------------------ format rules
def test_bare_era_rollout(tmp_path):
    """Pre-September-2025 files: header line, bare items, state records, no line timestamps;
    2025 `shell` outputs are JSON strings with exit code and duration in `metadata`."""
    f = tmp_path / "rollout-2025-08-01-bare.jsonl"
    lines = [
        {"id": "bare-thread-1", "timestamp": "2025-08-01T10:00:00.000Z", "instructions": "be nice", "git": {"branch": "dev", "commit_hash": "abc"}},
        {"record_type": "state"},
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "<environment_context>\n  <cwd>/src/app</cwd>\n</environment_context>"}],
        },
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "run the tests"}]},
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "**Running tests**"}], "encrypted_content": "gAAA"},
        {"type": "function_call", "name": "shell", "arguments": json.dumps({"command": ["bash", "-lc", "pytest"]}), "call_id": "call_b1"},
        {
            "type": "function_call_output",
            "call_id": "call_b1",
            "output": json.dumps({"output": "1 failed\n", "metadata": {"exit_code": 1, "duration_seconds": 2.5}}),
        },
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "One test fails."}]},
        {"record_type": "state", "extra": 1},
    ]
    f.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    con = run(tmp_path, f)
    ev_rows = q(con, "SELECT line_no, kind FROM events ORDER BY line_no, block_index")
    assert ev_rows == [
        (1, "session_start"),
        (2, "bookkeeping"),
        (3, "user_context"),
        (4, "user_prompt"),
        (5, "thinking"),
        (6, "tool_call"),
        (7, "tool_result"),
        (8, "assistant_text"),
        (9, "bookkeeping"),
    ]
    assert q(con, "SELECT session_key, git_branch, cwd, n_user_prompts, n_tool_errors FROM sessions") == [("codex:bare-thread-1", "dev", "/src/app", 1, 1)]
    assert q(con, "SELECT tool_name, status, exit_code, duration_ms_reported, output_text FROM tool_calls") == [("shell", "error", 1, 2500.0, "1 failed\n")]
    assert one(con, "SELECT count(*) FROM llm_calls") == 0  # the bare era logged no usage
    assert one(con, "SELECT text FROM events WHERE kind = 'thinking'") == "**Running tests**"


def test_token_count_rules(tmp_path):
    home = tmp_path / "h"
    t = tid(10)
    f = rollout(
        home,
        t,
        [
            meta(t, T(0)),
            ctx(T(0.5)),
            ev(T(1), "token_count", info=None, rate_limits={"primary": {"used_percent": 1.0}}),  # rate limits only
            tc(T(2), U(100, 40, 10, 2), U(100, 40, 10, 2)),  # call 1
            tc(T(3), U(100, 40, 10, 2), U(100, 40, 10, 2)),  # same total again: not a call
            tc(T(4), U(300, 140, 30, 4, 20), U(200, 100, 20, 2, 20)),  # call 2 (with cache writes)
            tc(T(5), U(300, 140, 30, 4, 20), U(0, 0, 0, 0)),  # repeat with zero last
            tc(T(6), U(350, 140, 35, 4, 20), None),  # advanced, no last: the difference of totals
            tc(T(7), U(60, 10, 6, 1), U(60, 10, 6, 1)),  # total went down: restarted counter, counts
            tc(T(8), U(60, 10, 6, 1), U(60, 10, 6, 1)),  # repeat of the new baseline
            ev(T(9), "token_count", info={"prompt": 1420, "completion": 910}),  # 0.50 fixture shape
            tc(T(10), U(0, 0, 0, 0), U(0, 0, 0, 0)),  # all zero (regression to 0, zero usage)
            tc(T(11), U(500, 40, 50), None),  # advanced from the zero baseline, no last: the total
            tc(T(12), U(70, 0, 7), None),  # fell, no last: a restarted counter, its total counts
            tc(T(13), U(170, 0, 17), U(100, 0, 10)),  # two requests ending in the same millisecond with
            tc(T(13), U(270, 0, 27), U(100, 0, 10)),  # the same usage: the totals show two calls
        ],
    )
    con = run(tmp_path, f)
    rows = q(
        con,
        "SELECT line_no, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, model, provider FROM llm_calls ORDER BY line_no",
    )
    assert rows == [
        (4, 60, 40, 0, 10, 2, "gpt-5.4", "openai"),
        (6, 80, 100, 20, 20, 2, "gpt-5.4", "openai"),
        (8, 50, 0, 0, 5, 0, "gpt-5.4", "openai"),
        (9, 50, 10, 0, 6, 1, "gpt-5.4", "openai"),
        (13, 460, 40, 0, 50, 0, "gpt-5.4", "openai"),
        (14, 70, 0, 0, 7, 0, "gpt-5.4", "openai"),
        (15, 100, 0, 0, 10, 0, "gpt-5.4", "openai"),
        (16, 100, 0, 0, 10, 0, "gpt-5.4", "openai"),
    ]
    rules = dict(q(con, "SELECT line_no, json_extract_string(extra, '$.\"$usage_rule\"') FROM events WHERE kind = 'token_usage'"))
    assert rules == {
        3: "info null",
        4: "total advanced",
        5: "repeated total",
        6: "total advanced",
        7: "repeated total",
        8: "total advanced",
        9: "total restarted",
        10: "repeated total",
        11: "no usage fields",
        12: "zero usage",
        13: "total advanced",
        14: "total restarted",
        15: "total advanced",
        16: "total advanced",
    }
    assert one(con, "SELECT total_tokens FROM llm_calls WHERE line_no = 6") == 220  # = logged input + output


def test_usage_without_model_stays_null(tmp_path):
    home = tmp_path / "h"
    f = rollout(home, tid(11), [meta(tid(11), T(0)), tc(T(2), U(70, 0, 7), U(70, 0, 7))])
    con = run(tmp_path, f)
    assert q(con, "SELECT model, input_tokens FROM llm_calls") == [(None, 70)]


def test_auto_review_model_kept(tmp_path):
    home = tmp_path / "h"
    f = rollout(
        home,
        tid(12),
        [
            meta(tid(12), T(0)),
            ctx(T(1), "gpt-5.4"),
            tc(T(2), U(10, 0, 1), U(10, 0, 1)),
            ctx(T(3), "codex-auto-review"),
            tc(T(4), U(30, 0, 3), U(20, 0, 2)),
            tc(T(5), U(40, 0, 4), U(10, 0, 1), model="gpt-5.5"),
        ],
    )
    con = run(tmp_path, f)
    assert q(con, "SELECT model, input_tokens FROM llm_calls ORDER BY line_no") == [("gpt-5.4", 10), ("codex-auto-review", 20), ("gpt-5.5", 10)]
    assert one(con, "SELECT count(*) FROM events WHERE kind = 'model_change'") == 1


def test_spaced_json_is_parsed(tmp_path):
    home = tmp_path / "h"
    lines = [json.loads(x) for x in (meta(tid(13), T(0)), ctx(T(1)), tc(T(2), U(20, 0, 2), U(20, 0, 2)))]
    f = rollout(home, tid(13), [json.dumps(x, indent=None, separators=(", ", ": ")) for x in lines])
    con = run(tmp_path, f)
    assert q(con, "SELECT model, input_tokens FROM llm_calls") == [("gpt-5.4", 20)]


def test_prompts_context_and_echo_events(tmp_path):
    home = tmp_path / "h"
    t = tid(14)
    f = rollout(
        home,
        t,
        [
            meta(t, T(0)),
            msg(T(0.1), "developer", "<permissions instructions>\nsandbox</permissions instructions>"),
            msg(
                T(0.2),
                "user",
                "# AGENTS.md instructions for /w\n\n<INSTRUCTIONS>\nbe brief\n</INSTRUCTIONS>",
                "<environment_context>\n  <cwd>/w/sub</cwd>\n</environment_context>",
            ),
            ev(T(1), "task_started", turn_id="t1"),
            ctx(T(1.1)),
            msg(T(1.2), "user", "fix the bug"),
            ev(T(1.2), "user_message", message="fix the bug", images=[]),
            L(T(3), "response_item", {"type": "reasoning", "summary": [], "content": None, "encrypted_content": "gAAAA"}),
            ev(T(4), "agent_message", message="Done.", phase="final_answer"),
            msg(T(4), "assistant", "Done."),
            tc(T(4.5), U(500, 100, 20, 5), U(500, 100, 20, 5)),
            ev(T(4.6), "task_complete", turn_id="t1", last_agent_message="Done.", duration_ms=3500),
            ev(T(5), "thread_name_updated", thread_name="Bug fix"),
        ],
    )
    con = run(tmp_path, f)
    kinds = q(con, "SELECT line_no, block_index, kind FROM events WHERE kind NOT IN ('bookkeeping') ORDER BY line_no, block_index")
    assert kinds == [
        (1, 0, "session_start"),
        (2, 0, "user_context"),
        (3, 0, "user_context"),
        (3, 1, "user_context"),
        (4, 0, "turn_start"),
        (6, 0, "user_prompt"),
        (8, 0, "thinking"),
        (10, 0, "assistant_text"),
        (11, 0, "token_usage"),
        (12, 0, "turn_end"),
    ]
    assert q(con, "SELECT kind, text, text_bytes FROM events WHERE line_no IN (7, 9) ORDER BY line_no") == [("bookkeeping", None, 11), ("bookkeeping", None, 5)]
    assert q(con, "SELECT n_blocks, latency_ms FROM llm_calls") == [(3, 3300.0)]  # 10:00:04.500 - 10:00:01.200
    assert q(con, "SELECT title, cwd, n_user_prompts FROM sessions") == [("Bug fix", "/w", 1)]
    assert one(con, "SELECT duration_ms FROM events WHERE kind = 'turn_end'") == 3500.0


def test_exit_codes_statuses_and_end_events(tmp_path):
    home = tmp_path / "h"
    t = tid(15)
    f = rollout(
        home,
        t,
        [
            meta(t, T(0)),
            ctx(T(0.1)),
            msg(T(0.2), "user", "go"),
            call(T(1), "c1", "shell_command", {"command": "make"}),
            call(T(1), "c2", "shell_command", {"command": "echo"}),
            call(T(1), "c3", "exec_command", {"cmd": "ls"}),
            call(T(1), "c4", "shell", {"command": ["rm", "-rf", "x"]}),
            L(
                T(1),
                "response_item",
                {"type": "custom_tool_call", "name": "apply_patch", "input": "*** Begin Patch\n*** End Patch", "call_id": "c5", "status": "completed"},
            ),
            L(T(1), "response_item", {"type": "custom_tool_call", "name": "apply_patch", "input": "*** Begin Patch", "call_id": "c6"}),
            call(T(1), "c7", "exec_command", {"cmd": "curl x"}),
            call(T(1), "c8", "shell", {"command": ["sleep", "100"]}),
            call(T(1), "c9", "update_plan", {"plan": []}),
            tc(T(1.5), U(100, 0, 10), U(100, 0, 10)),
            out(T(2), "c1", "Exit code: 2\nWall time: 1.5 seconds\nOutput:\nmake: *** error\n"),
            out(T(2), "c2", "Exit code: 0\nWall time: 0.1 seconds\nOutput:\nExit code: 3\n"),  # text after Output: is data
            ev(T(2), "exec_command_end", call_id="c3", exit_code=4, duration={"secs": 1, "nanos": 500000000}, status="failed", stdout="", stderr="boom"),
            out(T(2.1), "c3", "boom"),
            out(T(2), "c4", "exec command rejected by user"),
            ev(T(2), "patch_apply_end", call_id="c5", success=False, stdout="", stderr="context mismatch", changes={}),
            out(T(2.1), "c5", [{"type": "input_text", "text": "Done!"}], typ="custom_tool_call_output"),
            out(T(2), "c6", "Success. Updated the following files:\nM a.py", typ="custom_tool_call_output"),
            ev(T(2.2), "patch_apply_end", call_id="c6", success=False, stderr="late failure"),  # after its output
            out(T(2), "c7", "failed in sandbox LinuxSeccomp with execution error: network denied"),
            out(T(2), "c8", "aborted"),
            out(T(2), "c9", "Plan updated"),
        ],
    )
    con = run(tmp_path, f)
    got = {r[0]: r[1:] for r in q(con, "SELECT tool_call_id, status, exit_code, duration_ms_reported FROM tool_calls")}
    assert got == {
        "c1": ("error", 2, 1500.0),
        "c2": ("ok", 0, 100.0),
        "c3": ("error", 4, 1500.0),
        "c4": ("user_rejected", None, None),
        "c5": ("error", None, None),
        "c6": ("error", None, None),
        "c7": ("user_rejected", None, None),
        "c8": ("interrupted", None, None),
        "c9": ("ok", None, None),
    }
    assert q(con, "SELECT n_tool_calls, n_blocks FROM llm_calls") == [(9, 10)]
    assert q(con, "SELECT n_tool_errors, n_user_rejections FROM sessions") == [(4, 2)]


def test_unified_exec_exit_code_arrives_in_write_stdin(tmp_path):
    home = tmp_path / "h"
    t = tid(16)
    f = rollout(
        home,
        t,
        [
            meta(t, T(0)),
            ctx(T(0.1)),
            msg(T(0.2), "user", "build"),
            call(T(1), "x1", "exec_command", {"cmd": "make -j8", "yield_time_ms": 1000}),
            tc(T(1.1), U(100, 0, 10), U(100, 0, 10)),
            out(T(2), "x1", "Chunk ID: a\nWall time: 1.0000 seconds\nProcess running with session ID 77\nOriginal token count: 0\nOutput:\n"),
            call(T(3), "x2", "write_stdin", {"session_id": 77, "chars": ""}),
            tc(T(3.1), U(250, 0, 20), U(150, 0, 10)),
            out(T(8), "x2", "Chunk ID: b\nWall time: 5.0000 seconds\nProcess running with session ID 77\nOutput:\n"),
            call(T(9), "x3", "write_stdin", {"session_id": 77, "chars": ""}),
            tc(T(9.1), U(450, 0, 30), U(200, 0, 10)),
            out(T(10), "x3", "Chunk ID: c\nWall time: 0.5000 seconds\nProcess exited with code 2\nOutput:\nerror: linker failed\n"),
        ],
    )
    con = run(tmp_path, f)
    got = {r[0]: r[1:] for r in q(con, "SELECT tool_call_id, tool_name, status, exit_code FROM tool_calls")}
    assert got == {"x1": ("exec_command", "error", 2), "x2": ("write_stdin", "ok", None), "x3": ("write_stdin", "ok", None)}
    assert q(con, "SELECT line_no, tool_call_id, exit_code FROM events WHERE kind = 'tool_event'") == [(12, "x1", 2)]


def test_interrupt_marks_open_calls_and_drops_unreported_response(tmp_path):
    home = tmp_path / "h"
    t = tid(17)
    f = rollout(
        home,
        t,
        [
            meta(t, T(0)),
            ev(T(0.5), "task_started", turn_id="t1"),
            ctx(T(0.6)),
            msg(T(1), "user", "long job"),
            L(T(2), "response_item", {"type": "reasoning", "summary": []}),
            call(T(3), "k1", "exec_command", {"cmd": "sleep 1000"}),
            ev(T(9), "turn_aborted", turn_id="t1", reason="interrupted", duration_ms=8500),
            ev(T(20), "task_started", turn_id="t2"),
            msg(T(20.5), "user", "never mind"),
            msg(T(22), "assistant", "OK."),
            tc(T(22.5), U(100, 0, 5), U(100, 0, 5)),
            ev(T(22.6), "error", message="stream disconnected before completion", codex_error_info="other"),
        ],
    )
    con = run(tmp_path, f)
    assert q(con, "SELECT tool_call_id, status, llm_call_key FROM tool_calls") == [("k1", "interrupted", None)]
    assert q(con, "SELECT n_blocks, latency_ms FROM llm_calls") == [(2, 2000.0)]  # the interrupted response is not a call
    assert q(con, "SELECT n_interrupts, n_api_errors, n_llm_calls FROM sessions") == [(1, 1, 1)]
    assert q(con, "SELECT kind, duration_ms FROM events WHERE line_no = 7 ORDER BY block_index") == [
        ("interrupt", None),
        ("tool_event", None),
        ("turn_end", 8500.0),
    ]


def test_compaction_episode_counts_once(tmp_path):
    home = tmp_path / "h"
    t = tid(18)
    f = rollout(
        home,
        t,
        [
            meta(t, T(0)),
            msg(T(1), "user", "a"),
            L(T(2), "compacted", {"message": "Summary of the work so far", "replacement_history": [{"type": "message", "role": "user", "content": []}]}),
            ev(T(2.001), "context_compacted"),
            msg(T(3), "user", "b"),
            ev(T(4), "context_compacted"),
            L(T(4.1), "response_item", {"type": "compaction", "encrypted_content": "xyz"}),
        ],
    )
    con = run(tmp_path, f)
    assert q(con, "SELECT line_no, kind FROM events WHERE line_no IN (3, 4, 6, 7) ORDER BY line_no, block_index") == [
        (3, "compaction"),
        (3, "compaction_summary"),
        (4, "bookkeeping"),
        (6, "compaction"),
        (7, "bookkeeping"),
    ]
    assert one(con, "SELECT n_compactions FROM sessions") == 2


def _parent_lines(p):
    return [
        meta(p, T(0)),
        ev(T(0.5), "task_started", turn_id="pt1"),
        ctx(T(0.6)),
        msg(T(1), "user", "parent prompt"),
        call(T(2), "pc1", "exec_command", {"cmd": "ls"}),
        tc(T(2.1), U(1000, 200, 50, 10), U(1000, 200, 50, 10)),
        out(T(3), "pc1", "Exit code: 0\nOutput:\n"),
        msg(T(4), "assistant", "done"),
        tc(T(4.1), U(2100, 1200, 80, 10), U(1100, 1000, 30, 0)),
        ev(T(4.2), "task_complete", turn_id="pt1", last_agent_message="done"),
    ]


def _restamp(line, ts):
    d = json.loads(line)
    d["timestamp"] = ts
    return json.dumps(d, separators=(",", ":"))


def _child_own(ts_base):
    return [
        ev(T(ts_base), "task_started", turn_id="ct1"),
        ctx(T(ts_base + 0.1)),
        msg(T(ts_base + 0.2), "user", "child prompt"),
        msg(T(ts_base + 2), "assistant", "child answer"),
        tc(T(ts_base + 2.1), U(2400, 1400, 100, 15), U(300, 200, 20, 5)),
    ]


def test_fork_replay_skipped_with_parent_file(tmp_path):
    """A fork copies the parent's rollout (its meta first) re-stamped at the fork instant; with
    the parent next to it, the copy is matched line by line and skipped."""
    home = tmp_path / "h"
    p, c = tid(20), tid(21)
    parent = _parent_lines(p)
    pf = rollout(home, p, parent)
    fork_ts = T(0, minute=30)
    child = [meta(c, fork_ts, forked_from_id=p)] + [_restamp(x, fork_ts) for x in parent] + _child_own(10)
    child[-5:] = [_restamp(x, T(float(json.loads(x)["timestamp"][17:23]), minute=31)) for x in child[-5:]]
    cf = rollout(home, c, child)
    con = run(tmp_path, pf, cf)
    acc = dict((Path(r[0]).name, r[1:]) for r in q(con, "SELECT path, lines_total, lines_ingested, lines_duplicate FROM files"))
    assert acc[cf.name] == (len(child), 6, len(parent))
    s = {
        r[0]: r[1:]
        for r in q(
            con, "SELECT session_key, forked_from, is_subagent, n_user_prompts, n_llm_calls, n_tool_calls, input_tokens, cache_read_tokens FROM sessions"
        )
    }
    assert s[f"codex:{c}"] == (f"codex:{p}", False, 1, 1, 0, 100, 200)  # its own call only
    assert s[f"codex:{p}"] == (None, False, 1, 2, 1, 800 + 100, 200 + 1000)


def test_fork_replay_without_parent_file_uses_time(tmp_path):
    home = tmp_path / "h"
    p, c1, c2 = tid(22), tid(23), tid(24)
    parent = _parent_lines(p)
    fork_ts = T(0, minute=30)
    # re-stamped burst (Codex): copies within one second of the copied meta
    burst = [meta(c1, fork_ts, forked_from_id=p)] + [_restamp(x, T(0.001 * (i + 1), minute=30)) for i, x in enumerate(parent)]
    burst += [_restamp(x, T(10 + i, minute=30)) for i, x in enumerate(_child_own(0))]
    f1 = rollout(home, c1, burst)
    # verbatim copy (original timestamps, older than the fork's meta)
    verbatim = [meta(c2, fork_ts, forked_from_id=p)] + parent + [_restamp(x, T(i, minute=30)) for i, x in enumerate(_child_own(0))]
    f2 = rollout(home, c2, verbatim)
    con = run(tmp_path, f1, f2)  # the parent file is not in this home
    for f in (f1, f2):
        assert q(con, "SELECT lines_ingested, lines_duplicate FROM files WHERE path = $f", f=str(f.resolve())) == [(6, len(parent))]
    assert q(con, "SELECT count(*), sum(input_tokens), sum(output_tokens) FROM llm_calls") == [(2, 200, 40)]


def test_subagent_thread_with_history_start_ordinal_and_spawn_link(tmp_path):
    home = tmp_path / "h"
    p, c = tid(25), tid(26)
    pf = rollout(
        home,
        p,
        [
            meta(p, T(0)),
            ctx(T(0.1)),
            msg(T(0.2), "user", "use a helper"),
            call(T(1), "sp1", "spawn_agent", {"message": "look around"}),
            tc(T(1.1), U(100, 0, 10), U(100, 0, 10)),
            ev(T(1.5), "collab_agent_spawn_end", call_id="sp1", sender_thread_id=p, new_thread_id=c, new_agent_nickname="scout", status="running"),
            out(T(2), "sp1", json.dumps({"agent_id": c})),
        ],
    )
    spawn = {"subagent": {"thread_spawn": {"parent_thread_id": p, "depth": 1, "agent_nickname": "scout"}}}
    child = [
        json.dumps(
            {
                "timestamp": T(1.2),
                "ordinal": 0,
                "type": "session_meta",
                "payload": {"id": c, "cwd": "/w", "source": spawn, "agent_nickname": "scout", "subagent_history_start_ordinal": 3},
            }
        ),
        json.dumps({"timestamp": T(1.2), "ordinal": 1, "type": "session_meta", "payload": {"id": p}}),
        json.dumps(
            {
                "timestamp": T(1.2),
                "ordinal": 2,
                "type": "response_item",
                "payload": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "use a helper"}]},
            }
        ),
        json.dumps({"timestamp": T(1.3), "ordinal": 3, "type": "turn_context", "payload": {"model": "gpt-5.4-mini"}}),
        json.dumps(
            {
                "timestamp": T(1.3),
                "ordinal": 4,
                "type": "response_item",
                "payload": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "look around"}]},
            }
        ),
        json.dumps(
            {
                "timestamp": T(1.9),
                "ordinal": 5,
                "type": "event_msg",
                "payload": {"type": "token_count", "info": {"total_token_usage": U(40, 0, 4), "last_token_usage": U(40, 0, 4)}},
            }
        ),
    ]
    cf = rollout(home, c, child)
    con = run(tmp_path, pf, cf)
    assert q(con, "SELECT lines_duplicate FROM files WHERE path = $f", f=str(cf.resolve())) == [(2,)]
    assert q(
        con, "SELECT is_subagent, subagent_id, parent_session_key, n_user_prompts, primary_model FROM sessions WHERE session_key = $k", k=f"codex:{c}"
    ) == [(True, "scout", f"codex:{p}", 1, "gpt-5.4-mini")]
    assert q(con, "SELECT tool_kind, subagent_session_key FROM tool_calls WHERE tool_call_id = 'sp1'") == [("subagent", f"codex:{c}")]
    assert one(con, "SELECT n_subagents FROM sessions WHERE session_key = $k", k=f"codex:{p}") == 1
    assert one(con, "SELECT parent_tool_call_id FROM sessions WHERE session_key = $k", k=f"codex:{c}") == "sp1"


def test_mcp_and_server_tools(tmp_path):
    home = tmp_path / "h"
    t = tid(27)
    f = rollout(
        home,
        t,
        [
            meta(t, T(0)),
            ctx(T(0.1)),
            msg(T(0.2), "user", "look it up"),
            call(T(1), "m1", "docs__search", {"q": "x"}),
            L(T(1), "response_item", {"type": "function_call", "namespace": "mcp__github", "name": "get_me", "arguments": "{}", "call_id": "m2"}),
            L(T(1), "response_item", {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": "x"}}),
            L(
                T(1),
                "response_item",
                {
                    "type": "local_shell_call",
                    "call_id": "ls1",
                    "status": "completed",
                    "action": {"type": "exec", "command": ["ls", "/nope"], "timeout_ms": 1000},
                },
            ),
            tc(T(1.5), U(100, 0, 10), U(100, 0, 10)),
            out(T(2.4), "ls1", json.dumps({"output": "ls: /nope: No such file", "metadata": {"exit_code": 2, "duration_seconds": 0.01}})),
            ev(
                T(2),
                "mcp_tool_call_end",
                call_id="m1",
                invocation={"server": "docs", "tool": "search", "arguments": {"q": "x"}},
                duration={"secs": 0, "nanos": 250000000},
                result={"Err": "connection refused"},
            ),
            out(T(2.1), "m1", "err: connection refused"),
            ev(
                T(2),
                "mcp_tool_call_end",
                call_id="m2",
                invocation={"server": "github", "tool": "get_me"},
                duration={"secs": 1, "nanos": 0},
                result={"Ok": {"content": [{"type": "text", "text": "me"}], "isError": False}},
            ),
            out(T(2.2), "m2", [{"type": "input_text", "text": "me"}]),
            ev(T(2.3), "web_search_end", call_id="ws_1", query="x"),
        ],
    )
    con = run(tmp_path, f)
    got = {r[0]: r[1:] for r in q(con, "SELECT tool_call_id, tool_name, tool_kind, mcp_server, status, duration_ms_reported FROM tool_calls")}
    assert got == {
        "m1": ("mcp__docs__search", "mcp", "docs", "error", 250.0),
        "m2": ("mcp__github__get_me", "mcp", "github", "ok", 1000.0),
        "ws_1": ("web_search", "server", None, "ok", None),
        "ls1": ("local_shell", "builtin", None, "error", 10.0),
    }
    assert q(con, "SELECT n_tool_calls, n_blocks FROM llm_calls") == [(4, 5)]


def test_same_rollout_in_sessions_and_archive_counts_once(tmp_path):
    home = tmp_path / "h"
    t = tid(28)
    lines = [meta(t, T(0)), ctx(T(1)), msg(T(2), "user", "hi"), tc(T(3), U(10, 0, 1), U(10, 0, 1))]
    a = rollout(home, t, lines)
    (home / "archived_sessions").mkdir()
    b = home / "archived_sessions" / a.name
    b.write_text(a.read_text())
    con = run(tmp_path, a, b)
    assert q(con, "SELECT count(*), sum(input_tokens) FROM llm_calls") == [(1, 10)]
    acc = sorted(r[1:] for r in q(con, "SELECT path, lines_ingested, lines_duplicate FROM files"))
    assert acc == [(0, 4), (4, 0)]


# ------------------------------------------------------------------------------------ malformed input
def test_malformed_inputs_lose_nothing(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    t = tid(30)
    f = d / f"rollout-2026-01-02T10-00-00-{t}.jsonl"
    lines = [
        meta(t, T(0)),  # 1
        "{not json",  # 2
        "[1, 2]",  # 3
        '{"timestamp": "2026-01-02T10:00:01.000Z", "type": 7, "payload": {}}',  # 4
        '{"timestamp": "2026-01-02T10:00:01.000Z", "type": "response_item", "payload": [1]}',  # 5
        '{"timestamp": true, "type": "event_msg", "payload": {"type": "user_message"}}',  # 6
        L(T(1), "response_item", {"type": "message", "role": "user", "content": 5}),  # 7
        L(T(1), "event_msg", {"type": "token_count", "info": "lots"}),  # 8
        L(T(1), "response_item", {"type": "function_call", "name": "x", "arguments": "{}", "call_id": 9}),  # 9
        L(T(2), "brand_new_line_type", {"novel": {"a": 1}}),  # 10
        L(T(2), "event_msg", {"type": "brand_new_event", "x": 1}),  # 11
        L(T(2), "response_item", {"type": "brand_new_item", "y": 2}),  # 12
        '{"no_type_at_all": true}',  # 13
        L("yesterday", "response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x" * 100_000}]}),  # 14
        L(T(3), "response_item", {"type": "message", "role": "user", "content": "plain string content"}),  # 15
    ]
    with open(f, "wb") as fh:
        for ln in lines:
            fh.write(ln.encode() + b"\n")
        fh.write(b'{"timestamp":"2026-01-02T10:00:04.000Z","type":"event_msg","payload":{"type":"agent_message","message":"\xff\xfe"}}\n')  # 16
        fh.write(b"  \n\n")  # 17, 18
        fh.write(b'{"timestamp":"2026-01-02T10:00:05.000Z","type":"response_item","payload":{"type":"mess')  # 19: half-written
    (d / "empty.jsonl").write_bytes(b"")
    (d / "blank.jsonl").write_bytes(b"  \n\t\n")
    wh = tmp_path / "wh"
    s = ingest([str(d)], wh, jobs=1, agent="codex")
    assert s.files_failed == 0
    con = connect(wh)
    rej = dict(q(con, "SELECT line_no, reason FROM rejects"))
    assert set(rej) == {2, 3, 4, 5, 6, 7, 8, 9, 16, 19}
    assert rej[2].startswith("invalid JSON")
    assert rej[3] == "not a JSON object (got list)"
    assert rej[4] == "field 'type' has wrong type int"
    assert rej[5] == "field 'payload' of a response_item line has wrong type list"
    assert rej[6] == "field 'timestamp' has wrong type bool"
    assert rej[7] == "field 'content' of a message has wrong type int"
    assert rej[8] == "field 'info' of a token_count has wrong type str"
    assert rej[9] == "field 'call_id' of a function_call has wrong type int"
    assert rej[16] == "invalid UTF-8"
    assert rej[19].startswith("truncated last line")
    assert one(con, "SELECT raw_text FROM rejects WHERE line_no = 2") == "{not json"
    kinds = dict(q(con, "SELECT line_no, kind FROM events WHERE block_index = 0"))
    assert {k: kinds[k] for k in (10, 11, 12, 13, 14, 15)} == {10: "unknown", 11: "unknown", 12: "unknown", 13: "unknown", 14: "user_prompt", 15: "user_prompt"}
    assert json.loads(one(con, "SELECT extra FROM events WHERE line_no = 10"))["payload"]["novel"] == {"a": 1}
    assert json.loads(one(con, "SELECT extra FROM events WHERE line_no = 11"))["x"] == 1
    ts14, tb14, extra14 = q(con, "SELECT ts, text_bytes, extra FROM events WHERE line_no = 14")[0]
    assert ts14 is None and tb14 == 100_000 and json.loads(extra14)["$unparsed_timestamp"] == "yesterday"
    acc = {Path(p).name: r for p, *r in q(con, "SELECT path, lines_total, lines_ingested, lines_duplicate, lines_rejected FROM files")}
    assert acc[f.name] == [17, 7, 0, 10]  # 17 non-blank lines: 7 ingested, 10 rejected
    assert acc[f.name][0] == nonblank_lines(f)
    assert acc["empty.jsonl"] == [0, 0, 0, 0]
    assert acc["blank.jsonl"] == [0, 0, 0, 0]


# ------------------------------------------------------------------------------------ incremental
def test_append_parses_only_the_tail(tmp_path):
    home = tmp_path / "h"
    t = tid(40)
    head = [
        meta(t, T(0)),
        ctx(T(0.1)),
        msg(T(0.2), "user", "build it"),
        call(T(1), "a1", "exec_command", {"cmd": "make"}),
        tc(T(1.1), U(100, 40, 10, 2), U(100, 40, 10, 2)),
        out(T(2), "a1", "Chunk ID: z\nWall time: 1.0 seconds\nProcess running with session ID 5\nOutput:\n"),
        call(T(3), "a2", "write_stdin", {"session_id": 5, "chars": ""}),
    ]
    tail = [
        tc(T(3.1), U(100, 40, 10, 2), U(100, 40, 10, 2)),  # repeat across the boundary: not a call
        tc(T(3.2), U(250, 140, 30, 4), U(150, 100, 20, 2)),
        out(T(4), "a2", "Chunk ID: y\nWall time: 1.0 seconds\nProcess exited with code 3\nOutput:\nfail\n"),
        msg(T(5), "assistant", "It failed."),
        tc(T(5.1), U(400, 240, 40, 4), U(150, 100, 10, 0)),
    ]
    f = rollout(home, t, head)
    with open(f, "a") as fh:
        fh.write(tail[0][:30])  # the writer is mid-line
    wh = tmp_path / "wh"
    s1 = ingest([str(f)], wh, jobs=1)
    assert (s1.files_parsed, s1.lines_total, s1.lines_rejected) == (1, len(head) + 1, 1)
    con = connect(wh)
    assert q(con, "SELECT count(*), sum(input_tokens) FROM llm_calls") == [(1, 60)]
    assert q(con, "SELECT tool_call_id, status FROM tool_calls ORDER BY 1") == [("a1", "ok"), ("a2", "no_result")]
    con.close()
    with open(f, "a") as fh:
        fh.write(tail[0][30:] + "\n" + "\n".join(tail[1:]) + "\n")
    s2 = ingest([str(f)], wh, jobs=1)
    # the head ended with model output (the a2 call) waiting for its token_count: the tail's
    # token_count closes that response, so rows already written change and the file is parsed
    # again whole (as a clean ingest would pair them); the half line is re-read either way
    assert (s2.files_appended, s2.lines_total, s2.lines_ingested) == (1, len(head) + len(tail), len(head) + len(tail))
    con = connect(wh)
    assert q(con, "SELECT count(*), sum(input_tokens), sum(cache_read_tokens), sum(output_tokens) FROM llm_calls") == [(3, 160, 240, 40)]
    got = {r[0]: r[1:] for r in q(con, "SELECT tool_call_id, status, exit_code FROM tool_calls")}
    assert got == {"a1": ("error", 3), "a2": ("ok", None)}  # exit code reached the original call across the append
    assert q(con, "SELECT lines_total, lines_ingested, lines_duplicate, lines_rejected FROM files") == [(len(head) + len(tail), len(head) + len(tail), 0, 0)]
    assert one(con, "SELECT count(*) FROM rejects") == 0
    # an unchanged file is not reopened
    s3 = ingest([str(f)], wh, jobs=1)
    assert (s3.files_parsed, s3.files_unchanged) == (0, 1)


# ------------------------------------------------------------------------------------ ccusage parity
def _ccusage():
    from tracelab.devtools import ccusage as cc

    exe = cc.ensure_ccusage()
    if exe is None:
        pytest.skip(f"ccusage unavailable: {cc.ccusage_unavailable_reason()}")
    return cc, exe


def _ours(con):
    """Per UTC day, per model totals from llm_calls in ccusage's vocabulary."""
    rows = q(
        con,
        """SELECT strftime(date, '%Y-%m-%d'), model, sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
                            sum(cache_write_tokens), sum(reasoning_tokens)
                     FROM llm_calls WHERE NOT is_synthetic GROUP BY ALL""",
    )
    return {(d, m): (i, o, cr, cw, r) for d, m, i, o, cr, cw, r in rows}


def _theirs(cc, result):
    """ccusage rows; a fallback model (ccusage's guess for usage without a model) maps to None."""
    out = {}
    for r in cc.daily_model_totals(result):
        model = None if r["is_fallback_model"] else r["model"]
        key = (r["day"], model)
        prev = out.get(key, (0, 0, 0, 0, 0))
        vals = (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["cache_write_tokens"], r["reasoning_output_tokens"] or 0)
        out[key] = tuple(a + b for a, b in zip(prev, vals))
    return out


@pytest.mark.peer
def test_ccusage_parity_on_shared_samples(tmp_path, con, codex_samples):
    cc, exe = _ccusage()
    home = cc.stage_corpus("codex", cc.shared_sample_files("codex", SAMPLES), tmp_path / "stage")
    theirs = _theirs(cc, cc.run_ccusage("codex", home, exe=exe))
    assert theirs == _ours(con)
    assert len(theirs) == 6


@pytest.mark.peer
def test_ccusage_documented_differences(tmp_path):
    """Each deliberate difference listed in the adapter README, observed on ccusage itself."""
    cc, exe = _ccusage()
    home = tmp_path / "h"
    a, b, s, d, e, p, c = (tid(n) for n in range(50, 57))
    rollout(home, a, [meta(a, T(0)), tc(T(2), U(70, 0, 7), U(70, 0, 7))])  # 1. no model
    rollout(
        home,
        b,
        [
            meta(b, T(0)),
            ctx(T(1), "gpt-5.4"),
            tc(T(2), U(10, 0, 1), U(10, 0, 1)),  # 2. auto-review
            ctx(T(3), "codex-auto-review"),
            tc(T(4), U(30, 0, 3), U(20, 0, 2)),
        ],
    )
    spaced = [json.loads(x) for x in (meta(s, T(0)), ctx(T(1), "gpt-5.5"), tc(T(2), U(20, 0, 2), U(20, 0, 2)))]
    rollout(home, s, [json.dumps(x, separators=(", ", ": ")) for x in spaced])  # 3. non-compact JSON
    rollout(
        home,
        d,
        [
            meta(d, T(0)),
            ctx(T(1), "m-fall"),
            tc(T(2), U(500, 0, 50), None),  # 4. falling total, no last
            tc(T(3), U(70, 0, 7), None),
        ],
    )
    rollout(
        home,
        e,
        [
            meta(e, T(0)),
            ctx(T(1), "m-same"),
            tc(T(2), U(100, 0, 10), U(100, 0, 10)),  # 5. same instant
            tc(T(2), U(200, 0, 20), U(100, 0, 10)),
        ],
    )
    parent = [meta(p, T(0, minute=5)), ctx(T(1, minute=5), "m-orphan"), tc(T(2, minute=5), U(300, 0, 30), U(300, 0, 30))]
    rollout(
        home,
        c,
        [
            meta(c, T(0, minute=40), forked_from_id=p),
            *parent,  # 6. orphan verbatim copy, parent absent
            tc(T(9, minute=40), U(340, 0, 34), U(40, 0, 4)),
        ],
    )
    con = run(tmp_path, home)
    ours = {k: v[:2] for k, v in _ours(con).items()}
    raw = cc.daily_model_totals(cc.run_ccusage("codex", home, exe=exe))
    theirs = {(r["day"], r["model"], r["is_fallback_model"]): (r["input_tokens"], r["output_tokens"]) for r in raw}
    day = "2026-01-02"
    assert ours[(day, None)] == (70, 7) and theirs[(day, "gpt-5", True)] == (70, 7)  # 1: same tokens, ccusage guesses gpt-5
    assert ours[(day, "codex-auto-review")] == (20, 2)  # 2: ccusage relabels it with a dated fallback model
    relabelled = [k for k in theirs if k[2] and k[1] != "gpt-5"]
    assert len(relabelled) == 1 and theirs[relabelled[0]] == (20, 2)
    assert ours[(day, "gpt-5.4")] == theirs[(day, "gpt-5.4", False)] == (10, 1)
    assert ours[(day, "gpt-5.5")] == (20, 2) and not any(k[1] == "gpt-5.5" for k in theirs)  # 3: ccusage skips spaced JSON
    assert ours[(day, "m-fall")] == (570, 57) and theirs[(day, "m-fall", False)] == (500, 50)  # 4
    assert ours[(day, "m-same")] == (200, 20) and theirs[(day, "m-same", False)] == (100, 10)  # 5
    assert ours[(day, "m-orphan")] == (40, 4) and theirs[(day, "m-orphan", False)] == (340, 34)  # 6
    assert len(theirs) == len(ours) - 1  # nothing else differs (the spaced file is missing from theirs)
    # 7. a fraction of other than 0 or 3 digits on a counted line aborts ccusage's whole run
    home7 = tmp_path / "h7"
    rollout(home7, a, [meta(a, T(0)), ctx(T(1)), tc("2026-01-02T10:00:02.123456Z", U(10, 0, 1), U(10, 0, 1))])
    with pytest.raises(cc.CcusageError, match="Invalid Codex timestamp"):
        cc.run_ccusage("codex", home7, exe=exe)
    con7 = run(tmp_path, home7, name="wh7")
    assert q(con7, "SELECT strftime(ts, '%H:%M:%S.%g'), input_tokens FROM llm_calls") == [("10:00:02.123", 10)]
