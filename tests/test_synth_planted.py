"""``tracelab synth --plant``: planted harness-change patterns with known answers.

Planting must not change one byte of the ordinary sessions, and what ``truth["planted"]``
claims must be what the files hold once ingested.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import tracelab
from tracelab.synth import generate


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.jsonl") if p.is_file()}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    truth = generate(root / "corpus", sessions=3, seed=5, plant=True, plant_sessions=24, jobs=1)
    return root / "corpus", truth


def test_plant_leaves_ordinary_sessions_unchanged(tmp_path, planted):
    corpus, truth = planted
    plain = generate(tmp_path / "plain", sessions=3, seed=5, jobs=1)
    assert "planted" not in plain and "plant_sessions" not in plain["args"]
    base = _digests(tmp_path / "plain")
    with_plant = _digests(corpus)
    assert base, "no files generated"
    base.pop("truth_failures.jsonl")  # gains the planted failures at its end
    for rel, digest in base.items():
        assert with_plant[rel] == digest, rel
    plain_failures = (tmp_path / "plain" / "truth_failures.jsonl").read_bytes()
    assert (corpus / "truth_failures.jsonl").read_bytes().startswith(plain_failures)
    extra = set(with_plant) - set(base)
    assert extra and all("ledger-sync" in rel for rel in extra - {"truth_failures.jsonl"})
    # the ordinary sessions' truth is unchanged where planting adds nothing (codex, pi)
    for agent in ("codex", "pi"):
        assert truth["agents"][agent] == plain["agents"][agent]


def test_planted_truth_shape(planted):
    _corpus, truth = planted
    p = truth["planted"]
    rules = {r["id"]: r for r in p["permission_rules"]}
    assert rules["allow-ruff-check"]["claude_rule"] == "Bash(uv run ruff check:*)"
    assert all(r["rejections"] == 0 and r["approvals"] >= 5 for r in rules.values() if r["decision"] == "allow")
    assert all(r["approvals"] == 0 and r["rejections"] >= 5 for r in rules.values() if r["decision"] == "deny")
    instr = {r["id"]: r for r in p["instruction_rules"]}
    weeks = len(truth["window"]["weeks"])
    half = instr["instr-uv-ruff-format"]
    assert max(half["weeks"]) < weeks // 2 + 1 and not half["holds_in_last_week"]
    assert instr["instr-uv-pytest"]["holds_in_last_week"] and instr["instr-uv-pytest"]["weeks"] == list(range(weeks))
    assert p["stops_halfway"] == ["instr-uv-ruff-format"]


def test_planted_truth_matches_the_warehouse(tmp_path, planted):
    corpus, truth = planted
    from tracelab.pipeline import ingest

    wh = tmp_path / "wh"
    summary = ingest([str(corpus / "claude")], wh, jobs=1)
    assert summary.files_failed == 0
    con = tracelab.connect(wh)
    p = truth["planted"]
    for rule in p["permission_rules"]:
        n_ok, n_rej = con.execute(
            """SELECT count(*) FILTER (WHERE status = 'ok'), count(*) FILTER (WHERE status = 'user_rejected')
               FROM tool_calls WHERE project = $project AND tool_name = 'Bash'
               AND (input_json->>'command' = $prefix OR starts_with(input_json->>'command', $prefix || ' '))""",
            {"project": p["project"], "prefix": rule["prefix"]},
        ).fetchone()
        assert (n_ok, n_rej) == (rule["approvals"], rule["rejections"]), rule["id"]
    (n_loops,) = con.execute(
        "SELECT count(DISTINCT (session_key, repeat_run_no)) FROM tool_calls WHERE project = $p AND run_input_preview LIKE '%test_sync.py -x%'",
        {"p": p["project"]},
    ).fetchone()
    assert n_loops == p["loops"][0]["count"]
