"""``tracelab doctor --repair`` rolls back to the last good snapshot (issue 15, item 5).

Every commit keeps the snapshot it replaces (``_snapshot.prev.json``) and that snapshot's parts
until the next commit. A warehouse whose current snapshot is lost, corrupt or lists a missing
part is rolled back to it: the result equals a clean ingest of the inputs the previous snapshot
covered, and after the incremental catch-up (doctor's own, or the user's next ingest) a clean
ingest of all inputs, row for row (``tracelab.verify.compare``, every table)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import clean_ingest, copy_samples
from tracelab import doctor, verify
from tracelab.cli import cli
from tracelab.pipeline import ingest
from tracelab.store import snapshot as snapshot_module
from tracelab.store.snapshot import PREVIOUS, SNAPSHOT

#: the first ingest reads FIRST; the second (the commit that gets lost) all of them
FIRST = "codex"
AGENTS = ("codex", "claude-code-2.1", "pi")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    return copy_samples(tmp_path_factory, "rollback_inputs", AGENTS)


@pytest.fixture(scope="module")
def clean_first(inputs, tmp_path_factory) -> Path:
    return clean_ingest(tmp_path_factory, "rollback_clean_first", [inputs / FIRST])


@pytest.fixture(scope="module")
def clean_all(inputs, tmp_path_factory) -> Path:
    return clean_ingest(tmp_path_factory, "rollback_clean_all", [inputs])


@pytest.fixture
def two_commits(inputs, tmp_path, monkeypatch) -> Path:
    """A warehouse of two ingests (FIRST, then everything), with no grace period for retired
    parts: only the rollback rule keeps the first snapshot's parts on disk."""
    monkeypatch.setattr(snapshot_module, "GRACE_SECONDS", 0.0)
    wh = tmp_path / "wh"
    ingest([str(inputs / FIRST)], wh, jobs=1)
    ingest([str(inputs)], wh, jobs=1)
    return wh


def _snap(wh: Path, name: str = SNAPSHOT) -> dict:
    return json.loads((wh / name).read_text())


def _only_current(wh: Path, table: str) -> Path:
    """A part the current snapshot lists and the previous one does not (written by the last commit)."""
    cur, prev = _snap(wh), _snap(wh, PREVIOUS)
    new = sorted(set(cur["tables"][table]) - set(prev["tables"].get(table, [])))
    assert new, f"the last commit wrote no {table} part"
    return wh / new[0]


def test_the_previous_snapshot_and_its_parts_survive_the_commit_after_it(two_commits, clean_first):
    prev = _snap(two_commits, PREVIOUS)
    parts = [rel for rels in prev["tables"].values() for rel in rels]
    assert parts and all((two_commits / rel).is_file() for rel in parts)
    assert prev["version"] == _snap(two_commits)["version"] - 1
    # parts kept for the rollback are neither orphans to doctor nor removed by a repair
    assert doctor.check(two_commits).healthy
    rep = doctor.repair(two_commits)
    assert rep.healthy and rep.actions == [] and all((two_commits / rel).is_file() for rel in parts)


def test_a_corrupt_snapshot_is_rolled_back_to_a_clean_ingest_of_what_it_covered_then_caught_up(two_commits, inputs, clean_first, clean_all):
    """The corrupt snapshot's manifest is unreadable, so what its commit added is unknown to
    doctor: the rolled-back warehouse equals a clean ingest of the first ingest's inputs, and the
    user's next ingest brings it to a clean ingest of all of them."""
    wh = two_commits
    text = (wh / SNAPSHOT).read_text()
    (wh / SNAPSHOT).write_text(text[: len(text) // 3])
    (wh / ".staging").mkdir()
    (wh / ".staging" / "b-0001.arrow").write_bytes(b"half a batch")
    (wh / f"{SNAPSHOT}.4242.tmp").write_text("{}")
    (wh / f"{PREVIOUS}.77.tmp").write_text("{")  # a commit killed while keeping the previous one

    found = doctor.check(wh)
    assert {"snapshot", "staging", "temp_file"} <= {f.kind for f in found.findings}
    assert any("--repair rolls back" in n for n in found.notes)
    res = CliRunner().invoke(cli, ["doctor", "-w", str(wh), "--repair"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    rolled = [x for x in lines if x.startswith("repaired   rolled back to the previous snapshot (version 1, committed ")]
    assert len(rolled) == 1 and "repaired   removed .staging/" in lines and f"repaired   removed {SNAPSHOT}.4242.tmp" in lines
    assert f"repaired   removed {PREVIOUS}.77.tmp" in lines
    assert not any("re-ingested" in x and "lines added" in x and ", 0 lines added)" not in x for x in lines)  # nothing new to read
    assert verify.compare(wh, clean_first) == []
    assert doctor.check(wh).healthy and not (wh / ".staging").exists() and not list(wh.glob("*.tmp"))
    assert _snap(wh)["version"] > 2  # above the lost one's: nothing keyed on the version takes one for the other

    ingest([str(inputs)], wh, jobs=1)
    assert verify.compare(wh, clean_all) == []


def test_a_missing_part_of_the_last_commit_is_rolled_back_and_caught_up_to_a_clean_ingest(two_commits, clean_all):
    """The current snapshot reads, so doctor knows every input it covered: roll back, then one
    incremental ingest of them; the result equals a clean ingest of all inputs. Feedback
    labels given after the previous snapshot are kept."""
    wh = two_commits
    from tracelab import feedback as F

    session_key = _first_session(wh)
    F.add_row(wh, f"session:{session_key}", "good-recovery", score=1.0, author="ana")
    first_labels = F.load(wh).drop("created_at").to_dicts()
    # the label commit made the two-ingest snapshot the previous one: lose a part of it that
    # the first ingest's snapshot did not have, through one more commit on top
    F.add_row(wh, f"session:{session_key}", "second-look", score=0.5, author="bo")
    assert len(F.load(wh)) == 2
    part = _only_current(wh, "feedback")
    events = sorted(set(_snap(wh)["tables"]["events"]))
    assert events == sorted(set(_snap(wh, PREVIOUS)["tables"]["events"]))
    # a part only the current snapshot lists is gone (its labels cannot be kept): roll back
    part.unlink()
    found = doctor.check(wh)
    assert [f.kind for f in found.findings] == ["missing_part"]
    rep = doctor.repair(wh, jobs=1)
    assert rep.healthy, rep.to_dict()
    assert rep.actions[0].startswith("rolled back to the previous snapshot") and rep.actions[1].startswith("re-ingested ")
    assert len(rep.actions) == 2
    got = F.load(wh).drop("created_at").to_dicts()
    assert got == first_labels  # the label of the lost commit went with its part
    assert verify.compare(wh, clean_all, tables=[t for t in _snap(clean_all)["tables"] if t not in ("feedback", "search_index")]) == []
    assert doctor.check(wh).healthy


def test_a_deleted_events_part_of_the_lost_commit_rolls_back_and_reingests(two_commits, clean_all):
    wh = two_commits
    _only_current(wh, "events").unlink()
    rep = doctor.repair(wh, jobs=1)
    assert rep.healthy, rep.to_dict()
    assert len(rep.actions) == 2 and rep.actions[0].startswith("rolled back to the previous snapshot (version 1, ")
    assert rep.actions[1].startswith("re-ingested ") and "incrementally" in rep.actions[1] and ", 0 lines added)" not in rep.actions[1]
    assert verify.compare(wh, clean_all) == []


def test_a_previous_snapshot_with_a_missing_part_falls_back_to_the_rebuild(two_commits, clean_all):
    wh = two_commits
    prev, cur = _snap(wh, PREVIOUS), _snap(wh)
    shared = sorted(set(prev["tables"]["events"]) & set(cur["tables"]["events"]))
    assert shared
    (wh / shared[0]).unlink()  # both snapshots need it
    rep = doctor.repair(wh, jobs=1)
    assert rep.healthy
    assert any("cannot be rolled back to" in n for n in rep.notes)
    assert any(a.startswith("re-ingested") and "fresh warehouse" in a for a in rep.actions)
    assert verify.compare(wh, clean_all) == []


def _first_session(wh: Path) -> str:
    import tracelab

    con = tracelab.connect(wh)
    try:
        return con.execute("SELECT session_key FROM sessions ORDER BY session_key LIMIT 1").fetchone()[0]
    finally:
        con.close()


def test_a_lost_snapshot_is_refused_by_ingest_and_rolled_back_by_doctor(two_commits, inputs, clean_first, clean_all):
    wh = two_commits
    (wh / SNAPSHOT).unlink()
    res = CliRunner().invoke(cli, ["ingest", str(inputs), "-w", str(wh)])
    assert res.exit_code != 0 and res.stderr.count("\n") == 1 and "doctor --repair" in res.stderr
    rep = doctor.repair(wh, jobs=1)
    assert rep.healthy and rep.actions[0].startswith("rolled back to the previous snapshot (version 1, ")
    assert verify.compare(wh, clean_first) == []
    ingest([str(inputs)], wh, jobs=1)
    assert verify.compare(wh, clean_all) == []
