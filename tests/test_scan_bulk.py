"""The bulk reject path of ``scan`` (issue 15, item 6): runs of lines that cannot be JSON (their
first byte says so) are rejected as Arrow columns without a Python object per line. It must be
invisible in the result: the same rejects (file, line, offset, reason, text, bytes), events,
counts and end position as the per-line path, for any mix of lines, line endings and block
size, including lines that only look like candidates (whitespace, ``+``, ``.``, a byte-order
mark, invalid UTF-8, carriage returns, lines over the reject text cap, a half-written last
line)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracelab import schema as S
from tracelab.ingest import base as B
from tracelab.ingest.base import RawLine, decode_line
from tracelab.ingest.claude.parse import ClaudeParser

#: the module (``tracelab.ingest.claude.parse`` the name is its package's parse function)
claude_parse = importlib.import_module("tracelab.ingest.claude.parse")
SID = "0b7f1c9e-1111-4a2b-9c3d-00000000abcd"
USER = (
    b'{"type":"user","uuid":"0b7f1c9e-2222-4a2b-9c3d-000000000001","sessionId":"' + SID.encode() + b'",'
    b'"timestamp":"2026-01-02T03:04:05Z","message":{"role":"user","content":"hi"}}'
)
LINES = [
    b"x",
    b"#comment",
    b"}{",
    b"\x00",
    b"caf\xc3\xa9",
    b"\xc3\xa9t\xc3\xa9",
    b"\xff\xfe",
    b"x\xff",
    b"x\r",
    b"+1",
    b".5",
    b"\xef\xbb\xbf{}",
    b" x",
    b"\tx",
    b"",
    b"   ",
    b"[1, 2]",
    b"5",
    b"null",
    b"true",
    b'"s"',
    b'{"type":"zz"}',
    b"{bad",
    USER,
    b"y" * (S.RAW_REJECT_CAP + 3),
]


def _parse(path: Path, bulk: bool, block: int, monkeypatch: pytest.MonkeyPatch, repeat: bool = True) -> tuple:
    real = B.scan

    def scan(*args: object, **kw: object) -> tuple:
        kw["bulk_rejects"] = bulk
        if not repeat:
            kw["repeat"] = None
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(claude_parse, "scan", scan)
    monkeypatch.setattr(B, "SCAN_BLOCK", block)
    res = ClaudeParser(path).parse()
    counts = (res.lines_total, res.lines_rejected, res.bytes_ingested, res.end_line_no, res.rejects.by_reason, res.rejects.truncated)
    return list(res.rejects), res.buffer.to_table(), counts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.sampled_from(LINES), min_size=1, max_size=80),
    end=st.sampled_from([b"\n", b"", b"\r\n", b"\n\n"]),
    block=st.sampled_from([1, 5, 64, 1 << 20]),
)
def test_bulk_equals_per_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[bytes], end: bytes, block: int) -> None:
    path = tmp_path / f"{SID}.jsonl"
    path.write_bytes(b"\n".join(lines) + end)
    bulk = _parse(path, True, block, monkeypatch)
    per_line = _parse(path, False, 1 << 20, monkeypatch)
    assert bulk[0] == per_line[0]
    assert bulk[1].equals(per_line[1])
    assert bulk[2] == per_line[2]


def test_bulk_reasons_are_decode_line_reasons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of bulk candidates after a valid line: every reject is the reason ``decode_line``
    gives that line, with its own line number and byte offset (known here from the bytes)."""
    bad = [b"x", b"#c", b"caf\xc3\xa9", b"}{", b"\x00"] * 50
    data = USER + b"\n" + b"\n".join(bad) + b"\n"
    path = tmp_path / f"{SID}.jsonl"
    path.write_bytes(data)
    rejects = _parse(path, True, 1 << 20, monkeypatch)[0]
    assert len(rejects) == len(bad)
    offset = len(USER) + 1
    for i, (rj, raw) in enumerate(zip(rejects, bad)):
        expected = decode_line(RawLine(i + 2, offset, raw + b"\n", True))[1]
        assert (rj.line_no, rj.byte_offset, rj.reason, rj.raw_text, rj.raw_bytes) == (i + 2, offset, expected, raw.decode(), len(raw))
        offset += len(raw) + 1


#: lines of unknown record types (repeatable or not: a uuid, a sidechain, another session, a
#: timestamp), known types, rejects and blanks, for the runs of identical lines
UNKNOWN = [
    b'{"type":"zz"}',
    b'{"type":"zz","timestamp":"2026-01-03T00:00:00Z"}',
    b'{"type":"zz","timestamp":"bad"}',
    b'{"type":"yy","uuid":"0b7f1c9e-3333-4a2b-9c3d-0000000000ff"}',
    b'{"type":"zz","uuid":"p l a c e"}',
    b'{"type":"zz","isSidechain":true}',
    b'{"type":"zz","sessionId":"other-session","version":"9.9"}',
    b'{"type":"zz","agentId":"a1"}',
    b'{"foo":1}',
    b'{"type":"summary","summary":"s"}',
    USER,
    b"x",
    b"",
    b'{"type":"zz"} ',
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    runs=st.lists(st.tuples(st.sampled_from(UNKNOWN), st.sampled_from([1, 2, 3, 7, 40]), st.sampled_from([b"\n", b"\r\n"])), min_size=1, max_size=30),
    end=st.sampled_from([b"", b'{"type":"zz"}', b'{"type":"zz"']),
    batch=st.sampled_from([4, 1 << 15]),
)
def test_runs_of_identical_lines_equal_the_per_line_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: list, end: bytes, batch: int) -> None:
    """Copies of a line of an unknown type taken as a run (:class:`~tracelab.ingest.base.Repeats`)
    give exactly the rows, rejects, counts and end position of handling every line, whatever
    the batch size of the event buffer."""
    path = tmp_path / f"{SID}.jsonl"
    path.write_bytes(b"".join((line + nl) * k for line, k, nl in runs) + end)
    monkeypatch.setattr(B.EventBuffer, "batch_rows", batch)
    fast = _parse(path, True, 1 << 20, monkeypatch)
    slow = _parse(path, True, 1 << 20, monkeypatch, repeat=False)
    assert fast[0] == slow[0]
    assert fast[1].equals(slow[1])
    assert fast[2] == slow[2]
