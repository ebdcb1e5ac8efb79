"""Redaction vs the gitleaks test vectors, and gitleaks-format rule files (``--rules``)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tracelab.redact import Policy, Redactor
from tracelab.redact.rules_gitleaks import CURRENT_PATH, load_rules, translate_go_regex

SHARED = Path(os.environ["TRACELAB_SHARED"]) if os.environ.get("TRACELAB_SHARED") else Path(__file__).resolve().parents[1].parent / "shared"
GITLEAKS = SHARED / "redaction" / "gitleaks"
VECTORS = GITLEAKS / "rule_test_vectors.jsonl"
TOML = GITLEAKS / "config" / "gitleaks.toml"
FRAGMENTS = Path(__file__).parent / "fixtures" / "redaction" / "gitleaks_fragments.json"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared redaction data not found at {path} (set TRACELAB_SHARED)")
    return path


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return [json.loads(line) for line in _need(VECTORS).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def fragments(rows) -> dict[int, dict]:
    doc = json.loads(FRAGMENTS.read_text(encoding="utf-8"))
    out = {}
    for f in doc["fragments"]:
        row = rows[f["row"]]
        assert row["label"] == "TP" and row["rule_id"] == f["rule_id"], f"fragment label no longer matches row {f['row']}"
        assert hashlib.sha256(row["text"].encode()).hexdigest() == f["text_sha256"], f"row {f['row']} text changed"
        out[f["row"]] = f
    return out


@pytest.fixture(scope="module")
def builtin() -> Redactor:
    return Redactor(Policy(key=b"gitleaks-test"))


def test_every_true_positive_with_secret_material_is_redacted_by_builtin_rules(rows, fragments, builtin):
    assert len(rows) == 285
    checked = 0
    missed = []
    for i, row in enumerate(rows):
        if row["label"] != "TP" or i in fragments:
            continue
        checked += 1
        out, findings = builtin.redact_text(row["text"])
        if out == row["text"] or not any(f.category == "secret" for f in findings):
            missed.append((i, row["rule_id"]))
    assert checked == 88 - len(fragments) == 63
    assert not missed, f"true positives left unredacted: {missed}"


def test_fragment_rows_really_hold_no_secret(rows, fragments, builtin):
    # the hand-labelled fragments are short boilerplate; if one ever gets long, re-judge it
    for i in fragments:
        assert len(rows[i]["text"]) <= 60, rows[i]["rule_id"]


def test_at_most_ten_percent_of_false_positives_are_touched(rows, builtin):
    fps = [r for r in rows if r["label"] == "FP"]
    assert len(fps) == 197
    touched = [r["rule_id"] for r in fps if builtin.redact_text(r["text"])[0] != r["text"]]
    assert len(touched) <= 0.10 * len(fps), touched
    # the 15 well-known public Google keys gitleaks allowlists are left alone (bare, no key context)
    gcp = [r for r in fps if r["rule_id"] == "gcp-api-key"]
    assert all(builtin.redact_text(r["text"])[0] == r["text"] for r in gcp)


def test_gitleaks_toml_loads_every_regex_rule_and_reports_the_rest():
    loaded = load_rules(_need(TOML))
    ids = {d.id for d in loaded.detectors}
    assert len(ids) == 221
    assert [e["id"] for e in loaded.errors] == ["pkcs12-file"]
    assert "file-name-only" in loaded.errors[0]["reason"]
    assert all(d.engine == "re2" for d in loaded.detectors)  # google-re2 compiles all of them


@pytest.fixture(scope="module")
def gitleaks_only() -> Redactor:
    return Redactor(Policy(key=b"k", builtin=False, emails=False, ip_addresses=False, home_paths=False, rules_files=(str(_need(TOML)),)))


def test_loaded_rules_fire_on_their_own_vectors(rows, fragments, gitleaks_only):
    dets = {d.id: d for d in gitleaks_only.detectors}
    gated = fired = 0
    for i, r in enumerate(rows):
        if r["label"] != "TP" or i in fragments:
            continue
        det = dets[r["rule_id"]]
        text = r["text"]
        if det.keywords and not any(k in text.lower() for k in det.keywords):
            continue  # gitleaks would not run the rule either (keyword prefilter)
        gated += 1
        fired += bool(det.find(text.encode()))
        assert det.find(text.encode()), (i, r["rule_id"])
    assert gated >= 60 and fired == gated
    # and through the whole engine the secrets are redacted with the rule id as marker type
    assert rows[10]["rule_id"] == "anthropic-api-key" and rows[10]["label"] == "TP"
    out, findings = gitleaks_only.redact_text(rows[10]["text"])
    assert out == "[REDACTED:anthropic-api-key]" and findings[0].detector == "anthropic-api-key"


def test_loaded_rules_respect_allowlists_and_entropy(gitleaks_only):
    # aws-access-token has a per-rule allowlist ".+EXAMPLE$" and entropy 3
    assert "aws-access-token" not in {f.detector for f in gitleaks_only.redact_text("aws_access_key: AKIAIOSFODNN7EXAMPLE")[1]}
    assert "aws-access-token" not in {f.detector for f in gitleaks_only.redact_text("key = AKIAXXXXXXXXXXXXXXXX")[1]}
    assert "aws-access-token" in {f.detector for f in gitleaks_only.redact_text("key = AKIAQYLPMN5HFIQR7XZ2")[1]}
    # global stopword list contains "abcdefghijklmnopqrstuvwxyz"
    text = 'api_token = "abcdefghijklmnopqrstuvwxyz012345"'
    assert "generic-api-key" not in {f.detector for f in gitleaks_only.redact_text(text)[1]}


def test_path_scoped_rules_only_apply_to_matching_files(gitleaks_only):
    # hashicorp-tf-password only applies to *.tf / *.hcl files
    text = 'administrator_login_password = "thisIsDog11"'
    token = CURRENT_PATH.set("infra/main.tf")
    try:
        in_tf = {f.detector for f in gitleaks_only.redact_text(text)[1]}
    finally:
        CURRENT_PATH.reset(token)
    token = CURRENT_PATH.set("session.jsonl")
    try:
        in_jsonl = {f.detector for f in gitleaks_only.redact_text(text)[1]}
    finally:
        CURRENT_PATH.reset(token)
    assert "hashicorp-tf-password" in in_tf
    assert "hashicorp-tf-password" not in in_jsonl


def test_rules_re2_cannot_compile_fall_back_to_python_re_or_are_reported(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(
        """
[[rules]]
id = "named-go"
regex = '''(?<tok>zzq_[a-z0-9]{12})'''
keywords = ["zzq_"]

[[rules]]
id = "lookahead"
regex = '''qqz_(?=[0-9]{4})[0-9]{4}'''

[[rules]]
id = "broken"
regex = '''(unclosed'''

[[rules]]
id = "no-regex"
description = "nothing to match"
""",
        encoding="utf-8",
    )
    loaded = load_rules(rules)
    engines = {d.id: d.engine for d in loaded.detectors}
    assert engines == {"named-go": "re2", "lookahead": "re"}
    assert {e["id"] for e in loaded.errors} == {"broken", "no-regex"}
    assert any("lookahead" in w for w in loaded.warnings)
    r = Redactor(Policy(key=b"k", builtin=False, rules_files=(str(rules),)))
    out, findings = r.redact_text("x zzq_abcdef123456 and qqz_1234 end")
    assert out == "x [REDACTED:named-go] and [REDACTED:lookahead] end"
    assert r.rule_errors and {e["id"] for e in r.rule_errors} == {"broken", "no-regex"}


def test_translate_go_regex():
    assert translate_go_regex(r"(?<name>a+)b") == r"(?P<name>a+)b"
    assert translate_go_regex(r"(?P<x>a)") == r"(?P<x>a)"
