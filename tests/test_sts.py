"""Hub Session Trace Simple format (STS): every sample session of every agent exported with
``tracelab export sts`` and read back gives the same messages, tool calls and results (the
fields STS carries); the reader's accounting and detection; the spec's own example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLES

from tracelab.catalog import connect
from tracelab.cli import cli
from tracelab.ingest import registry
from tracelab.ingest.sts.parse import StsParser
from tracelab.pipeline import ingest

DIRS = ("claude-code", "claude-code-2.1", "codex", "pi", "gemini-cli", "copilot-cli", "otel")

#: the example of hub-docs docs/hub/session-traces-format.md
SPEC_EXAMPLE = [
    {"type": "session", "harness": "my-agent", "id": "abc123", "name": "what time is it"},
    {"type": "message", "message": {"role": "user", "content": "what time is it?"}},
    {"type": "message", "message": {"role": "assistant", "content": "", "toolCalls": [{"id": "t1", "function": {"name": "get_time", "arguments": "{}"}}]}},
    {"type": "message", "message": {"role": "tool", "toolCallId": "t1", "content": "2026-07-01T15:00:00Z"}},
    {"type": "message", "message": {"role": "assistant", "content": "it is 15:00 UTC"}},
]


def _read(d: Path) -> dict[tuple[str, str], tuple[dict, list]]:
    out = {}
    for f in sorted(d.rglob("*.jsonl")):
        lines = [json.loads(x) for x in f.read_text().splitlines()]
        head = {k: v for k, v in lines[0].items() if k != "tracelab"}
        out[(head["harness"], head["id"])] = (head, [x["message"] for x in lines[1:]])
    return out


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    for d in DIRS:
        if not (SAMPLES / d).is_dir():
            pytest.skip(f"shared samples missing: {SAMPLES / d}")
    root = tmp_path_factory.mktemp("sts")
    for d in DIRS:
        s = ingest([str(SAMPLES / d)], root / "a", jobs=1)
        assert s.files_failed == 0
    r = CliRunner().invoke(cli, ["export", "sts", "-w", str(root / "a"), "--out", str(root / "sts1"), "--json"])
    assert r.exit_code == 0, r.output
    s = ingest([str(root / "sts1")], root / "b", jobs=1)
    assert s.files_failed == 0 and s.lines_rejected == 0 and s.lines_duplicate == 0
    r2 = CliRunner().invoke(cli, ["export", "sts", "-w", str(root / "b"), "--out", str(root / "sts2"), "--json"])
    assert r2.exit_code == 0, r2.output
    return root, json.loads(r.output), s


def test_every_session_of_every_agent_exports(round_trip):
    root, summary, _ = round_trip
    con = connect(root / "a")
    agents = {a for (a,) in con.execute("SELECT DISTINCT agent FROM sessions").fetchall()}
    exportable = con.execute(
        "SELECT count(DISTINCT session_key) FROM events WHERE kind IN ('user_prompt', 'user_context', 'compaction_summary', 'assistant_text', 'thinking', "
        "'tool_call', 'tool_result', 'system', 'api_error')"
    ).fetchone()[0]
    con.close()
    assert agents == {"claude", "codex", "pi", "gemini", "copilot", "otel"}
    assert summary["sessions"] == exportable == len(list((root / "sts1").rglob("*.jsonl")))
    assert {p.name for p in (root / "sts1").iterdir()} == agents


def test_read_back_gives_the_same_messages(round_trip):
    root, summary, s = round_trip
    first, second = _read(root / "sts1"), _read(root / "sts2")
    assert first.keys() == second.keys()
    for key in first:
        assert first[key] == second[key], key
    # accounting of the read: one line per header and per message
    assert s.lines_total == summary["sessions"] + summary["messages"] == s.lines_ingested


def test_tool_calls_and_results_survive(round_trip):
    """Against the original tables: every tool call with an id keeps its name and input, and
    its result text, in the session read back from STS."""
    root, _, _ = round_trip
    a, b = connect(root / "a"), connect(root / "b")
    q = (
        "SELECT agent, {key} AS k, tool_call_id, tool_name, coalesce(input_json, '{{}}'), coalesce(output_text, '') FROM tool_calls "
        "WHERE tool_call_id IS NOT NULL AND status <> 'no_result' ORDER BY ALL"
    )
    orig = a.execute(q.format(key="regexp_replace(session_key, '^[a-z]+:', '')")).fetchall()
    back = b.execute(q.format(key="regexp_replace(session_key, '^sts:[a-z]+:', '')")).fetchall()
    a.close()
    b.close()
    assert len(orig) > 1000
    assert back == orig


def test_spec_example(tmp_path):
    f = tmp_path / "example.jsonl"
    f.write_text("\n".join(json.dumps(x) for x in SPEC_EXAMPLE) + "\n")
    assert registry.detect(f).name == "sts"
    s = ingest([str(f)], tmp_path / "wh", jobs=1)
    assert (s.lines_total, s.lines_ingested) == (5, 5)
    con = connect(tmp_path / "wh")
    assert con.execute("SELECT session_key, agent, title, n_user_prompts, n_llm_calls FROM sessions").fetchall() == [
        ("sts:my-agent:abc123", "my-agent", "what time is it", 1, 2)
    ]
    assert con.execute("SELECT tool_name, input_json, output_text, status FROM tool_calls").fetchall() == [("get_time", "{}", "2026-07-01T15:00:00Z", "ok")]
    con.close()


def test_bad_lines(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text(
        "\n".join(
            [
                json.dumps({"type": "session", "id": "x"}),
                json.dumps({"type": "session", "harness": "h", "id": "x"}),
                json.dumps({"type": "message", "message": {"role": "robot", "content": "?"}}),
                json.dumps({"type": "message", "message": "hi"}),
                json.dumps({"type": "message", "message": {"role": "user", "content": [{"type": "text", "text": "parts"}]}}),
            ]
        )
        + "\n"
    )
    res = StsParser(f).parse()
    assert (res.lines_total, res.lines_rejected) == (5, 3)
    assert [r.reason for r in res.rejects] == [
        "session header without a 'harness' string",
        "unknown message role 'robot'",
        "field 'message' has wrong type str",
    ]
    assert [r["text"] for r in res.buffer.rows if r["kind"] == "user_prompt"] == ["parts"]


def test_unknown_session_is_an_error(tmp_path):
    ingest([], tmp_path / "wh", jobs=1)
    r = CliRunner().invoke(cli, ["export", "sts", "-w", str(tmp_path / "wh"), "--out", str(tmp_path / "o"), "--session", "claude:nope"])
    assert r.exit_code != 0 and "no session matches 'claude:nope'" in r.output


def test_session_takes_a_prefix_or_native_id_as_session_does(round_trip, tmp_path):
    root, _, _ = round_trip
    key = "claude:0ccf1a04-1b4c-43b6-8aa5-79e41db43a68"
    outs = []
    for i, given in enumerate((key, "0ccf1a04", key.split(":")[1])):
        r = CliRunner().invoke(cli, ["export", "sts", "-w", str(root / "a"), "--out", str(tmp_path / str(i)), "--session", given, "--json"])
        assert r.exit_code == 0, (given, r.output)
        outs.append(_read(tmp_path / str(i)))
    assert list(outs[0]) == [("claude", "0ccf1a04-1b4c-43b6-8aa5-79e41db43a68")] and outs[1] == outs[0] and outs[2] == outs[0]
    r = CliRunner().invoke(cli, ["export", "sts", "-w", str(root / "a"), "--out", str(tmp_path / "x"), "--session", "0c"])
    assert r.exit_code != 0 and "'0c' matches" in r.output and key in r.output
