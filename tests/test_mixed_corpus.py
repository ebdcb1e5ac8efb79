"""A directory mixing all three agents (as a downloaded Hub "Agent Traces" dataset is) ingests
with no flags, and yields the same tables as ingesting each agent on its own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import SAMPLES

from tracelab.catalog import connect
from tracelab.pipeline import ingest

AGENTS = {"claude-code": "claude", "codex": "codex", "pi": "pi"}


def _dump(wh: Path) -> dict:
    con = connect(wh)
    out = {}
    for t in ("events", "llm_calls", "tool_calls", "sessions", "rejects"):
        cols = [c[0] for c in con.execute(f"DESCRIBE {t}").fetchall()]
        out[t] = con.execute("SELECT " + ", ".join(f'"{c}"' for c in cols) + f" FROM {t} ORDER BY ALL").fetchall()
    out["files"] = con.execute("SELECT path, agent, lines_total, lines_ingested, lines_duplicate, lines_rejected FROM files ORDER BY path").fetchall()
    con.close()
    return out


@pytest.fixture(scope="module")
def mixed_dir(tmp_path_factory):
    for d in AGENTS:
        if not (SAMPLES / d).is_dir():
            pytest.skip(f"shared samples missing: {SAMPLES / d}")
    mixed = tmp_path_factory.mktemp("mixed")
    # flatten every agent's JSONL files into one directory tree, names prefixed, no layout hints
    for d in AGENTS:
        for f in sorted((SAMPLES / d).rglob("*.jsonl")):
            rel = f.relative_to(SAMPLES / d)
            dest = mixed / "traces" / (d.replace("-", "_") + "__" + "__".join(rel.parts))
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(f, dest)
    return mixed


def test_mixed_directory_detects_every_agent_by_content(mixed_dir, tmp_path):
    s = ingest([str(mixed_dir)], tmp_path / "wh", jobs=1)
    assert s.files_failed == 0, s.errors
    expected = {a: len(list((SAMPLES / d).rglob("*.jsonl"))) for d, a in AGENTS.items()}
    con = connect(tmp_path / "wh")
    got = dict(con.execute("SELECT agent, count(*) FROM files GROUP BY 1").fetchall())
    assert got == expected
    # a file's agent follows its content, not its location
    for path, agent in con.execute("SELECT path, agent FROM files").fetchall():
        top = Path(path).relative_to(SAMPLES.resolve()).parts[0]  # stored paths are resolved; SAMPLES may be reached through a link
        assert AGENTS[top] == agent, path


def test_mixed_equals_each_agent_separately(mixed_dir, tmp_path):
    ingest([str(mixed_dir)], tmp_path / "mixed", jobs=1)
    for d in AGENTS:
        ingest([str(SAMPLES / d)], tmp_path / "separate", jobs=1)
    a, b = _dump(tmp_path / "mixed"), _dump(tmp_path / "separate")
    for table in a:
        assert a[table] == b[table], table


def test_parallel_workers_equal_one_process(mixed_dir, tmp_path, monkeypatch):
    """Two worker processes with many small batches (so resumed-session copies land in other
    batches than their originals) produce exactly the rows of one process parsing everything."""
    from tracelab.ingest import parse as engine
    from tracelab.ingest.stage import STAGING

    ingest([str(mixed_dir)], tmp_path / "serial", jobs=1)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    batches = engine.batches
    monkeypatch.setattr(engine, "batches", lambda tasks, jobs: batches(tasks, jobs, target_bytes=1 << 20, max_files=8))
    s = ingest([str(mixed_dir)], tmp_path / "parallel", jobs=2)
    assert s.files_failed == 0 and s.lines_duplicate > 0
    assert not (tmp_path / "parallel" / STAGING).exists()
    a, b = _dump(tmp_path / "serial"), _dump(tmp_path / "parallel")
    for table in a:
        assert a[table] == b[table], table
