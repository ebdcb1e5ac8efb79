"""Gemini CLI adapter: real recordings (golden, hand-checked counts), message accounting,
rewritten files, the JSONL and checkpoint shapes, detection, and token parity with ccusage.

Hand-checked counts come from reading each sample's ``messages`` (types, ``toolCalls[].status``,
``tokens``) with nothing but ``json``; the numbers below are those readings. A ``success`` shell
call whose output ends ``Exit Code: N`` (N ≠ 0) is an ``error`` in ``tool_calls``, as for
every agent (a non-zero exit is a failed call).
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import SAMPLES, require_samples

from tracelab.catalog import connect
from tracelab.ingest import registry
from tracelab.ingest.gemini import default_roots, discover, sniff_document
from tracelab.ingest.gemini.parse import GeminiParser, split_tokens
from tracelab.pipeline import ingest

GEMINI = SAMPLES / "gemini-cli"

#: file -> hand-checked facts: messages by type, tool results by status, llm calls by model,
#: token sums (Gemini's raw fields summed over the file's gemini messages).
GOLDEN = {
    "M-Gemini-session-2025-11-21T20-57-15eaa698.json": {
        "types": {"user": 4, "gemini": 12},
        # 3 calls with status "error" + 1 "success" shell call that printed "Exit Code: 1"
        "status": {"ok": 5, "error": 4},
        "models": {"gemini-2.5-flash": 11, "gemini-3-pro-preview": 1},
    },
    "M-Gemini-session-2025-12-02T23-42-15393fa0.json": {
        "types": {"user": 2, "gemini": 2},
        "status": {"interrupted": 1},
        "models": {"gemini-2.5-flash": 2},
        # tokens: input 16723 (cached 0), output 72, thoughts 124, total 16919
        "tokens": (16723, 72 + 124, 0, 124),
    },
    "M-Gemini-session-2025-12-06T07-22-e0f194ce.json": {
        "types": {"user": 4, "error": 3, "gemini": 9, "info": 4},
        # 7 "success" (one a shell call with "Exit Code: 1") + 1 "cancelled"
        "status": {"ok": 6, "error": 1, "interrupted": 1},
        "models": {"gemini-3-pro-preview": 9},
    },
    "M-Gemini-session-2025-12-08T17-47-2fd368e7.json": {
        "types": {"user": 1, "error": 3, "info": 4},
        "status": {},
        "models": {},
    },
    "M-Gemini-session-2025-12-13T19-01-049d9bb6.json": {
        "types": {"user": 5, "gemini": 7, "error": 4, "info": 3},
        "status": {"ok": 1, "error": 1, "interrupted": 1},
        "models": {"gemini-3-pro-preview": 3, "gemini-2.5-flash": 4},
    },
    "M-Gemini-session-2026-01-02T03-26-ae691289.json": {
        "types": {"user": 1, "gemini": 23},
        "status": {"error": 15, "ok": 7},
        "models": {"gemini-3-flash-preview": 23},
    },
    "aim-matrix_pro.json": {
        "types": {"user": 2, "gemini": 35},
        # 1 "error" + 6 "success" shell calls exiting 127, 1, 1, 1, 1, 1
        "status": {"ok": 26, "error": 7},
        "models": {"gemini-3.1-pro-preview": 35},
    },
    "aim-supabase_ssr-vanilla_session.json": {
        "types": {"user": 1, "gemini": 1},
        "status": {},
        "models": {"gemini-3.1-pro-preview": 1},
    },
}


def _rows(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()


@pytest.fixture(scope="module")
def gemini_wh(tmp_path_factory):
    require_samples("gemini-cli")
    wh = tmp_path_factory.mktemp("gemini_wh")
    s = ingest([str(GEMINI)], wh, jobs=1)
    assert s.files_failed == 0, s.errors
    return wh


@pytest.fixture(scope="module")
def con(gemini_wh):
    c = connect(gemini_wh)
    yield c
    c.close()


# ------------------------------------------------------------------------------ golden
@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_counts(con, name):
    g = GOLDEN[name]
    path = str((GEMINI / name).resolve())
    n_msgs = sum(g["types"].values())
    # message accounting: unit 1 is the document, then one unit per message
    assert _rows(con, "SELECT lines_total, lines_ingested, lines_duplicate, lines_rejected FROM files WHERE path = ?", path) == [(n_msgs + 1, n_msgs + 1, 0, 0)]
    types = dict(
        _rows(con, "SELECT split_part(native_type, '/', 1), count(DISTINCT line_no) FROM events WHERE source_file = ? AND line_no > 1 GROUP BY 1", path)
    )
    assert types == g["types"]
    sk = _rows(con, "SELECT DISTINCT session_key FROM events WHERE source_file = ?", path)[0][0]
    status = dict(_rows(con, "SELECT status, count(*) FROM tool_calls WHERE session_key = ? GROUP BY 1", sk))
    assert status == g["status"]
    models = dict(_rows(con, "SELECT model, count(*) FROM llm_calls WHERE session_key = ? GROUP BY 1", sk))
    assert models == g["models"]
    if "tokens" in g:
        got = _rows(con, "SELECT sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(reasoning_tokens) FROM llm_calls WHERE session_key = ?", sk)
        assert got == [g["tokens"]]


def test_every_sample_accounts_for_every_message(con):
    for f in sorted(GEMINI.glob("*.json")):
        doc = json.loads(f.read_bytes())
        n = len(doc["messages"]) + 1
        assert _rows(con, "SELECT lines_total, lines_ingested + lines_duplicate + lines_rejected FROM files WHERE path = ?", str(f.resolve())) == [(n, n)], (
            f.name
        )
        tools = sum(len(m.get("toolCalls") or []) for m in doc["messages"])
        gem = sum(1 for m in doc["messages"] if m["type"] == "gemini")
        sk = f"gemini:{doc['sessionId']}"
        assert _rows(con, "SELECT count(*) FROM tool_calls WHERE session_key = ?", sk) == [(tools,)], f.name
        assert _rows(con, "SELECT count(*) FROM llm_calls WHERE session_key = ?", sk) == [(gem,)], f.name


def test_tool_error_text_and_cancelled_call(con):
    # 2025-12-13: read_file of a missing gemini.md fails with the error the model saw
    rows = _rows(con, "SELECT tool_name, status, error_text FROM tool_calls WHERE tool_call_id = 'read_file-1765652562954-a1740722876ba'")
    assert rows[0][0] == "read_file" and rows[0][1] == "error"
    assert rows[0][2].startswith("File not found: C:\\Users\\Mischa")
    rows = _rows(con, "SELECT status FROM tool_calls WHERE tool_call_id = 'google_web_search-1765675111660-db6f6d89dbe74'")
    assert rows == [("interrupted",)]


def test_info_and_error_messages_are_events(con):
    kinds = dict(_rows(con, "SELECT kind, count(*) FROM events WHERE native_type IN ('info', 'error', 'warning') GROUP BY 1"))
    # 35 info + error messages over the samples that are not API errors or cancellations,
    # 8 API/quota errors, 2 "Request cancelled." infos (counted from the raw files)
    raw = defaultdict(int)
    for f in GEMINI.glob("*.json"):
        for m in json.loads(f.read_bytes())["messages"]:
            if m["type"] in ("info", "error", "warning"):
                raw[m["type"]] += 1
    assert sum(kinds.values()) == raw["info"] + raw["error"] + raw["warning"]
    assert kinds["interrupt"] == 2
    assert kinds["api_error"] >= 3  # the "[API Error: …]" messages of 2025-12-06
    assert _rows(con, "SELECT count(*) FROM events WHERE native_type = 'error' AND NOT is_error") == [(0,)]


def test_thoughts_and_models(con):
    # thoughts are thinking rows of the same llm call; every gemini row names its model
    assert _rows(con, "SELECT count(*) FROM events WHERE kind = 'thinking' AND llm_call_key IS NULL") == [(0,)]
    assert _rows(con, "SELECT count(*) FROM events WHERE role = 'assistant' AND model IS NULL") == [(0,)]
    assert _rows(con, "SELECT DISTINCT provider FROM llm_calls") == [("google",)]


def test_split_tokens_vocabulary():
    # input includes cached; tool-use prompt tokens are more uncached input; thoughts are output
    t = split_tokens({"input": 100, "output": 10, "cached": 60, "thoughts": 5, "tool": 7, "total": 122})
    assert t == {"input_tokens": 47, "output_tokens": 15, "cache_read_tokens": 60, "cache_write_tokens": 0, "reasoning_tokens": 5}
    assert t["input_tokens"] + t["output_tokens"] + t["cache_read_tokens"] == 122
    assert split_tokens(None) == {}
    assert split_tokens({"output": 3})["input_tokens"] is None


# ------------------------------------------------------------------------------ incremental
def _dump(wh):
    c = connect(wh)
    try:
        out = {}
        for t in ("events", "llm_calls", "tool_calls", "sessions", "rejects"):
            cols = [r[0] for r in c.execute(f"DESCRIBE {t}").fetchall()]
            out[t] = c.execute("SELECT " + ", ".join(f'"{x}"' for x in cols) + f" FROM {t} ORDER BY ALL").fetchall()
        out["files"] = c.execute("SELECT agent, lines_total, lines_ingested, lines_duplicate, lines_rejected FROM files").fetchall()
        return out
    finally:
        c.close()


def test_rewritten_file_reingests_without_duplicates(tmp_path):
    src = require_samples("gemini-cli") / "M-Gemini-session-2025-12-13T19-01-049d9bb6.json"
    doc = json.loads(src.read_bytes())
    chats = tmp_path / "home" / ".gemini" / "tmp" / doc["projectHash"] / "chats"
    chats.mkdir(parents=True)
    target = chats / "session-2025-12-13T19-01-049d9bb6.json"
    early = dict(doc, messages=doc["messages"][:7])
    target.write_text(json.dumps(early, indent=2))
    s1 = ingest([str(target)], tmp_path / "wh", jobs=1)
    assert (s1.lines_total, s1.lines_ingested) == (8, 8)
    # the CLI rewrites the whole document as the session grows (same path, more messages)
    target.write_text(json.dumps(doc, indent=2))
    os.utime(target, ns=(2_000_000_000_000_000_000, 2_000_000_000_000_000_000))
    s2 = ingest([str(target)], tmp_path / "wh", jobs=1)
    assert s2.files_failed == 0
    clean = tmp_path / "clean"
    ingest([str(target)], clean, jobs=1)
    assert _dump(tmp_path / "wh") == _dump(clean)
    c = connect(tmp_path / "wh")
    assert c.execute("SELECT count(*), count(DISTINCT uuid) FROM events WHERE kind IN ('user_prompt', 'user_context')").fetchall() == [(5, 5)]
    c.close()


def test_copy_of_a_session_counts_once(tmp_path):
    """The same recording in two places (an archive beside ~/.gemini): message ids dedup."""
    src = require_samples("gemini-cli") / "M-Gemini-session-2025-12-02T23-42-15393fa0.json"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(src, tmp_path / "a" / src.name)
    shutil.copy(src, tmp_path / "b" / src.name)
    s = ingest([str(tmp_path / "a"), str(tmp_path / "b")], tmp_path / "wh", jobs=1)
    assert (s.lines_total, s.lines_ingested, s.lines_duplicate) == (10, 5, 5)
    c = connect(tmp_path / "wh")
    assert c.execute("SELECT count(*), sum(input_tokens) FROM llm_calls").fetchall() == [(2, 16723)]
    c.close()


# ------------------------------------------------------------------------------ bad input
def test_document_that_does_not_parse_is_one_reject(tmp_path):
    src = require_samples("gemini-cli") / "aim-supabase_ssr-vanilla_session.json"
    bad = tmp_path / "session-cut.json"
    bad.write_bytes(src.read_bytes()[:2000])  # a rewrite caught half-way
    s = ingest([str(bad)], tmp_path / "wh", agent="gemini", jobs=1)
    assert (s.lines_total, s.lines_rejected, s.files_failed) == (1, 1, 0)
    c = connect(tmp_path / "wh")
    (reason,) = c.execute("SELECT reason FROM rejects").fetchone()
    assert reason.startswith("invalid JSON document")
    c.close()


def test_bad_messages_are_rejected_one_by_one(tmp_path):
    doc = {
        "sessionId": "s-1",
        "projectHash": "p",
        "startTime": "2026-01-01T00:00:00Z",
        "lastUpdated": "2026-01-01T00:01:00Z",
        "messages": [
            {"id": "m1", "timestamp": "2026-01-01T00:00:01Z", "type": "user", "content": "hi"},
            "not an object",
            {"id": "m3", "timestamp": "2026-01-01T00:00:02Z", "type": "robot", "content": "?"},
            {
                "id": "m4",
                "timestamp": "2026-01-01T00:00:03Z",
                "type": "gemini",
                "content": "hello",
                "model": "gemini-x",
                "tokens": {"input": 10, "output": 2, "cached": 4, "thoughts": 1, "total": 13},
            },
        ],
    }
    f = tmp_path / "session-x.json"
    f.write_text(json.dumps(doc, indent=2))
    res = GeminiParser(f).parse()
    assert (res.lines_total, res.lines_rejected) == (5, 2)
    assert [(r.line_no, r.reason) for r in res.rejects] == [(3, "message is not a JSON object (got str)"), (4, "unknown message type 'robot'")]
    rows = res.buffer.rows
    assert {r["line_no"] for r in rows} == {1, 2, 5}
    (g,) = [r for r in rows if r["kind"] == "assistant_text"]
    assert (g["input_tokens"], g["output_tokens"], g["cache_read_tokens"], g["reasoning_tokens"]) == (6, 3, 4, 1)


# ------------------------------------------------------------------------------ other shapes
def test_jsonl_recording_equals_the_document(tmp_path):
    """Newer CLIs append records (a message written again replaces the earlier record): the
    same conversation as JSONL gives the same calls and tokens as the document."""
    src = require_samples("gemini-cli") / "M-Gemini-session-2025-11-21T20-57-15eaa698.json"
    doc = json.loads(src.read_bytes())
    lines = [{k: v for k, v in doc.items() if k != "messages"}]
    for m in doc["messages"]:
        if m.get("toolCalls"):  # first written without results, then updated in place
            lines.append({**m, "toolCalls": [{k: v for k, v in c.items() if k not in ("result", "status")} for c in m["toolCalls"]]})
        lines.append(m)
    lines.append({"$set": {"lastUpdated": doc["lastUpdated"]}})
    f = tmp_path / "session-2025-11-21.jsonl"
    f.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    s = ingest([str(f)], tmp_path / "wh", jobs=1)
    n_updates = sum(1 for m in doc["messages"] if m.get("toolCalls"))
    assert (s.lines_total, s.lines_duplicate, s.lines_rejected) == (len(lines), n_updates, 0)
    ingest([str(src)], tmp_path / "doc", jobs=1)
    q = "SELECT model, input_tokens, output_tokens, cache_read_tokens, n_tool_calls FROM llm_calls ORDER BY ALL"
    q2 = "SELECT tool_call_id, status, error_text FROM tool_calls ORDER BY ALL"
    a, b = connect(tmp_path / "wh"), connect(tmp_path / "doc")
    assert a.execute(q).fetchall() == b.execute(q).fetchall()
    assert a.execute(q2).fetchall() == b.execute(q2).fetchall()
    a.close()
    b.close()


def test_checkpoint_history(tmp_path):
    hist = {
        "history": [
            {"role": "user", "parts": [{"text": "list files"}]},
            {
                "role": "model",
                "parts": [{"text": "thinking…", "thought": True}, {"functionCall": {"id": "c1", "name": "list_directory", "args": {"path": "."}}}],
            },
            {"role": "user", "parts": [{"functionResponse": {"id": "c1", "name": "list_directory", "response": {"error": "denied"}}}]},
            {"role": "model", "parts": [{"text": "I could not list them."}]},
        ]
    }
    proj = tmp_path / ".gemini" / "tmp" / "abc"
    proj.mkdir(parents=True)
    f = proj / "checkpoint-mytag.json"
    f.write_text(json.dumps(hist, indent=2))
    assert registry.detect(f).name == "gemini"
    s = ingest([str(tmp_path / ".gemini")], tmp_path / "wh", jobs=1)
    assert (s.lines_total, s.lines_ingested) == (5, 5)
    c = connect(tmp_path / "wh")
    assert c.execute("SELECT session_key, tool_name, status FROM tool_calls").fetchall() == [("gemini:checkpoint/abc/mytag", "list_directory", "error")]
    assert c.execute("SELECT count(*) FROM llm_calls").fetchall() == [(0,)]  # no usage in a checkpoint
    c.close()


# ------------------------------------------------------------------------------ discovery
def test_default_discovery(tmp_path, monkeypatch):
    src = require_samples("gemini-cli") / "aim-supabase_ssr-vanilla_session.json"
    home = tmp_path / "h"
    chats = home / ".gemini" / "tmp" / "hash1" / "chats"
    chats.mkdir(parents=True)
    shutil.copy(src, chats / "session-2026-03-26T04-00-aaaa.json")
    (home / ".gemini" / "tmp" / "hash1" / "logs.json").write_text("[]")
    monkeypatch.setenv("GEMINI_CLI_HOME", str(home))
    (root,) = default_roots()
    assert [p.name for p in discover(root)] == ["session-2026-03-26T04-00-aaaa.json"]
    s = ingest([], tmp_path / "wh", agent="gemini", jobs=1)
    assert (s.files_parsed, s.lines_ingested) == (1, 3)


def test_detection_of_documents(tmp_path):
    for f in sorted(require_samples("gemini-cli").glob("*.json")):
        assert registry.detect(f).name == "gemini", f.name
    assert sniff_document(b'{\n  "role": "assistant"', Path("x.json")) == 0
    # a pretty-printed JSON that is no session (pi's single-message fixture) matches nothing
    pi_doc = SAMPLES / "pi" / "pi-mono__assistant-message-with-thinking-code.json"
    if pi_doc.exists():
        assert registry.detect(pi_doc) is None


# ------------------------------------------------------------------------------ ccusage parity
@pytest.mark.peer
def test_token_parity_with_ccusage(con, tmp_path):
    """Per UTC day and model, tracelab's uncached input, cache reads and total equal
    ``ccusage gemini daily``; its output differs by exactly the thoughts (rule G1 of
    docs/ccusage-parity.md: ccusage leaves Gemini's ``thoughts`` out of ``outputTokens``)."""
    from tracelab.devtools import ccusage as cc

    if cc.ensure_ccusage() is None:
        pytest.skip(f"ccusage unavailable: {cc.ccusage_unavailable_reason()}")
    files = cc.shared_sample_files("gemini", SAMPLES)
    assert len(files) == 16
    home = cc.stage_corpus("gemini", files, tmp_path / "gemini_home")
    peer = {
        (r["day"], r["model"]): (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["cache_write_tokens"])
        for r in cc.daily_model_totals(cc.run_ccusage("gemini", home))
    }
    ours_raw = _rows(
        con,
        "SELECT date::VARCHAR, model, sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens) "
        "FROM llm_calls WHERE agent = 'gemini' GROUP BY ALL HAVING sum(total_tokens) > 0",
    )
    ours = {(d, m): (i, o - r, cr, cw) for d, m, i, o, cr, cw, r in ours_raw}
    assert ours == peer
    # and the rule matters: thoughts were spent on every day
    assert all(r > 0 for *_, r in ours_raw)
