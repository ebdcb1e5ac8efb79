"""Phone numbers: recall on a planted set of international formats, false positives on the real
samples (counted and listed), and the shapes that must not be taken for a number."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from tracelab.redact import Policy, Redactor
from tracelab.redact.files import redact_paths
from tracelab.redact.phone_corpus import FORMATS, REGIONS, planted_phones

SHARED = Path(os.environ["TRACELAB_SHARED"]) if os.environ.get("TRACELAB_SHARED") else Path(__file__).resolve().parents[1].parent / "shared"
SAMPLES = SHARED / "samples"

# Phone-number findings on the real samples, reviewed by hand: the samples hold no phone number
# (the 7,700 phone-shaped candidates in them, mostly uuid groups, timestamps and line numbers,
# are all rejected by libphonenumber's validation or the shape checks), so every finding is a
# false positive. The acceptance bound is 1 per MB.
SAMPLE_PHONE_FINDINGS: list[tuple[str, int | None]] = []


def _caught(r: Redactor, text: str, written: str) -> bool:
    out = r.redact_line(text.encode())[0].decode() if text.startswith("{") else r.redact_text(text)[0]
    return written.removeprefix("tel:") not in out


def test_recall_on_planted_international_formats():
    items = planted_phones(seed=7, per_region=6)
    assert len(items) >= 170 and {p.region for p in items} == set(REGIONS) and {p.fmt for p in items} == set(FORMATS)
    r = Redactor(Policy(key=b"phones"))
    missed = [(p.region, p.fmt, p.written) for p in items if not _caught(r, p.text, p.written)]
    recall = 1 - len(missed) / len(items)
    assert recall >= 0.95, missed
    # every miss is a national number without a phone word on its line (a CSV cell under a
    # "phone" header): the documented gap; numbers with a country code are all caught
    assert all(fmt == "national_after_word" for _, fmt, _ in missed), missed


def test_second_seed_recall():
    items = planted_phones(seed=11, per_region=6)
    r = Redactor(Policy(key=b"phones"))
    assert sum(_caught(r, p.text, p.written) for p in items) / len(items) >= 0.95


@pytest.mark.parametrize(
    "text",
    [
        "2025-06-15T10:23:45.123+00:00",
        "request_id 0000-4000-8000-000000000001",
        "ef000000-0000-4000-8000-000000000001",
        "version 1.0.24 and 10.0.19045.3803",
        "i = i+1234567; j = x+14155552671y",
        "at line 1234567 col 89",
        "ts=1733500000000 pid 4242",
        "ipv4 192.168.100.200 port 8080",
        "lines 396-402 and 1234-5678",
        "the recall 555-2671 of call",
        "+ 12 passed, 3 failed in 4.56s",
        "sha 8b1118b376c313ed420e5133ba91307817ed52c2",
    ],
)
def test_not_phone_numbers(text):
    out, findings = Redactor(Policy(key=b"phones")).redact_text(text)
    assert not [f for f in findings if f.kind == "phone_number"], (text, out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me on +44 20 7946 0958 tomorrow", "call me on [REDACTED:phone_number] tomorrow"),
        ("+1 (415) 555-2671", "[REDACTED:phone_number]"),
        ("tel:+81-3-1234-5678", "tel:[REDACTED:phone_number]"),
        ("Tel.: 030 12345678", "Tel.: [REDACTED:phone_number]"),
        ("office (212) 555-0123 ext", "office [REDACTED:phone_number] ext"),
        ("0049 30 1234567", "[REDACTED:phone_number]"),
        ("WhatsApp: +55 11 91234-5678.", "WhatsApp: [REDACTED:phone_number]."),
    ],
)
def test_phone_numbers_are_redacted(text, expected):
    assert Redactor(Policy(key=b"phones")).redact_text(text)[0] == expected


def test_phone_numbers_can_be_switched_off():
    assert Redactor(Policy(key=b"phones", phone_numbers=False)).redact_text("+44 20 7946 0958")[1] == []


def test_false_positives_on_the_real_samples_at_most_one_per_mb():
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES} (set TRACELAB_SHARED)")
    rep = redact_paths(Redactor(Policy(key=b"phones")), [str(SAMPLES)], None, check=True)
    mb = sum(f.bytes_in for f in rep.files) / 1e6
    found = Counter((Path(f.file).relative_to(SAMPLES).as_posix(), f.line) for f in rep.findings if f.kind == "phone_number")
    listed = sorted(found)
    assert listed == SAMPLE_PHONE_FINDINGS, listed  # every one reviewed and listed above
    assert sum(found.values()) / mb <= 1.0
    assert mb > 20
