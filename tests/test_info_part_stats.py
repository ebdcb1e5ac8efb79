"""`tracelab info` from the per-part counts each commit keeps (`_part_stats.json`,
tracelab.store.part_stats) must equal the SQL answer exactly: on every real sample, after
incremental ingests, after compaction, on a synthetic warehouse; and fall back to SQL whenever
the counts do not cover the snapshot (absent, corrupt, a part rewritten in place)."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from click.testing import CliRunner

from tests.conftest import SAMPLES, require_samples
from tracelab import info as I
from tracelab.cli import cli
from tracelab.store import part_stats
from tracelab.store.snapshot import WarehouseFiles


def _both(wh) -> tuple[dict | None, dict]:
    """(from the per-part counts or None, from SQL)."""
    return I._from_part_stats(WarehouseFiles(wh)), I._from_sql(wh, None)


def _same(wh) -> dict:
    counted, sql = _both(wh)
    assert counted is not None, "the per-part counts do not cover the snapshot"
    assert counted == sql
    # the JSON of `tracelab info --json` is the same text (key order, time zones, number types)
    assert json.dumps(counted, default=str) == json.dumps(sql, default=str)
    assert [type(v) for a in counted["agents"] for v in a.values()] == [type(v) for a in sql["agents"] for v in a.values()]
    assert [str(v) for a in counted["agents"] for v in a.values()] == [str(v) for a in sql["agents"] for v in a.values()]
    return counted


def _as_from_scratch(wh) -> None:
    """``_part_stats.json`` is byte for byte what a refresh of the same snapshot writes without
    any earlier counts (whatever order DuckDB's GROUP BY returned the groups in, either time)."""
    stats = wh / part_stats.STATS_FILE
    kept = stats.read_bytes()
    stats.unlink()
    part_stats.refresh(wh, WarehouseFiles(wh).snapshot())
    assert stats.read_bytes() == kept


def _ingest(paths, wh):
    from tracelab.pipeline import ingest

    summary = ingest([str(p) for p in paths], wh, jobs=1)
    assert summary.files_failed == 0, summary.errors
    return summary


@pytest.fixture(scope="module")
def all_samples(tmp_path_factory):
    """Every real sample (all agents, rejects, unknown types, skipped and unrecognised files)."""
    require_samples("claude-code")
    wh = tmp_path_factory.mktemp("all_samples") / "wh"
    _ingest([SAMPLES], wh)
    return wh


def test_counts_equal_sql_on_every_sample(all_samples, tmp_path):
    got = _same(all_samples)
    wh = tmp_path / "wh"
    shutil.copytree(all_samples, wh)
    _as_from_scratch(wh)
    assert {a["agent"] for a in got["agents"]} >= {"claude", "codex", "pi", "gemini", "copilot", "otel"}
    assert got["rejects"] and got["unknown_types"] and got["entries"]  # every section has rows to compare
    assert any(a["subagent_sessions"] for a in got["agents"])


def test_info_command_reads_no_parquet_and_prints_the_same(all_samples, tmp_path, monkeypatch):
    """`tracelab info` (text and --json) prints the same with and without the counts; with them
    it opens no DuckDB store."""
    runner = CliRunner()
    outs = [runner.invoke(cli, ["info", "-w", str(all_samples), *a]) for a in ([], ["--json"])]
    assert all(r.exit_code == 0 for r in outs), [r.output for r in outs]
    copy = tmp_path / "copy"
    shutil.copytree(all_samples, copy)
    (copy / part_stats.STATS_FILE).unlink()
    monkeypatch.chdir(tmp_path)
    sql_outs = [runner.invoke(cli, ["info", "-w", "copy", *a]) for a in ([], ["--json"])]
    assert [o.output.replace(str(copy), "W") for o in sql_outs] == [o.output.replace(str(all_samples), "W") for o in outs]

    import tracelab.store.connection as C

    def refuse(*a, **k):
        raise AssertionError("tracelab info opened a Store although the counts cover the snapshot")

    monkeypatch.setattr(C.Store, "__init__", refuse)
    assert runner.invoke(cli, ["info", "-w", str(all_samples), "--json"]).output == outs[1].output


def test_counts_follow_incremental_ingests_and_compaction(tmp_path):
    """Ingesting agent folders one after another (new parts each time, the manifest and the
    sessions rewritten), then compacting the small parts: the counts equal SQL after each
    commit, and only new parts are counted (earlier entries are kept as they were)."""
    dirs = ["claude-code", "codex", "pi", "claude-code-2.1"]
    for d in dirs:
        require_samples(d)
    wh = tmp_path / "wh"
    before: dict = {}
    for d in dirs:
        _ingest([SAMPLES / d], wh)
        _same(wh)
        _as_from_scratch(wh)
        entries = json.loads((wh / part_stats.STATS_FILE).read_text())["parts"]
        kept = {rel: e for rel, e in before.items() if rel in entries}
        assert all(entries[rel] == e for rel, e in kept.items())
        before = entries
    assert len(WarehouseFiles(wh).snapshot().tables["events"]) > len(dirs)
    res = CliRunner().invoke(cli, ["compact", "-w", str(wh), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["merged"], res.output  # parts were merged: new parts to count
    snap = WarehouseFiles(wh).snapshot()
    entries = json.loads((wh / part_stats.STATS_FILE).read_text())["parts"]
    assert set(entries) == {rel for t in part_stats.QUERIES for rel in snap.tables.get(t, [])}  # retired parts dropped
    _same(wh)
    _as_from_scratch(wh)


def test_counts_equal_sql_on_a_synthetic_warehouse(tmp_path):
    from tracelab.synth import generate

    corpus = tmp_path / "corpus"
    generate(corpus, sessions=6, seed=3, overwrite=True)
    wh = tmp_path / "wh"
    _ingest([corpus / a for a in ("claude", "codex", "pi")], wh)
    got = _same(wh)
    assert len(got["agents"]) == 3


def test_sql_answers_when_the_counts_do_not_cover_the_snapshot(all_samples, tmp_path):
    wh = tmp_path / "wh"
    shutil.copytree(all_samples, wh)
    want = I._from_sql(wh, None)
    stats = wh / part_stats.STATS_FILE
    good = stats.read_text()
    snap = WarehouseFiles(wh).snapshot()
    # absent, not JSON, of another format
    for text in (None, "{not json", json.dumps({"format": 99, "parts": {}})):
        stats.unlink(missing_ok=True)
        if text is not None:
            stats.write_text(text)
        assert I._from_part_stats(WarehouseFiles(wh)) is None
        assert I.warehouse_info(wh) == want
    # an entry missing, and a part whose size / mtime is not the one counted (rewritten in place)
    doc = json.loads(good)
    rel = snap.tables["events"][0]
    stats.write_text(json.dumps({**doc, "parts": {k: v for k, v in doc["parts"].items() if k != rel}}))
    assert I._from_part_stats(WarehouseFiles(wh)) is None
    stats.write_text(good)
    assert I._from_part_stats(WarehouseFiles(wh)) == want
    st = os.stat(wh / rel)
    os.utime(wh / rel, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert I._from_part_stats(WarehouseFiles(wh)) is None
    assert I.warehouse_info(wh) == want


def test_a_warehouse_without_counts_gets_them_at_its_next_commit(all_samples, tmp_path):
    """A warehouse written before the counts were kept: `info` answers by SQL; the next commit
    (here an ingest of one new file) counts every part, old ones included."""
    wh = tmp_path / "wh"
    shutil.copytree(all_samples, wh)
    (wh / part_stats.STATS_FILE).unlink()
    assert I._from_part_stats(WarehouseFiles(wh)) is None
    extra = tmp_path / "more" / "s.jsonl"
    extra.parent.mkdir()
    src = next(p for p in sorted((SAMPLES / "claude-code").rglob("*.jsonl")))
    extra.write_bytes(src.read_bytes().replace(b'"sessionId":"', b'"sessionId":"copy-'))
    _ingest([SAMPLES, extra.parent], wh)
    _same(wh)


def test_refresh_never_fails_a_commit(tmp_path, monkeypatch):
    """A part that cannot be counted leaves the counts to SQL; the commit itself succeeds."""
    require_samples("codex")
    monkeypatch.setattr(part_stats, "_count", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    wh = tmp_path / "wh"
    _ingest([SAMPLES / "codex"], wh)
    assert WarehouseFiles(wh).snapshot().version >= 1
    assert I._from_part_stats(WarehouseFiles(wh)) is None
    assert not list(wh.glob(f"{part_stats.STATS_FILE}*"))
    assert I.warehouse_info(wh)["agents"][0]["agent"] == "codex"
