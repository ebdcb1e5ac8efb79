"""tracelab.feedback: labels in the warehouse — targets, imports, SQL, re-ingest, CLI, reports."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import tracelab
from tracelab import failures as F
from tracelab import feedback as FB
from tracelab.cli import cli
from tracelab.feedback.table import feedback_id, parse_time
from tracelab.pipeline import ingest
from tracelab.store.warehouse import Warehouse, WarehouseBusy
from tracelab.synth import generate

AGENTS = ("claude", "codex", "pi")

# one worker builds the module's corpus once (make test runs -n 2 --dist loadgroup)
pytestmark = pytest.mark.xdist_group("feedback")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A generated corpus, ingested, with the failure tables built (read-only for tests)."""
    root = tmp_path_factory.mktemp("fb")
    corpus = root / "corpus"
    generate(corpus, sessions=3, seed=11)
    wh = root / "wh"
    s = ingest([str(corpus / a) for a in AGENTS], wh, jobs=1)
    assert s.files_failed == 0, s.errors
    F.build(wh)
    return corpus, wh


@pytest.fixture
def wh(base, tmp_path) -> Path:
    dst = tmp_path / "wh"
    shutil.copytree(base[1], dst)
    return dst


def _one(con, sql, params=None):
    return con.execute(sql, params or []).fetchone()


def _sample_targets(wh: Path) -> dict:
    con = tracelab.connect(wh)
    try:
        s = _one(con, "SELECT session_key, session_id FROM sessions WHERE NOT is_subagent ORDER BY session_key LIMIT 1")
        t = _one(con, "SELECT tool_call_key, tool_call_id, session_key FROM tool_calls WHERE status = 'error' ORDER BY tool_call_key LIMIT 1")
        e = _one(con, "SELECT event_key, session_key FROM events WHERE kind = 'user_prompt' ORDER BY event_key LIMIT 1")
    finally:
        con.close()
    c = F.load(wh).clusters.sort(["n_events", "cluster_id"], descending=[True, False]).row(0, named=True)
    return {"session": s, "call": t, "event": e, "cluster": c["cluster_id"]}


def test_add_resolves_every_kind_of_target_to_its_canonical_key(wh):
    t = _sample_targets(wh)
    ids = [
        FB.add(wh, t["session"][1], "bad-session", author="ana"),  # native session id, bare
        FB.add(wh, f"tool_call:{t['call'][1]}", "wrong-tool", score=0, author="ana"),  # native tool call id
        FB.add(wh, f"event:{t['event'][0]}", "clear-request", score=1.0, author="bo"),
        FB.add(wh, t["cluster"][:7], "check-first", note="Check before acting", source="model", author="judge-1"),  # prefix
    ]
    df = FB.load(wh)
    assert df.height == 4
    got = {(r["target_type"], r["target_key"], r["label"]) for r in df.to_dicts()}
    assert got == {
        ("session", t["session"][0], "bad-session"),
        ("tool_call", t["call"][0], "wrong-tool"),
        ("event", t["event"][0], "clear-request"),
        ("cluster", t["cluster"], "check-first"),
    }
    row = df.filter(pl.col("label") == "check-first").row(0, named=True)
    assert row["source"] == "model" and row["author"] == "judge-1" and row["note"] == "Check before acting"
    assert row["feedback_id"] == feedback_id("cluster", t["cluster"], "check-first", None, "Check before acting", "judge-1", "model")
    assert set(df["feedback_id"]) == set(ids)
    # the same statement again is the same row
    assert FB.add(wh, t["session"][1], "bad-session", author="ana") == ids[0]
    assert FB.load(wh).height == 4


def test_unknown_ambiguous_and_invalid_targets_are_refused(wh):
    t = _sample_targets(wh)
    before = Warehouse(wh).snapshot().version
    with pytest.raises(FB.FeedbackError, match="no session"):
        FB.add(wh, "session:no-such-session", "x")
    with pytest.raises(FB.FeedbackError, match="no session, event, tool call or failure cluster"):
        FB.add(wh, "nothing-like-this", "x")
    with pytest.raises(FB.FeedbackError, match="source"):
        FB.add(wh, f"cluster:{t['cluster']}", "x", source="robot")
    with pytest.raises(FB.FeedbackError, match="score"):
        FB.add(wh, f"cluster:{t['cluster']}", "x", score=float("nan"))
    with pytest.raises(FB.FeedbackError, match="label: required"):
        FB.add(wh, f"cluster:{t['cluster']}", "  ")
    # a one-character prefix matches several clusters
    with pytest.raises(FB.FeedbackError, match="ambiguous"):
        FB.add(wh, f"cluster:{t['cluster'][:1]}", "x")
    # without checks a typed key is stored as given; a bare key has no type
    FB.add(wh, "session:claude:not-ingested-yet", "later", check=False, author="ana")
    with pytest.raises(FB.FeedbackError, match="give its type"):
        FB.add(wh, "claude-ish", "x", check=False)
    assert FB.load(wh)["target_key"].to_list() == ["claude:not-ingested-yet"]
    assert Warehouse(wh).snapshot().version == before + 1


def test_import_csv_and_jsonl_then_join_in_sql(wh, tmp_path):
    t = _sample_targets(wh)
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text(
        "target,label,score,note,author,source,timestamp\n"
        f'cluster:{t["cluster"]},check-first,0,"Check it exists, then act",ana,human,2026-03-01T10:00:00Z\n'
        f'{t["session"][1]},bad-session,,"two\nlines",ana,,2026-03-01T11:00:00+01:00\n',
        encoding="utf-8",
    )
    jsonl_path = tmp_path / "labels.jsonl"
    jsonl_path.write_text(
        json.dumps(
            {
                "target_type": "tool_call",
                "target_key": t["call"][1],
                "label": "wrong-tool",
                "score": 0.25,
                "author": "gpt-judge",
                "source": "model",
                "created_at": 1772400000,
            }
        )
        + "\n\n"
        + json.dumps({"target_type": "event", "target_key": t["event"][0], "label": "clear-request", "comment": "fine"})
        + "\n",
        encoding="utf-8",
    )
    r1 = FB.import_file(wh, csv_path)
    r2 = FB.import_file(wh, jsonl_path, author="importer")
    assert (r1.added, r1.existing, r2.added, r2.existing) == (2, 0, 2, 0)
    # re-importing adds nothing
    again = FB.import_file(wh, csv_path)
    assert (again.added, again.existing, again.feedback_ids) == (0, 2, r1.feedback_ids)

    con = tracelab.connect(wh)
    try:
        rows = con.execute(
            """
            SELECT f.label, f.score, f.note, f.author, f.source, f.created_at, s.session_key AS sk
            FROM feedback f
            LEFT JOIN sessions s ON f.target_type = 'session' AND s.session_key = f.target_key
            ORDER BY f.label
            """
        ).fetchall()
        by_label = {r[0]: r for r in rows}
        assert set(by_label) == {"check-first", "bad-session", "wrong-tool", "clear-request"}
        assert by_label["bad-session"][2] == "two\nlines" and by_label["bad-session"][6] == t["session"][0]
        assert by_label["bad-session"][5].isoformat() == "2026-03-01T10:00:00+00:00"  # +01:00 → UTC
        assert by_label["check-first"][1:5] == (0.0, "Check it exists, then act", "ana", "human")
        assert by_label["wrong-tool"][1] == 0.25 and by_label["wrong-tool"][4] == "model"
        assert by_label["wrong-tool"][5].isoformat() == "2026-03-01T21:20:00+00:00"
        assert by_label["clear-request"][2:4] == ("fine", "importer")  # alias + default author
        # joins to the labelled things by their canonical keys
        n = _one(con, "SELECT count(*) FROM feedback f JOIN tool_calls t ON f.target_type = 'tool_call' AND t.tool_call_key = f.target_key")[0]
        m = _one(con, "SELECT count(*) FROM feedback f JOIN failure_clusters c ON f.target_type = 'cluster' AND c.cluster_id = f.target_key")[0]
        e = _one(con, "SELECT count(*) FROM feedback f JOIN events e ON f.target_type = 'event' AND e.event_key = f.target_key")[0]
        assert (n, m, e) == (1, 1, 1)
    finally:
        con.close()


def test_import_is_all_or_nothing_and_names_the_bad_lines(wh, tmp_path):
    t = _sample_targets(wh)
    version = Warehouse(wh).snapshot().version
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"target,label,score\ncluster:{t['cluster']},fine,1\nsession:nope,missing,1\ncluster:{t['cluster']},scored,high\n",
        encoding="utf-8",
    )
    with pytest.raises(FB.FeedbackError) as exc:
        FB.import_file(wh, bad)
    msg = str(exc.value)
    assert "2 invalid feedback record(s), nothing written" in msg
    assert "bad.csv:3: target 'nope'" in msg and "bad.csv:4: score: not a number: 'high'" in msg
    unknown = tmp_path / "typo.jsonl"
    unknown.write_text(json.dumps({"target": f"cluster:{t['cluster']}", "lable": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(FB.FeedbackError, match="typo.jsonl:1: unknown field 'lable'"):
        FB.import_file(wh, unknown)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"target": "x", "label": "y"}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(FB.FeedbackError, match="broken.jsonl:2: expected a JSON object"):
        FB.import_file(wh, broken)
    assert Warehouse(wh).snapshot().version == version
    assert FB.load(wh).height == 0


def test_labels_survive_reingest(base, tmp_path):
    corpus_src, wh_src = base
    # own copies: this test re-parses a source file
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_src, corpus)
    wh = tmp_path / "wh"
    assert ingest([str(corpus / a) for a in AGENTS], wh, jobs=1).files_failed == 0
    con = tracelab.connect(wh)
    try:
        ev_key, src = _one(con, "SELECT event_key, source_file FROM events WHERE kind = 'user_prompt' AND agent = 'claude' ORDER BY event_key LIMIT 1")
        sk = _one(con, "SELECT session_key FROM sessions WHERE agent = 'codex' ORDER BY session_key LIMIT 1")[0]
    finally:
        con.close()
    FB.add(wh, f"event:{ev_key}", "good-prompt", author="ana")
    FB.add(wh, f"session:{sk}", "slow", score=0.5, author="ana")
    before = FB.load(wh)
    # rewrite the labelled event's file (same bytes, new mtime): a full re-parse of it
    st = os.stat(src)
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    summary = ingest([str(corpus / a) for a in AGENTS], wh, jobs=1)
    assert summary.files_parsed == 1 and summary.files_failed == 0
    snap = Warehouse(wh).snapshot()
    assert snap.tables["feedback"], "the ingest commit dropped the feedback table"
    after = FB.load(wh)
    assert after.equals(before)
    con = tracelab.connect(wh)
    try:
        joined = con.execute(
            "SELECT f.label FROM feedback f JOIN events e ON f.target_type = 'event' AND e.event_key = f.target_key "
            "UNION ALL SELECT f.label FROM feedback f JOIN sessions s ON f.target_type = 'session' AND s.session_key = f.target_key ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert joined == [("good-prompt",), ("slow",)]


def test_writes_wait_for_the_warehouse_lock(wh):
    t = _sample_targets(wh)
    w = Warehouse(wh)
    held = threading.Event()
    release = threading.Event()

    def hold():
        with w.lock():
            held.set()
            release.wait(5)

    th = threading.Thread(target=hold)
    th.start()
    held.wait(5)
    try:
        with pytest.raises(WarehouseBusy):
            FB.add(wh, f"cluster:{t['cluster']}", "x", wait=0)
        threading.Timer(0.6, release.set).start()
        t0 = time.monotonic()
        FB.add(wh, f"cluster:{t['cluster']}", "after-wait", wait=10)
        assert time.monotonic() - t0 >= 0.4
    finally:
        release.set()
        th.join()
    assert FB.load(wh)["label"].to_list() == ["after-wait"]


def test_labelled_clusters_counts_direct_and_member_labels(wh):
    f = F.load(wh)
    top = f.clusters.sort(["n_events", "cluster_id"], descending=[True, False]).row(0, named=True)
    mem = f.members.filter((pl.col("cluster_id") == top["cluster_id"]) & pl.col("tool_call_key").is_not_null()).sort("member_key")
    assert mem.height >= 2
    FB.add(wh, f"cluster:{top['cluster_id']}", "check-first", score=0, author="ana", created_at="2026-01-01T00:00:00Z")
    FB.add(wh, f"tool_call:{mem['tool_call_key'][0]}", "wrong-tool", score=1, author="bo", created_at="2026-01-02T00:00:00Z")
    FB.add(wh, f"event:{mem['event_key'][1]}", "noisy", note="latest", author="cy", created_at="2026-01-03T00:00:00Z")
    FB.add(wh, "session:" + mem["session_key"][0], "session-level", author="cy")  # not a cluster label
    out = FB.labelled_clusters(wh, failures=f)
    assert out.height == 1
    r = out.row(0, named=True)
    assert r["cluster_id"] == top["cluster_id"] and r["name"] == top["name"] and r["n_events"] == top["n_events"]
    assert (r["n_labels"], r["n_cluster_labels"], r["n_member_labels"]) == (3, 1, 2)
    assert r["labels"] == ["check-first", "noisy", "wrong-tool"]
    assert r["mean_score"] == pytest.approx(0.5)
    assert (r["latest_label"], r["latest_note"], r["latest_author"]) == ("noisy", "latest", "cy")
    # window on the label time
    assert FB.labelled_clusters(wh, failures=f, until="2026-01-02")["n_labels"].to_list() == [1]
    assert FB.labelled_clusters(wh, failures=f, since="2030-01-01").height == 0


def test_parse_time_forms():
    assert parse_time("2026-03-01T10:00:00Z").isoformat() == "2026-03-01T10:00:00+00:00"
    assert parse_time("2026-03-01 12:00:00+02:00").isoformat() == "2026-03-01T10:00:00+00:00"
    assert parse_time("2026-03-01").isoformat() == "2026-03-01T00:00:00+00:00"
    assert parse_time(0).isoformat() == "1970-01-01T00:00:00+00:00"
    assert parse_time("1772400000.5").isoformat() == "2026-03-01T21:20:00.500000+00:00"
    with pytest.raises(FB.FeedbackError):
        parse_time("yesterday")


def test_cli_label_add_import_list(wh, tmp_path):
    t = _sample_targets(wh)
    runner = CliRunner()
    r = runner.invoke(
        cli, ["label", t["cluster"], "--label", "check-first", "--score", "0", "--note", "Check first", "--author", "ana", "-w", str(wh), "--json"]
    )
    assert r.exit_code == 0, r.output
    row = json.loads(r.output)
    assert (row["target_type"], row["target_key"], row["added"]) == ("cluster", t["cluster"], True)
    r = runner.invoke(cli, ["label", "add", t["cluster"], "--label", "check-first", "--score", "0", "--note", "Check first", "--author", "ana", "-w", str(wh)])
    assert r.exit_code == 0 and "already present" in r.output
    r = runner.invoke(cli, ["label", "--type", "session", "nope", "--label", "x", "-w", str(wh)])
    assert r.exit_code == 2 and "no session" in r.output
    p = tmp_path / "l.jsonl"
    p.write_text(json.dumps({"target": t["session"][1], "label": "bad-session"}) + "\n", encoding="utf-8")
    r = runner.invoke(cli, ["label", "import", str(p), "--source", "model", "--author", "judge", "-w", str(wh), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["added"] == 1
    r = runner.invoke(cli, ["label", "list", "-w", str(wh), "--json"])
    listed = json.loads(r.output)
    assert [(x["label"], x["source"], x["author"]) for x in sorted(listed, key=lambda x: x["label"])] == [
        ("bad-session", "model", "judge"),
        ("check-first", "human", "ana"),
    ]
    r = runner.invoke(cli, ["label", "list", "--type", "cluster", "-w", str(wh), "--json"])
    assert [x["label"] for x in json.loads(r.output)] == ["check-first"]
    assert runner.invoke(cli, ["label", "--help"]).exit_code == 0
