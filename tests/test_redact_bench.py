"""Planted-secret benchmark floors: recall, false redactions per MB, coverage of kinds and carriers."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tracelab.redact import Policy, Redactor
from tracelab.redact.bench import SECRET_KINDS, evaluate, generate

# Floors (benchmarks/results/redact.md reports the measured values on a larger corpus).
MIN_RECALL = 0.98
MAX_FALSE_PER_MB = 1.0


@pytest.fixture(scope="module")
def corpus():
    return generate(1000, negatives_per_secret=1.5, identities=120, seed=2026)


@pytest.fixture(scope="module")
def result(corpus):
    return evaluate(corpus, Redactor(Policy(key=b"bench-test")))


def test_corpus_shape(corpus):
    secrets = [p for p in corpus.planted if p.category == "secret"]
    assert len(secrets) >= 1000
    assert len({p.kind for p in secrets}) >= 20
    assert {p.agent for p in secrets} == {"claude", "codex", "pi"}
    carriers = Counter((p.agent, p.carrier) for p in secrets)
    assert len(carriers) == 12 and min(carriers.values()) >= 40
    # nested JSON placements: Codex `arguments` is a JSON string whose "cmd" holds the secret
    nested = [p for p in secrets if p.agent == "codex" and p.carrier == "command"]
    assert len(nested) > 50
    for p in nested:
        cmd = json.loads(json.loads(corpus.lines[p.line])["payload"]["arguments"])["cmd"]
        assert p.value.replace("\n", "")[:12] in cmd.replace("\n", "")
    # hostile \u-escaped placements exist and hard negatives are a majority of bytes
    assert sum(b"\\u00" in corpus.lines[p.line] for p in secrets) > 20
    assert corpus.negative_bytes() > corpus.bytes / 2
    # every secret value is present in its line before redaction (generated, not copied)
    assert all(json.loads(corpus.lines[p.line]) is not None for p in secrets[:50])


def test_recall_floor(result):
    assert result.recall >= MIN_RECALL, [(p.kind, p.context, p.agent, p.carrier) for p in result.missed]
    assert result.identity_recall >= 0.98


def test_every_kind_and_carrier_is_caught(result):
    for kind, (hit, total) in result.per_kind.items():
        floor = 0.8 if kind == "gcp_api_key" else 0.95  # bare AIza keys are kept by design
        assert hit / total >= floor, (kind, hit, total)
    for carrier, (hit, total) in result.per_carrier.items():
        assert hit / total >= 0.95, (carrier, hit, total)
    assert set(result.per_kind) == {k.name for k in SECRET_KINDS}


def test_false_redaction_floor(result):
    assert result.negative_mb > 1.0
    assert result.false_per_mb <= MAX_FALSE_PER_MB, result.false_by_detector


def test_reports_never_contain_planted_values(corpus):
    r = Redactor(Policy(key=b"bench-test"))
    dump = json.dumps([f.to_dict() for line in corpus.lines[:600] for f in r.redact_line(line)[1]])
    for p in corpus.planted:
        if p.line < 600:
            assert p.value not in dump
