"""Compaction (tracelab.store.compact): merging small parts changes which files hold the rows,
never the rows; the failure tables stay current and later ingests stay incremental."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLES

from tracelab.cli import cli
from tracelab.failures import api as failures_api
from tracelab.pipeline import ingest
from tracelab.store import compact as C
from tracelab.store.warehouse import Warehouse

KEYS = {
    "events": "event_key",
    "llm_calls": "llm_call_key",
    "tool_calls": "tool_call_key",
    "sessions": "session_key",
    failures_api.MEMBERS_TABLE: "member_key",
    failures_api.CLUSTERS_TABLE: "cluster_id",
}


def _contents(wh: Path) -> dict:
    w = Warehouse(wh)
    return {t: w.read_table(t).sort_by(k) for t, k in KEYS.items()}


def _month_parts(wh: Path, table: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for rel in Warehouse(wh).snapshot().tables[table]:
        m = Path(rel).parent.name
        out[m] = out.get(m, 0) + 1
    return out


@pytest.fixture(scope="module")
def _fragmented_once(tmp_path_factory) -> Path:
    """A warehouse of the real Claude and Pi samples fed one file group per ingest (and the
    ingest's own compaction off), so months hold many small parts."""
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES}")
    files = sorted(f for d in ("claude-code", "pi") for f in (SAMPLES / d).rglob("*.jsonl"))
    root = tmp_path_factory.mktemp("fragmented")
    corpus, wh = root / "corpus", root / "wh"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(C, "MIN_PARTS", 10**9)
        for i in range(0, len(files), 12):
            for f in files[i : i + 12]:
                dest = corpus / f.relative_to(SAMPLES)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, dest)
            assert ingest([str(corpus)], wh, jobs=1).files_failed == 0
    assert max(_month_parts(wh, "events").values()) >= 4
    return wh


@pytest.fixture
def fragmented(_fragmented_once, tmp_path) -> Path:
    wh = tmp_path / "wh"
    shutil.copytree(_fragmented_once, wh)
    return wh


def test_compact_keeps_every_row(fragmented, tmp_path):
    before = _contents(fragmented)
    out = CliRunner().invoke(cli, ["compact", "-w", str(fragmented), "--json"])
    assert out.exit_code == 0, out.output
    res = json.loads(out.output)
    assert res["merged"]["events"] > 0 and res["parts_after"]["events"] < res["parts_before"]["events"]
    # every month now holds at most one small part
    assert max(_month_parts(fragmented, "events").values()) == 1
    after = _contents(fragmented)
    for t in KEYS:
        assert after[t].equals(before[t]), t
    snap = Warehouse(fragmented).snapshot()
    assert failures_api.failures_current(snap)  # same rows in fewer files: still current
    # nothing left to merge: a second run changes nothing
    again = json.loads(CliRunner().invoke(cli, ["compact", "-w", str(fragmented), "--json"]).output)
    assert not any(again["merged"].values()) and Warehouse(fragmented).snapshot().version == snap.version


def test_later_ingests_stay_incremental(fragmented, monkeypatch):
    CliRunner().invoke(cli, ["compact", "-w", str(fragmented)])
    calls = []
    monkeypatch.setattr(failures_api, "rebuild_in_snapshot", lambda *a: calls.append("full"))
    src = next(f for f in sorted((SAMPLES / "codex").rglob("*.jsonl")) if f.stat().st_size > 10_000)
    shutil.copyfile(src, fragmented.parent / "new-codex.jsonl")
    s = ingest([str(fragmented.parent / "new-codex.jsonl")], fragmented, jobs=1)
    assert s.derived.startswith("incremental: ") and calls == []


def test_ingest_compacts_on_its_own(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "MIN_PARTS", 3)
    files = sorted((SAMPLES / "claude-code").rglob("*.jsonl"))
    if not files:
        pytest.skip("no samples")
    corpus, wh = tmp_path / "corpus", tmp_path / "wh"
    counts = []
    for i in range(0, 40, 8):
        for f in files[i : i + 8]:
            dest = corpus / f.relative_to(SAMPLES)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
        s = ingest([str(corpus)], wh, jobs=1)
        assert "compact" in s.phases
        counts.append(max(_month_parts(wh, "events").values()))
    assert max(counts) < 3  # merged whenever a month reached 3 small parts
    assert any(re.search(r"-c\d{4}-", rel) for rel in Warehouse(wh).snapshot().tables["events"])  # a merged part
    cold = tmp_path / "cold"
    ingest([str(corpus)], cold, jobs=1)
    for t in ("llm_calls", "tool_calls", "sessions"):
        got, want = _contents(wh)[t], _contents(cold)[t]
        assert got.column(KEYS[t]).equals(want.column(KEYS[t])), t


def test_compact_refuses_a_missing_warehouse(tmp_path):
    out = CliRunner().invoke(cli, ["compact", "-w", str(tmp_path / "nope")])
    assert out.exit_code != 0 and "no tracelab warehouse" in out.output
