"""Redacting every shared sample keeps every file's shape; the gate passes on the output."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from tracelab.redact import Policy, Redactor
from tracelab.redact.files import plan, redact_paths

SHARED = Path(os.environ["TRACELAB_SHARED"]) if os.environ.get("TRACELAB_SHARED") else Path(__file__).resolve().parents[1].parent / "shared"
SAMPLES = SHARED / "samples"

# Secret-category findings on the real samples, reviewed by hand (benchmarks/results/redact.md).
# Exactly one credential is planted in them: copilot-cli/agent-engram-8baa78ec-events.jsonl held a
# Tavily key its owner had published, replaced by the curator with the same-shaped
# ``tvly-dev-EXAMPLEKEY…00`` (PROVENANCE.md) so that redaction has a real-world true positive to
# find. It sits in an MCP config the agent read (a ``?tavilyApiKey=`` URL), repeated in the
# ``content`` and ``detailedContent`` of four tool results: 8 findings, all of them true positives.
# Anything else of category "secret" would be a false redaction. The ``user:pass@example.com`` URLs
# of the Gemini samples (URL-validator fixtures and ``urlize`` tests the agent grepped) are not
# credentials: userinfo in a URL whose host is reserved for documentation (RFC 2606/6761:
# example.com/.org/.net, *.example, *.test, *.invalid, *.localhost) is kept when the password is
# shorter than 8 characters (see tracelab/redact/README.md).
EXPECTED_SECRET_FINDINGS = {("copilot-cli/agent-engram-8baa78ec-events.jsonl", "tavily-api-key"): 8}


def _type(obj) -> tuple:
    if not isinstance(obj, dict):
        return (type(obj).__name__,)
    payload = obj.get("payload")
    sub = payload.get("type") if isinstance(payload, dict) else None
    return (obj.get("type"), obj.get("subtype"), sub)


@pytest.fixture(scope="module")
def redacted(tmp_path_factory):
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES} (set TRACELAB_SHARED)")
    out = tmp_path_factory.mktemp("redacted")
    report = redact_paths(Redactor(Policy(key=b"samples-test")), [str(SAMPLES)], out)
    items = plan([str(SAMPLES)])
    assert [i.kind == "skip" for i in items] == [bool(r.skipped) for r in report.files]
    # (input path, output path, result) for every redacted file; the report itself only names outputs
    pairs = [(i.source, out / r.output, r) for i, r in zip(items, report.files) if not r.skipped]
    return out, report, pairs


def test_every_jsonl_sample_keeps_lines_types_and_json_validity(redacted):
    out, report, pairs = redacted
    assert len(pairs) >= 120
    checked = 0
    for src, dst, _res in pairs:
        a = src.read_bytes().split(b"\n")
        b = dst.read_bytes().split(b"\n")
        assert len(a) == len(b), src
        if src.suffix == ".json":
            assert json.loads(dst.read_bytes()) is not None
            continue
        for x, y in zip(a, b):
            if not x.strip():
                assert x == y
                continue
            try:
                ox = json.loads(x)
            except ValueError:
                continue  # non-JSON input line: redacted as text, nothing to compare
            oy = json.loads(y)  # valid JSON where the input was
            assert _type(ox) == _type(oy)
            if isinstance(ox, dict):
                assert list(ox) == list(oy)  # same keys, same order
            checked += 1
    assert checked > 6000


def test_unchanged_lines_are_byte_identical_and_changes_are_counted(redacted):
    _, report, pairs = redacted
    changed = same = 0
    for src, dst, res in pairs:
        if src.suffix == ".json":
            continue
        lines_with_findings = {f.line for f in res.findings}
        for i, (x, y) in enumerate(zip(src.read_bytes().splitlines(True), dst.read_bytes().splitlines(True)), 1):
            if i in lines_with_findings:
                changed += x != y
            else:
                assert x == y, (res.source, i)
                same += 1
    assert changed and same
    assert changed == sum(r.changed_lines for r in report.files if not r.skipped and not r.source.endswith(".json"))


def test_real_samples_false_redactions_and_identities(redacted):
    _, report, pairs = redacted
    # in redact mode a finding names the output-relative file
    secret = Counter((f.file, f.detector) for f in report.findings if f.category == "secret")
    assert dict(secret) == EXPECTED_SECRET_FINDINGS, [(f.file, f.line, f.detector) for f in report.findings if f.category == "secret"]
    by = report.counts("detector")
    assert by["home-path"] > 5000  # every Claude line carries cwd
    assert report.to_dict()["totals"]["findings"] == len(report.findings)
    # the authors' usernames are gone from content and names; public resolvers are kept
    for _src, dst, res in pairs:
        data = dst.read_bytes()
        assert b"/Users/dain/" not in data and b"/Users/badlogic/" not in data, res.output
        assert "-Users-dain-" not in res.output and "dain" not in json.dumps(res.to_dict())


def test_publishing_gate_passes_on_the_redacted_output(redacted):
    out, _, _ = redacted
    check = redact_paths(Redactor(Policy(key=b"samples-test")), [str(out)], None, check=True)
    assert check.clean, check.counts("detector")
    assert not redacted[1].clean  # the same gate fails on the input (the redaction found things)
