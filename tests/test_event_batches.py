"""Event rows in bounded memory (issue 15, item 6): an adapter that settles its buffer between
lines (Claude) turns every ``EventBuffer.batch_rows`` rows into one Arrow batch while the file is
parsed, spilled under ``.staging/`` inside an ingest. The buffer never holds more than a batch
of row dicts, and whatever the batch size the result equals the unbatched one: the parse's
table, the engine's per-file columns, and the warehouse of a whole ingest (dedup, line keys,
dates of rows before the first timestamp, derived tables)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.table_digest import table_digests
from tracelab.ingest import base as B
from tracelab.ingest.claude.parse import ClaudeParser
from tracelab.ingest.rejects import spill_to
from tracelab.pipeline import ingest

SID = "0b7f1c9e-1111-4a2b-9c3d-00000000abcd"


def _line(kind: str, i: int) -> bytes:
    """One Claude line of ``kind``: user/assistant (with uuid and timestamp), 'undated' (a user
    line without timestamp), 'unknown' (an unknown record type), 'bad' (invalid JSON), '' (blank),
    'dup' (a copy of line 1's uuid and timestamp: one line key for two lines)."""
    if kind == "":
        return b"\n"
    if kind == "bad":
        return b"x\n"
    if kind == "unknown":
        return orjson.dumps({"type": "zz", "n": i}) + b"\n"
    uuid = f"0b7f1c9e-2222-4a2b-9c3d-{(0 if kind == 'dup' else i):012d}"
    rec: dict = {"type": "user", "uuid": uuid, "sessionId": SID, "message": {"role": "user", "content": f"hi {i}"}}
    if kind == "assistant":
        rec = {
            "type": "assistant",
            "uuid": uuid,
            "sessionId": SID,
            "requestId": f"req_{i}",
            "message": {
                "id": f"msg_{i}",
                "role": "assistant",
                "model": "claude-x",
                "content": [{"type": "text", "text": f"a {i}"}, {"type": "tool_use", "id": f"toolu_{i}", "name": "Bash", "input": {"command": "ls"}}],
                "usage": {"input_tokens": 3, "output_tokens": i},
            },
        }
    if kind != "undated":
        rec["timestamp"] = f"2026-0{1 + i % 3}-02T03:04:{i % 60:02d}Z"
    return orjson.dumps(rec) + b"\n"


def _write(path: Path, kinds: list[str]) -> None:
    path.write_bytes(b"".join(_line(k, i) for i, k in enumerate(kinds, start=1)))


def _parse(path: Path, batch_rows: int, monkeypatch: pytest.MonkeyPatch) -> tuple[pa.Table, list, list[str], int]:
    """(table, distinct line numbers, session keys, rows flushed) of one parse of ``path``."""
    monkeypatch.setattr(B.EventBuffer, "batch_rows", batch_rows)
    res = ClaudeParser(path).parse()
    lines, sessions = res.buffer.line_nos_and_sessions()
    flushed = res.buffer.flushed
    table = res.buffer.to_table()
    res.buffer.close()
    return table, sorted(lines.to_pylist()), sessions, flushed


KINDS = st.lists(st.sampled_from(["user", "assistant", "undated", "unknown", "bad", "", "dup"]), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=KINDS, batch_rows=st.integers(1, 12))
def test_batched_parse_equals_unbatched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kinds: list[str], batch_rows: int) -> None:
    path = tmp_path / f"{SID}.jsonl"
    _write(path, kinds)
    whole = _parse(path, 1 << 30, monkeypatch)
    batched = _parse(path, batch_rows, monkeypatch)
    assert whole[3] == 0
    assert batched[0].equals(whole[0]), (kinds, batch_rows)
    assert batched[1:3] == whole[1:3]


def test_many_unknown_lines_are_flushed_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """2,000 unknown-type lines with a batch of 64 rows: the buffer never holds more than 64 row
    dicts, the rows go out in 32 spilled batches, and the table is the unbatched one."""
    path = tmp_path / f"{SID}.jsonl"
    n = 2000
    _write(path, ["user"] + ["unknown"] * (n - 1))
    held: list[int] = []
    real_settle = B.EventBuffer.settle

    def settle(self: B.EventBuffer) -> None:
        held.append(len(self.rows))
        real_settle(self)

    monkeypatch.setattr(B.EventBuffer, "settle", settle)
    monkeypatch.setattr(B.EventBuffer, "batch_rows", 64)
    spill = tmp_path / "spill"
    with spill_to(spill):
        res = ClaudeParser(path).parse()
        spilled = os.listdir(spill)
        assert len(spilled) == 1 and spilled[0].startswith("events-")  # one LZ4 IPC stream per file
        assert max(held) <= 64 and len(res.buffer.rows) <= 64
        assert res.buffer.flushed == 64 * (n // 64)
        batches = list(res.buffer.tables())
        table = pa.concat_tables(batches)
        res.buffer.close()
    assert os.listdir(spill) == []
    assert len(batches) == n // 64 + 1
    assert table.num_rows == n and table.column("kind").to_pylist().count("unknown") == n - 1
    monkeypatch.setattr(B.EventBuffer, "batch_rows", 1 << 30)
    assert table.equals(ClaudeParser(path).parse().buffer.to_table())


def test_ingest_with_small_batches_equals_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole ingests (in-process, spilled batches, dedup of repeated line keys across files,
    a file starting without timestamps, an append) give the same warehouse for a batch of 5
    rows as for the default batch."""
    kinds_a = ["undated", "unknown", "user", "assistant", "bad", "unknown", "", "dup", "assistant"] * 7
    kinds_b = ["user", "assistant", "unknown"] * 9

    src = tmp_path / "src"

    def run(batch_rows: int, name: str) -> dict:
        """Ingest, append, ingest again (same source paths for every batch size)."""
        monkeypatch.setattr(B.EventBuffer, "batch_rows", batch_rows)
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir()
        a, b = src / f"{SID}.jsonl", src / "0b7f1c9e-1111-4a2b-9c3d-00000000beef.jsonl"
        _write(a, kinds_a[:30])
        _write(b, kinds_b)
        os.utime(a, (1_767_225_600, 1_767_225_600))
        os.utime(b, (1_767_225_600, 1_767_225_600))
        wh = tmp_path / name
        ingest([str(src)], wh, jobs=1)
        _write(a, kinds_a)  # grows: the tail is appended
        os.utime(a, (1_767_225_700, 1_767_225_700))
        ingest([str(src)], wh, jobs=1)
        return table_digests(wh)

    small = run(5, "small")
    assert small["events"]["rows"] > 50
    assert small == run(B.EVENT_BATCH_ROWS, "default")
