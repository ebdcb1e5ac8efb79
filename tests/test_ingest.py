"""Ingest contract: line accounting, malformed input, incremental runs, atomicity, locking."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import nonblank_lines

import tracelab
from tracelab.catalog import connect
from tracelab.errors import Aborted
from tracelab.pipeline import ingest
from tracelab.store.warehouse import Warehouse, WarehouseBusy


def _files(wh):
    con = connect(wh)
    try:
        return {r[0]: r[1:] for r in con.execute("SELECT path, lines_total, lines_ingested, lines_duplicate, lines_rejected FROM files").fetchall()}
    finally:
        con.close()


def test_every_claude_sample_accounted(claude_wh, claude_samples):
    rows = _files(claude_wh)
    jsonl = [p for p in claude_samples.rglob("*.jsonl")]
    assert len(rows) == len(jsonl)
    for p in jsonl:
        total, ing, dup, rej = rows[str(p.resolve())]
        assert total == nonblank_lines(p), p
        assert total == ing + dup + rej, p


def test_rejects_only_for_really_malformed_lines(claude_wh):
    con = connect(claude_wh)
    rej = con.execute("SELECT source_file, line_no, reason FROM rejects").fetchall()
    # the only malformed sample is the hand-made edge-case file of claude-code-log
    assert {Path(r[0]).name for r in rej} == {"claude-code-log__daaain-2025-06__edge_cases.jsonl"}
    reasons = sorted(r[2] for r in rej)
    assert reasons == [
        "field 'message' of a user line has wrong type str",
        "not a JSON object (got int)",
        "not a JSON object (got list)",
        "not a JSON object (got str)",
    ]


def _line(uuid, ts, text="hi", typ="user", **kw):
    d = {
        "type": typ,
        "uuid": uuid,
        "parentUuid": None,
        "sessionId": "s-1",
        "timestamp": ts,
        "cwd": "/w",
        "version": "2.1.0",
        "message": {"role": typ, "content": text},
    }
    d.update(kw)
    return json.dumps(d)


def _asst(uuid, ts, mid, out=5, tool=None):
    content = [{"type": "text", "text": "ok"}] if tool is None else [{"type": "tool_use", "id": tool, "name": "Bash", "input": {"command": "ls"}}]
    return json.dumps(
        {
            "type": "assistant",
            "uuid": uuid,
            "parentUuid": None,
            "sessionId": "s-1",
            "timestamp": ts,
            "version": "2.1.0",
            "requestId": "req_" + mid,
            "message": {
                "id": mid,
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": content,
                "usage": {"input_tokens": 3, "output_tokens": out, "cache_read_input_tokens": 10, "cache_creation_input_tokens": 2},
            },
        }
    )


def test_malformed_inputs_lose_nothing(tmp_path):
    d = tmp_path / "projects" / "-w"
    d.mkdir(parents=True)
    big = "x" * (50 * 1024 * 1024)
    good1 = _line("u1", "2026-01-01T00:00:00.000Z", "first")
    good2 = _asst("u2", "2026-01-01T00:00:01.000Z", "msg_1")
    lines = [
        good1,
        "{not json",
        "[1, 2]",
        '{"type": 5, "uuid": "u9"}',
        '{"type": "user", "uuid": "u10", "message": "a string"}',
        '{"type": "brand-new-type", "uuid": "u11", "timestamp": "2026-01-01T00:00:02.000Z", "sessionId": "s-1", "novel": {"a": 1}}',
        _line("u12", "2026-01-01T00:00:03.000Z", big),
        good2,
    ]
    f = d / "s-1.jsonl"
    with open(f, "wb") as fh:
        for ln in lines:
            fh.write(ln.encode() + b"\n")
        fh.write(b'{"type": "user", "uuid": "bad-utf8", "message": {"role": "user", "content": "\xff\xfe"}}\n')
        fh.write(b"   \n\n")
        fh.write(b'{"type": "user", "uuid": "u13", "message": {"role": "us')  # half-written last line
    (d / "empty.jsonl").write_bytes(b"")
    (d / "blank.jsonl").write_bytes(b"  \n\t\n")
    wh = tmp_path / "wh"
    s = ingest([str(d)], wh, jobs=1, agent="claude")
    assert s.files_failed == 0
    con = connect(wh)
    rej = {r[0]: r[1] for r in con.execute("SELECT line_no, reason FROM rejects ORDER BY line_no").fetchall()}
    assert rej[2].startswith("invalid JSON")
    assert rej[3] == "not a JSON object (got list)"
    assert rej[4] == "field 'type' has wrong type int"
    assert rej[5] == "field 'message' of a user line has wrong type str"
    assert rej[9] == "invalid UTF-8"
    assert rej[12].startswith("truncated last line")
    assert set(rej) == {2, 3, 4, 5, 9, 12}
    raw = con.execute("SELECT raw_text FROM rejects WHERE line_no = 2").fetchone()[0]
    assert raw == "{not json"
    # the good lines around them are ingested
    kinds = dict(con.execute("SELECT line_no, kind FROM events WHERE source_file LIKE '%s-1.jsonl'").fetchall())
    assert kinds[1] == "user_prompt" and kinds[6] == "unknown" and kinds[7] == "user_prompt" and kinds[8] == "assistant_text"
    extra = con.execute("SELECT extra FROM events WHERE line_no = 6").fetchone()[0]
    assert json.loads(extra)["novel"] == {"a": 1}
    size, tb = con.execute("SELECT length(text), text_bytes FROM events WHERE line_no = 7").fetchone()
    assert tb == 50 * 1024 * 1024 and size <= 32 * 1024
    acc = con.execute("SELECT path, lines_total, lines_ingested, lines_duplicate, lines_rejected FROM files ORDER BY path").fetchall()
    by = {Path(p).name: r for p, *r in acc}
    assert by["s-1.jsonl"] == [10, 4, 0, 6]  # 10 non-blank lines: 4 ingested, 6 rejected
    assert by["empty.jsonl"] == [0, 0, 0, 0]
    assert by["blank.jsonl"] == [0, 0, 0, 0]


def test_incremental_unchanged_and_append(tmp_path):
    d = tmp_path / "projects" / "-w"
    d.mkdir(parents=True)
    f = d / "s-1.jsonl"
    other = d / "s-2.jsonl"
    f.write_text(_line("u1", "2026-01-01T00:00:00.000Z") + "\n" + _asst("u2", "2026-01-01T00:00:01.000Z", "m1", tool="t1") + "\n")
    other.write_text(_line("v1", "2026-01-02T00:00:00.000Z", sessionId="s-2") + "\n")
    wh = tmp_path / "wh"
    s1 = ingest([str(d)], wh, jobs=1)
    assert s1.files_parsed == 2
    snap1 = json.loads((wh / "_snapshot.json").read_text())
    s2 = ingest([str(d)], wh, jobs=1)
    assert s2.files_parsed == 0 and s2.files_unchanged == 2
    assert json.loads((wh / "_snapshot.json").read_text())["version"] == snap1["version"]
    # append: the tool result and a second response
    with open(f, "a") as fh:
        fh.write(
            json.dumps(
                {
                    "type": "user",
                    "uuid": "u3",
                    "sessionId": "s-1",
                    "timestamp": "2026-01-01T00:00:04.000Z",
                    "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "Exit code 2\nboom", "is_error": True}]},
                }
            )
            + "\n"
        )
        fh.write(_asst("u4", "2026-01-01T00:00:05.000Z", "m2", out=7) + "\n")
    s3 = ingest([str(d)], wh, jobs=1)
    assert s3.files_parsed == 1 and s3.files_appended == 1 and s3.lines_total == 2
    con = connect(wh)
    assert con.execute("SELECT count(*), sum(output_tokens) FROM llm_calls").fetchone() == (2, 12)
    st, code, name = con.execute("SELECT status, exit_code, tool_name FROM tool_calls").fetchone()
    assert (st, code, name) == ("error", 2, "Bash")  # paired across the append boundary
    total, ing = con.execute("SELECT lines_total, lines_ingested FROM files WHERE path LIKE '%s-1.jsonl'").fetchone()
    assert (total, ing) == (4, 4)


def test_truncated_last_line_is_reread_when_completed(tmp_path):
    d = tmp_path / "p"
    d.mkdir()
    f = d / "s-1.jsonl"
    full = _asst("u2", "2026-01-01T00:00:01.000Z", "m1")
    f.write_text(_line("u1", "2026-01-01T00:00:00.000Z") + "\n" + full[:40])
    wh = tmp_path / "wh"
    ingest([str(d)], wh, jobs=1)
    con = connect(wh)
    assert con.execute("SELECT lines_total, lines_rejected FROM files").fetchone() == (2, 1)
    con.close()
    f.write_text(_line("u1", "2026-01-01T00:00:00.000Z") + "\n" + full + "\n")
    s = ingest([str(d)], wh, jobs=1)
    assert s.files_appended == 1
    con = connect(wh)
    assert con.execute("SELECT lines_total, lines_ingested, lines_rejected FROM files").fetchone() == (2, 2, 0)
    assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM llm_calls").fetchone()[0] == 1


def _table_dump(wh):
    con = connect(wh)
    out = {}
    for t in ("events", "llm_calls", "tool_calls", "sessions", "rejects"):
        cols = [c[0] for c in con.execute(f"DESCRIBE {t}").fetchall()]
        order = ", ".join(f'"{c}"' for c in cols if c not in ("ingested_at",))
        out[t] = con.execute(f"SELECT {order} FROM {t} ORDER BY ALL").fetchall()
    con.close()
    return out


def test_ingesting_twice_yields_identical_tables(tmp_path, claude_samples):
    src = claude_samples / "claude-code-log__Users-dain-workspace-JSSoundRecorder__7acd37a8-2745-4b58-a8a9-46164b22ad9e.jsonl"
    a, b = tmp_path / "a", tmp_path / "b"
    ingest([str(src)], a, jobs=1)
    ingest([str(src)], b, jobs=1)
    ingest([str(src)], b, jobs=1)  # unchanged second run on b
    assert _table_dump(a) == _table_dump(b)


def test_killed_ingest_leaves_previous_warehouse_readable(tmp_path, monkeypatch):
    d = tmp_path / "p"
    d.mkdir()
    (d / "s-1.jsonl").write_text(_line("u1", "2026-01-01T00:00:00.000Z") + "\n")
    wh = tmp_path / "wh"
    ingest([str(d)], wh, jobs=1)
    before = _table_dump(wh)
    (d / "s-2.jsonl").write_text(_line("v1", "2026-01-02T00:00:00.000Z", sessionId="s-2") + "\n")
    from tracelab.store import derive

    def boom(*a, **k):
        raise KeyboardInterrupt("killed mid-ingest")

    monkeypatch.setattr(derive, "rebuild", boom)
    with pytest.raises(Aborted):  # Ctrl-C in any phase: "Aborted", the previous snapshot intact
        ingest([str(d)], wh, jobs=1)
    assert _table_dump(wh) == before  # new event parts exist on disk but are not published
    monkeypatch.undo()
    s = ingest([str(d)], wh, jobs=1)
    assert s.files_parsed == 1
    con = connect(wh)
    assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 2
    # orphans of the killed run were garbage-collected
    # (parts the last commit superseded stay for readers of the previous snapshot, as `retired`)
    snap = json.loads((wh / "_snapshot.json").read_text())
    live = {p for files in snap["tables"].values() for p in files}
    on_disk = {p.relative_to(wh).as_posix() for p in wh.rglob("*.parquet")}
    assert on_disk == live | set(snap["retired"]) and not live & set(snap["retired"])


def test_concurrent_ingest_is_refused(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    with wh.lock():
        with pytest.raises(WarehouseBusy, match="locked by another tracelab ingest"):
            ingest([], wh.root, jobs=1)


def test_date_partitions_prune(claude_wh):
    events_dirs = sorted(p.name for p in (claude_wh / "events").iterdir())
    assert len(events_dirs) > 5 and all(n.startswith("month=") for n in events_dirs)
    for f in (claude_wh / "events").rglob("*.parquet"):
        months = set(pq.read_table(f, columns=["month"]).column("month").to_pylist())
        assert months == {f.parent.name.split("=", 1)[1]}


def test_touched_but_unchanged_file_reparses_cleanly(tmp_path):
    """mtime changed, content not: a full re-parse that replaces the file's rows exactly."""
    d = tmp_path / "p"
    d.mkdir()
    f = d / "s-1.jsonl"
    f.write_text(_line("u1", "2026-01-01T00:00:00.000Z") + "\n" + _asst("u2", "2026-01-01T00:00:01.000Z", "m1") + "\n")
    wh = tmp_path / "wh"
    ingest([str(d)], wh, jobs=1)
    before = _table_dump(wh)
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    s = ingest([str(d)], wh, jobs=1)
    assert s.files_parsed == 1 and s.lines_duplicate == 0
    assert _table_dump(wh) == before


def test_whole_json_document_is_refused_with_a_reason(tmp_path):
    f = tmp_path / "message.json"
    f.write_text(json.dumps({"role": "assistant", "content": []}, indent=2))
    s = ingest([str(f)], tmp_path / "wh", jobs=1)
    assert s.files_parsed == 0
    assert len(s.skipped) == 1 and "single JSON dict document, not a JSONL session file" in s.skipped[0]


def test_directory_files_of_no_agent_are_skipped_not_counted(tmp_path, claude_samples):
    """Agents are detected by the parser processes; a file that matches none is reported as
    skipped (an empty one silently), is not an input, and is kept in the manifest with
    ``status = 'unrecognised'``; a run that only finds the same ones again commits nothing."""
    d = tmp_path / "mixed"
    d.mkdir()
    src = sorted(claude_samples.rglob("*.jsonl"))[0]
    shutil.copyfile(src, d / "a.jsonl")
    (d / "notes.jsonl").write_text('{"hello": "world"}\n')
    (d / "empty.jsonl").write_text("")
    wh = tmp_path / "wh"
    s = ingest([str(d)], wh, jobs=1)
    assert s.files_seen == 1 and s.files_parsed == 1 and s.agents == {"claude": 1}
    assert s.bytes_parsed == src.stat().st_size
    assert s.skipped == [f"{d / 'notes.jsonl'}: content matches no known agent format"]
    version = json.loads((wh / "_snapshot.json").read_text())["version"]
    (d / "more.jsonl").write_text('{"still": "not a session"}\n')
    s = ingest([str(d)], wh, jobs=1, use_cache=False)
    assert s.files_parsed == 0 and s.files_unchanged == 1 and s.files_seen == 1 and len(s.skipped) == 2
    assert s.skipped_by_reason == {"unrecognised format": 2}
    events = json.loads((wh / "_snapshot.json").read_text())["tables"]["events"]
    assert json.loads((wh / "_snapshot.json").read_text())["version"] == version + 1  # the manifest only
    con = tracelab.connect(wh)
    rows = con.execute("SELECT path, status, reason FROM files WHERE status <> 'ok' ORDER BY path").fetchall()
    con.close()
    assert rows == [
        (str(d / "more.jsonl"), "unrecognised", "content matches no known agent format"),
        (str(d / "notes.jsonl"), "unrecognised", "content matches no known agent format"),
    ]
    s = ingest([str(d)], wh, jobs=1, use_cache=False)
    assert len(s.skipped) == 2 and json.loads((wh / "_snapshot.json").read_text())["version"] == version + 1  # nothing new: no commit
    assert json.loads((wh / "_snapshot.json").read_text())["tables"]["events"] == events
    assert s.rows["events"] > 0


def test_summary_times_each_step_and_the_cli_shows_them(tmp_path, claude_samples):
    from click.testing import CliRunner

    from tracelab.cli import cli

    d = tmp_path / "in"
    d.mkdir()
    for f in sorted(claude_samples.rglob("*.jsonl"))[:3]:
        shutil.copyfile(f, d / f.name)
    steps = []
    s = ingest([str(d)], tmp_path / "wh", jobs=1, progress=lambda done, total, step: steps.append(step))
    assert list(s.phases) == ["list", "parse", "write", "commit", "derive", "failures", "compact", "index"]
    assert all(v >= 0 for v in s.phases.values()) and sum(s.phases.values()) <= s.seconds + 0.01
    assert [x for x in steps if x] == [
        "writing Parquet parts",
        "deriving llm_calls, tool_calls, sessions",
        "clustering failures",
        "merging small parts",
        "indexing new parts for search",
        "committing",
    ]
    (d / "more.jsonl").write_bytes(sorted(claude_samples.rglob("*.jsonl"))[3].read_bytes())
    out = CliRunner().invoke(cli, ["ingest", str(d), "-w", str(tmp_path / "wh"), "-q"])
    assert out.exit_code == 0, out.output
    assert "steps      list " in out.output and " derive " in out.output and "files      4 found; 1 parsed" in out.output


def test_prefix_fingerprints_new_and_legacy(tmp_path):
    from tracelab.ingest.plan import _legacy_fingerprint, fingerprint, prefix_unchanged

    f = tmp_path / "s.jsonl"
    f.write_bytes(b"".join(b'{"n": %d}\n' % i for i in range(50_000)))
    n = f.stat().st_size - 100
    new, old = fingerprint(str(f), n), _legacy_fingerprint(str(f), n)
    assert new.startswith("sha256:") and new != fingerprint(str(f), n - 1)
    assert prefix_unchanged(str(f), n, new) and prefix_unchanged(str(f), n, old)
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 1  # one bit flipped in the middle of the ingested part
    f.write_bytes(bytes(data))
    assert not prefix_unchanged(str(f), n, new) and not prefix_unchanged(str(f), n, old)


def test_a_value_too_large_for_its_column_fails_only_its_file(tmp_path, claude_samples):
    """Rows of a whole batch are converted at once; one file whose token count does not fit
    int64 must not take the other files of its batch (or the ingest) down with it."""
    d = tmp_path / "in"
    d.mkdir()
    good = sorted(claude_samples.rglob("*.jsonl"))[:2]
    for f in good:
        shutil.copyfile(f, d / f.name)
    huge = json.loads(_asst("u2", "2026-01-01T00:00:01.000Z", "m1"))
    huge["message"]["usage"] = {"input_tokens": 2**70, "output_tokens": 1}
    (d / "big.jsonl").write_text(_line("u1", "2026-01-01T00:00:00.000Z") + "\n" + json.dumps(huge) + "\n")
    s = ingest([str(d)], tmp_path / "wh", jobs=1)
    assert s.files_parsed == 2 and s.files_failed == 1
    assert len(s.errors) == 1 and s.errors[0].startswith(f"{d / 'big.jsonl'}: OverflowError")
    con = connect(tmp_path / "wh")
    got = dict(con.execute("SELECT source_file, count(*) FROM events GROUP BY 1").fetchall())
    assert set(got) == {str((d / f.name).resolve()) for f in good}
    con.close()


def test_new_derivation_rebuilds_derived_tables_without_reparsing(tmp_path, claude_samples):
    """A warehouse derived by an older tracelab (another derive stamp, here one without the
    stamp at all) gets its derived tables rebuilt by the next ingest, even with no new data."""
    d = tmp_path / "in"
    d.mkdir()
    for f in sorted(claude_samples.rglob("*.jsonl"))[:3]:
        shutil.copyfile(f, d / f.name)
        os.utime(d / f.name, (1_767_225_600, 1_767_225_600))
    os.utime(d, (1_767_225_600, 1_767_225_600))  # old inputs: the stat cache is written, whatever the machine's speed
    wh = tmp_path / "wh"
    ingest([str(d)], wh, jobs=1)
    assert (wh / "_unchanged.json").is_file()  # so the next ingest must see past it to the missing derive stamp
    before = _table_dump(wh)
    snap_path = wh / "_snapshot.json"
    doc = json.loads(snap_path.read_text())
    assert doc["extra"]["derive"]["stamp"]
    del doc["extra"]["derive"]
    old_sessions = doc["tables"]["sessions"]
    snap_path.write_text(json.dumps(doc))
    # no stat cache: on a slow machine the first ingest outlives the cache's racy window and
    # records one, which (keyed on the snapshot version edited above) would answer this call
    s = ingest([str(d)], wh, jobs=1, use_cache=False)
    assert s.rederived and s.files_parsed == 0 and s.files_unchanged == 3
    doc2 = json.loads(snap_path.read_text())
    assert doc2["version"] == doc["version"] + 1 and doc2["extra"]["derive"]["stamp"]
    assert doc2["tables"]["sessions"] != old_sessions and doc2["tables"]["events"] == doc["tables"]["events"]
    assert _table_dump(wh) == before
    again = ingest([str(d)], wh, jobs=1, use_cache=False)
    assert not again.rederived and json.loads(snap_path.read_text())["version"] == doc2["version"]


def test_no_paths_discovers_all_three_default_locations(tmp_path, monkeypatch, claude_samples):
    from conftest import SAMPLES

    cl = tmp_path / "claude" / "projects" / "-p"
    cx = tmp_path / "codex" / "sessions" / "2026" / "03" / "21"
    pi = tmp_path / "pi" / "sessions" / "--p--"
    for d in (cl, cx, pi):
        d.mkdir(parents=True)
    os.symlink(claude_samples / "claude-code-log__Users-dain-workspace-JSSoundRecorder__7acd37a8-2745-4b58-a8a9-46164b22ad9e.jsonl", cl / "7acd37a8.jsonl")
    os.symlink(SAMPLES / "codex" / "tracelab-uwsyfi__codex_trace.jsonl", cx / "rollout-2026-03-21T10-06-00-abc.jsonl")
    os.symlink(SAMPLES / "pi" / "agent-sessions__pi_small.jsonl", pi / "2026_x.jsonl")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    monkeypatch.setenv("PI_AGENT_DIR", str(tmp_path / "pi"))
    s = ingest([], tmp_path / "wh", jobs=1)
    assert s.agents == {"claude": 1, "codex": 1, "pi": 1}
    assert {(x["agent"], x["files"]) for x in s.sources} >= {("claude", 1), ("codex", 1), ("pi", 1)}


def test_every_declared_table_has_a_view_even_when_empty(claude_wh):
    from tracelab.catalog import known_schemas

    con = connect(claude_wh)
    for name, schema in known_schemas().items():
        cols = [r[0] for r in con.execute(f'DESCRIBE "{name}"').fetchall()]
        assert cols == schema.names, name
    assert con.execute("SELECT count(*) FROM feedback").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM failure_clusters").fetchone()[0] > 0


def test_ingest_of_nothing_publishes_an_empty_warehouse_and_warns(tmp_path):
    """No session files: the warehouse still exists (queries answer with no rows) and the
    summary says on stderr that nothing was found; adding a file later ingests it as usual."""
    from click.testing import CliRunner

    from tracelab.cli import cli

    d = tmp_path / "in"
    d.mkdir()
    wh = tmp_path / "wh"
    runner = CliRunner()
    out = runner.invoke(cli, ["ingest", str(d), "-w", str(wh), "-q"])
    assert out.exit_code == 0, out.output
    assert "no session files found in the given paths" in out.stderr
    assert Warehouse(wh).exists
    res = runner.invoke(cli, ["sql", "SELECT count(*) AS n FROM sessions", "-w", str(wh), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [{"n": 0}]
    (d / "one.jsonl").write_text('{"type":"user","uuid":"u1","sessionId":"s1","timestamp":"2026-01-02T03:04:05Z","message":{"role":"user","content":"hi"}}\n')
    s = ingest([str(d)], wh, jobs=1)
    assert s.files_parsed == 1 and s.rows["sessions"] == 1


def test_summary_names_the_line_types_kept_as_unknown(tmp_path, claude_samples):
    """Format drift shows at ingest: the summary counts the lines kept as kind 'unknown' by
    agent and native type (what the events table holds), and an append reports only its own."""
    from tracelab.ingest.summary import IngestSummary

    d = tmp_path / "in"
    d.mkdir()
    for f in sorted(claude_samples.rglob("*.jsonl"))[:20]:
        shutil.copyfile(f, d / f.name)
    line = {"type": "brand_new_type", "uuid": "n1", "sessionId": "s-new", "timestamp": "2026-01-02T03:04:05Z", "payload": {"x": 1}}
    (d / "drift.jsonl").write_text(
        json.dumps({**line, "type": "user", "uuid": "u0", "message": {"role": "user", "content": "hi"}}) + "\n" + json.dumps(line) + "\n"
    )
    wh = tmp_path / "wh"
    s = ingest([str(d)], wh, jobs=1)
    con = connect(wh)
    try:
        held = con.execute("SELECT agent, coalesce(native_type, '(no type)'), count(*) FROM events WHERE kind = 'unknown' GROUP BY ALL").fetchall()
    finally:
        con.close()
    assert s.unknown_types == {a: {t: n for a2, t, n in held if a2 == a} for a in {a for a, _, _ in held}}
    assert s.unknown_types["claude"]["brand_new_type"] == 1
    assert "lines of types tracelab does not know yet, kept as kind 'unknown'" in "\n".join(s.text_lines()[0])
    with open(d / "drift.jsonl", "a") as fh:
        fh.write(json.dumps({**line, "uuid": "n2", "type": "another_new_type"}) + "\n")
    s2 = ingest([str(d)], wh, jobs=1)
    assert s2.unknown_types == {"claude": {"another_new_type": 1}}
    assert IngestSummary(warehouse="x").text_lines()[0] == [
        "warehouse  x",
        "files      0 found; 0 parsed (none parsed), 0 appended, 0 unchanged, 0 failed",
        "lines      0 read: 0 ingested, 0 duplicate, 0 rejected",
        "parsed     0.0 MB in 0.00s",
    ]
