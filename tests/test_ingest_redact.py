"""`tracelab ingest --redact`: planted secrets never reach any table; policy recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

from tracelab.catalog import connect
from tracelab.cli import cli

AWS = "AKIA" + "QWERTYUIOPASDFGH"
GH = "ghp_" + "x7Kq2LmN9pQ4rS8tU1vW3yZ5aB6cD0eF2gH4"
PASSWORD = "hunter2-" + "Zq8!vX"


def _corpus(d: Path) -> Path:
    proj = d / "projects" / "-home-alice-proj"
    proj.mkdir(parents=True)
    lines = [
        {
            "type": "user",
            "uuid": "u1",
            "sessionId": "s-1",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "cwd": "/home/alice/proj",
            "message": {"role": "user", "content": f"deploy with AWS_ACCESS_KEY_ID={AWS} please"},
        },
        {
            "type": "assistant",
            "uuid": "u2",
            "sessionId": "s-1",
            "timestamp": "2026-01-01T00:00:01.000Z",
            "requestId": "req_1",
            "message": {
                "id": "msg_1",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "usage": {"input_tokens": 1, "output_tokens": 2},
                "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": f"git push https://bot:{GH}@github.com/o/r.git"}}],
            },
        },
        {
            "type": "user",
            "uuid": "u3",
            "sessionId": "s-1",
            "timestamp": "2026-01-01T00:00:02.000Z",
            "message": {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "is_error": True, "content": f"Exit code 1\nerror: password={PASSWORD} rejected for {GH}"}
                ],
            },
        },
    ]
    f = proj / "s-1.jsonl"
    f.write_text("\n".join(json.dumps(x) for x in lines) + '\n{"type": "user", "broken": "' + AWS + "\n")
    return f


def _all_strings(wh: Path) -> str:
    out = []
    for p in wh.rglob("*.parquet"):
        t = pq.read_table(p)
        for name in t.column_names:
            if str(t.schema.field(name).type) in ("string", "large_string"):
                out.extend(str(v) for v in t.column(name).to_pylist() if v is not None)
    return "\n".join(out)


def test_ingest_redact_keeps_secrets_out_of_every_table(tmp_path):
    f = _corpus(tmp_path)
    plain, red = tmp_path / "plain", tmp_path / "red"
    r = CliRunner().invoke(cli, ["ingest", str(f.parent), "-w", str(plain), "--json"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["ingest", str(f.parent), "-w", str(red), "--json", "--redact", "--redact-key", "k1"])
    assert r.exit_code == 0, r.output
    everything_plain = _all_strings(plain)
    assert AWS in everything_plain and GH in everything_plain and PASSWORD in everything_plain  # the test can fail
    everything = _all_strings(red)
    for secret in (AWS, GH, PASSWORD):
        assert secret not in everything
    con = connect(red)
    assert "[REDACTED:" in con.execute("SELECT text FROM events WHERE line_no = 1").fetchone()[0]
    policy = con.execute("SELECT DISTINCT redaction_policy FROM files").fetchall()
    assert len(policy) == 1 and policy[0][0].startswith("tracelab-redact")
    # rows are the same shape as without redaction
    pc = connect(plain)
    for t in ("events", "tool_calls", "llm_calls", "rejects"):
        assert con.execute(f"SELECT count(*) FROM {t}").fetchone() == pc.execute(f"SELECT count(*) FROM {t}").fetchone()
    # unchanged re-run with the same policy parses nothing; the policy is part of the manifest check
    r = CliRunner().invoke(cli, ["ingest", str(f.parent), "-w", str(red), "--json", "--redact", "--redact-key", "k1"])
    assert json.loads(r.output)["files_parsed"] == 0
