"""The planted secrets in detect-secrets' test_data are removed (labels: tests/fixtures/redaction)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import defaultdict
from pathlib import Path

import pytest

from tracelab.redact import Policy, Redactor

SHARED = Path(os.environ["TRACELAB_SHARED"]) if os.environ.get("TRACELAB_SHARED") else Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "redaction" / "detect-secrets" / "test_data"
LABELS = json.loads((Path(__file__).parent / "fixtures" / "redaction" / "detect_secrets_labels.json").read_text(encoding="utf-8"))

_SPLITS = (re.compile(r"[\s'\",()\[\]]+"), re.compile(r"[\s'\",()\[\]=:@]+"))


def _token_hashes(line: str) -> set[str]:
    out = set()
    for rx in _SPLITS:
        for tok in rx.split(line):
            for t in (tok, tok.rstrip(";,.")):
                if t:
                    out.add(hashlib.sha256(t.encode()).hexdigest())
    return out


@pytest.fixture(scope="module")
def results() -> dict[str, tuple[list[str], list[str], dict[int, list]]]:
    if not DATA.is_dir():
        pytest.skip(f"detect-secrets test data not found at {DATA} (set TRACELAB_SHARED)")
    r = Redactor(Policy(key=b"ds-test"))
    out = {}
    for path in sorted(p for p in DATA.rglob("*") if p.is_file()):
        rel = path.relative_to(DATA).as_posix()
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        new, findings = r.redact_text(text)
        by_line: dict[int, list] = defaultdict(list)
        for f in findings:
            by_line[text[: f.offset].count("\n") + 1].append(f)
        out[rel] = (text.split("\n"), new.split("\n"), by_line)
    return out


def test_labelled_files_exist(results):
    for lab in LABELS["redacted"]:
        assert lab["file"] in results, lab["file"]


@pytest.mark.parametrize("lab", LABELS["redacted"], ids=lambda lab: f"{lab['file']}:{lab['line']}")
def test_planted_secret_is_removed(results, lab):
    before, after, by_line = results[lab["file"]]
    kinds = {f.kind for f in by_line.get(lab["line"], [])}
    assert kinds & set(lab["kinds"]), f"expected a finding of {lab['kinds']}, got {kinds or 'none'}"
    src = _token_hashes(before[lab["line"] - 1])
    dst = set().union(*(_token_hashes(line) for line in after))
    for digest in lab["secret_sha256"]:
        assert digest in src, "label does not match the file any more"
        assert digest not in dst, "secret survived redaction"


def test_no_finding_outside_labelled_lines(results):
    either = defaultdict(set)
    for e in LABELS["either"]:
        either[e["file"]].add(e["line"])
    labelled = defaultdict(set)
    for lab in LABELS["redacted"]:
        labelled[lab["file"]].add(lab["line"])
    stray = []
    for rel, (_, _, by_line) in results.items():
        if "*" in either[rel]:
            continue
        for line, found in by_line.items():
            if line not in labelled[rel] and line not in either[rel]:
                stray.append((rel, line, sorted({f.detector for f in found})))
    assert not stray, stray


def test_clean_files_are_untouched(results):
    for rel in (
        "files/file_with_no_secrets.py",
        "files/tmp/file_with_no_secrets.py",
        "files/file_with_custom_secrets.py",
        "performance/best-songs.txt",
        "word_list.txt",
        "only_comments.yaml",
    ):
        before, after, by_line = results[rel]
        assert before == after and not by_line, rel
