"""``tracelab doctor`` finds what is wrong with a warehouse and repairs it: the repaired warehouse
equals a clean ingest of the same inputs, table for table (row digests of every table)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import clean_ingest, copy_samples
from tests.table_digest import table_digests
from tracelab import doctor, verify
from tracelab.cli import cli
from tracelab.pipeline import ingest

AGENTS = ("claude-code", "codex", "pi")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """A copy of the samples of three agents (both warehouses read the same paths)."""
    return copy_samples(tmp_path_factory, "doctor_inputs", AGENTS)


@pytest.fixture(scope="module")
def clean_wh(inputs, tmp_path_factory) -> Path:
    return clean_ingest(tmp_path_factory, "doctor_clean", [inputs])


@pytest.fixture(scope="module")
def clean(clean_wh) -> dict:
    return table_digests(clean_wh)


def _fresh(inputs: Path, tmp_path: Path) -> Path:
    wh = tmp_path / "wh"
    ingest([str(inputs)], wh, jobs=1)
    return wh


def _a_part(wh: Path, table: str) -> Path:
    snap = json.loads((wh / "_snapshot.json").read_text())
    return wh / sorted(snap["tables"][table])[0]


def test_truncated_snapshot_deleted_part_and_staging_are_repaired_to_a_clean_ingest(inputs, clean, clean_wh, tmp_path):
    wh = _fresh(inputs, tmp_path)
    _a_part(wh, "events").unlink()
    _a_part(wh, "tool_calls").unlink()
    text = (wh / "_snapshot.json").read_text()
    (wh / "_snapshot.json").write_text(text[: len(text) // 3])
    (wh / ".staging").mkdir()
    (wh / ".staging" / "b-0001.arrow").write_bytes(b"half a batch")
    (wh / "events" / "part-killed-0000.parquet.tmp").write_bytes(b"PAR1")
    (wh / "_snapshot.json.4242.tmp").write_text("{}")

    found = doctor.check(wh)
    kinds = {f.kind for f in found.findings}
    assert {"snapshot", "staging", "temp_file"} <= kinds and not found.healthy
    res = CliRunner().invoke(cli, ["doctor", "-w", str(wh)])
    assert res.exit_code == 3 and "_snapshot.json" in res.stdout and "--repair" in res.stdout

    res = CliRunner().invoke(cli, ["doctor", "-w", str(wh), "--repair", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["healthy"] and any(a.startswith("re-ingested") for a in out["actions"])
    assert table_digests(wh) == clean
    assert verify.compare(wh, clean_wh) == []  # row for row, every table (the check `tracelab verify` runs)
    assert not (wh / ".staging").exists() and not list(wh.rglob("*.tmp"))
    assert doctor.check(wh).healthy
    res = CliRunner().invoke(cli, ["verify", "--against", str(clean_wh), "-w", str(wh)])
    assert res.exit_code == 0, res.output


def test_missing_part_is_found_and_rebuilt_keeping_feedback(inputs, clean, tmp_path):
    wh = _fresh(inputs, tmp_path)
    from tracelab import feedback as F

    session_key = _first_session(wh)
    F.add_row(wh, f"session:{session_key}", "good-recovery", score=1.0, author="ana")
    labels = F.load(wh).drop("created_at").to_dicts()
    part = _a_part(wh, "llm_calls")
    part.unlink()
    found = doctor.check(wh)
    assert [f.kind for f in found.findings] == ["missing_part"] and part.name in found.findings[0].message
    # readers say so in one line instead of a DuckDB "No files found" traceback
    res = CliRunner().invoke(cli, ["sql", "select count(*) from llm_calls", "-w", str(wh)])
    assert res.exit_code == 3 and res.stderr.count("\n") == 1 and "missing" in res.stderr and "doctor" in res.stderr
    rep = doctor.repair(wh, jobs=1)
    assert rep.healthy and any("feedback" in a for a in rep.actions)
    assert F.load(wh).drop("created_at").to_dicts() == labels
    got = table_digests(wh)
    assert {t: v for t, v in got.items() if t != "feedback"} == {t: v for t, v in clean.items() if t != "feedback"}


def test_orphans_are_removed_without_a_rebuild(inputs, clean, tmp_path):
    wh = _fresh(inputs, tmp_path)
    orphan = wh / "events" / "month=2026-01" / "part-killed-0000.parquet"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(_a_part(wh, "events"), orphan)
    version = json.loads((wh / "_snapshot.json").read_text())["version"]
    found = doctor.check(wh)
    assert [f.kind for f in found.findings] == ["orphan"]
    rep = doctor.repair(wh)
    assert rep.healthy and rep.actions == ["removed events/month=2026-01/part-killed-0000.parquet"]
    assert not orphan.exists() and json.loads((wh / "_snapshot.json").read_text())["version"] == version
    assert table_digests(wh) == clean


def test_parts_kept_for_readers_of_older_snapshots_are_not_orphans(inputs, clean, tmp_path):
    """Parts an ingest superseded stay on disk (``retired``) for readers of the older snapshot:
    doctor neither reports nor removes them."""
    wh = tmp_path / "wh"
    ingest([str(inputs / AGENTS[0])], wh, jobs=1)
    ingest([str(inputs)], wh, jobs=1)  # rewrites the derived tables: the old parts are retired
    retired = json.loads((wh / "_snapshot.json").read_text())["retired"]
    assert retired and all((wh / rel).is_file() for rel in retired)
    assert doctor.check(wh).healthy
    rep = doctor.repair(wh)
    assert rep.healthy and rep.actions == [] and all((wh / rel).is_file() for rel in retired)


def test_manifest_that_does_not_add_up_is_reported(inputs, tmp_path):
    import pyarrow.parquet as pq

    wh = _fresh(inputs, tmp_path)
    part = _a_part(wh, "files")
    t = pq.read_table(part)
    t = t.set_column(t.schema.get_field_index("lines_ingested"), "lines_ingested", [[v + 1 for v in t.column("lines_ingested").to_pylist()]])
    pq.write_table(t, part)
    found = doctor.check(wh)
    assert found.findings and {f.kind for f in found.findings} == {"manifest"}


def test_doctor_on_a_missing_warehouse_is_one_line(tmp_path):
    res = CliRunner().invoke(cli, ["doctor", "-w", str(tmp_path / "nope")])
    assert res.exit_code == 3 and res.stderr.startswith("tracelab: no tracelab warehouse") and res.stderr.count("\n") == 1


def _first_session(wh: Path) -> str:
    import tracelab

    con = tracelab.connect(wh)
    try:
        return con.execute("SELECT session_key FROM sessions ORDER BY session_key LIMIT 1").fetchone()[0]
    finally:
        con.close()
