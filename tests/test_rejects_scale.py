"""Rejects at scale: a file of many bad lines keeps every line (in ``events`` or in ``rejects``
with its reason, file, line and offset), its rejects are written as Parquet parts partitioned by
month, and later ingests leave the stored reject parts alone unless they replace a file's
rejects (issue 15, item 6). Ground truth is computed here from the lines the test writes."""

from __future__ import annotations

import json
import os
import shutil
import zlib
from pathlib import Path

import orjson
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracelab.catalog import connect
from tracelab.ingest import rejects as R
from tracelab.ingest.base import ParseResult
from tracelab.ingest.registry import get
from tracelab.pipeline import ingest
from tracelab.store.compact import compact
from tracelab.store.warehouse import Warehouse

SID = "0b7f1c9e-1111-4a2b-9c3d-000000000001"


def _user(i: int, month: str = "2026-01", tag: int = 0) -> bytes:
    """A valid Claude user line with a timestamp in ``month`` (``tag``: the file's, so that
    files do not repeat each other's lines)."""
    line = {
        "type": "user",
        "uuid": f"0b7f1c9e-{tag:04x}-4a2b-9c3d-{i:012d}",
        "sessionId": f"{SID[:-4]}{tag:04x}",
        "timestamp": f"{month}-02T03:04:05Z",
        "message": {"role": "user", "content": f"hello {i}"},
    }
    return orjson.dumps(line) + b"\n"


#: bad line kinds -> (bytes, the start of the expected reason)
BAD = {
    "garbage": (b"x\n", "invalid JSON: "),
    "list": (b"[1, 2]\n", "not a JSON object (got list)"),
    "number": (b"5\n", "not a JSON object (got int)"),
    "utf8": (b'{"a": "\xff\xfe"}\n', "invalid UTF-8"),
    "cut": (b'{"type": "user", "uuid": \n', "invalid JSON: "),
}


def _write(path: Path, kinds: list[str], month: str = "2026-01") -> dict[int, tuple[int, str, bytes]]:
    """Write a Claude file: a valid first line, then one line per ``kinds`` entry ('ok' or a
    key of ``BAD``; '' for a blank line). Returns line_no -> (byte offset, expected reason
    start, raw line) of every line that must be rejected."""
    truth: dict[int, tuple[int, str, bytes]] = {}
    tag = zlib.crc32(path.name.encode()) & 0xFFFF
    out = bytearray(_user(0, month, tag))
    for n, kind in enumerate(kinds, start=2):
        if kind == "ok":
            raw = _user(n, month, tag)
        elif kind == "":
            raw = b"\n"
        else:
            raw, reason = BAD[kind]
            truth[n] = (len(out), reason, raw.rstrip(b"\n"))
        out += raw
    path.write_bytes(bytes(out))
    return truth


def _rejects(wh: Path, path: Path | None = None) -> list[tuple]:
    con = connect(wh)
    try:
        where, params = ("WHERE source_file = ?", [str(path)]) if path else ("", [])
        return con.execute(
            f"SELECT source_file, line_no, byte_offset, agent, reason, raw_text, raw_bytes FROM rejects {where} ORDER BY 1, 2", params
        ).fetchall()
    finally:
        con.close()


def _parts(wh: Path) -> dict[str, tuple[int, int]]:
    """The snapshot's reject parts -> (inode, mtime_ns) of the file."""
    snap = Warehouse(wh).snapshot()
    return {rel: ((wh / rel).stat().st_ino, (wh / rel).stat().st_mtime_ns) for rel in snap.tables["rejects"]}


def _check(rows: list[tuple], path: Path, truth: dict[int, tuple[int, str, bytes]]) -> None:
    assert [r[1] for r in rows] == sorted(truth)
    for source, line_no, offset, agent, reason, raw_text, raw_bytes in rows:
        want_offset, want_reason, raw = truth[line_no]
        assert (source, agent, offset, raw_bytes) == (str(path), "claude", want_offset, len(raw))
        assert reason.startswith(want_reason), (line_no, reason)
        assert raw_text == raw.decode("utf-8", "replace")


def test_fifty_thousand_rejects_match_ground_truth(tmp_path):
    """50k bad lines of five kinds among good and blank lines (more than one spilled batch):
    every bad line is in ``rejects`` with its reason, line number, offset and text; every good
    line is ingested; the summary counts them; no spill file is left behind."""
    kinds = [["garbage", "list", "number", "utf8", "cut", "ok", "garbage", ""][i % 8] for i in range(67_000)]
    f = tmp_path / "in" / "many.jsonl"
    f.parent.mkdir()
    truth = _write(f, kinds)
    assert len(truth) == 50_250 > R.BATCH_ROWS
    wh = tmp_path / "wh"
    s = ingest([str(f.parent)], wh, jobs=1)
    good = 1 + kinds.count("ok")
    assert (s.lines_total, s.lines_ingested, s.lines_rejected) == (good + len(truth), good, len(truth))
    assert s.rejects_by_reason == {
        "invalid JSON": sum(1 for _, r, _ in truth.values() if r.startswith("invalid JSON")),
        "not a JSON object": sum(1 for _, r, _ in truth.values() if r.startswith("not a JSON")),
        "invalid UTF-8": sum(1 for _, r, _ in truth.values() if r == "invalid UTF-8"),
    }
    _check(_rejects(wh), f, truth)
    con = connect(wh)
    try:
        assert con.execute("SELECT lines_rejected, lines_ingested FROM files").fetchall() == [(len(truth), good)]
        assert con.execute("SELECT count(DISTINCT line_no) FROM events").fetchone()[0] == good
    finally:
        con.close()
    assert not (wh / ".staging").exists() or not any((wh / ".staging").iterdir())


def test_rejects_are_partitioned_by_the_month_of_their_file(tmp_path):
    """Each file's rejects go to ``rejects/month=M/`` for the month of its first timestamp."""
    d = tmp_path / "in"
    d.mkdir()
    _write(d / "jan.jsonl", ["garbage", "ok", "list"], "2026-01")
    _write(d / "mar.jsonl", ["number", "ok"], "2026-03")
    _write(d / "clean.jsonl", ["ok", "ok"], "2026-02")
    wh = tmp_path / "wh"
    ingest([str(d)], wh, jobs=1)
    by_part = []
    for rel in sorted(Warehouse(wh).snapshot().tables["rejects"]):
        files = pq.read_table(wh / rel, columns=["source_file"]).column("source_file").to_pylist()
        by_part += [(Path(rel).parent.name, f, files.count(f)) for f in sorted(set(files))]
    assert by_part == [("month=2026-01", str(d / "jan.jsonl"), 2), ("month=2026-03", str(d / "mar.jsonl"), 1)]


def test_later_ingests_leave_stored_reject_parts_alone_and_replace_a_changed_files(tmp_path):
    """A second ingest of other files (with and without rejects) adds parts and keeps the
    stored ones byte for byte (same file, same mtime); re-ingesting a changed file replaces
    its rejects, and only the part that held them is rewritten."""
    a, b, c = (tmp_path / n for n in ("a", "b", "c"))
    for d in (a, b, c):
        d.mkdir()
    truth_a = _write(a / "a.jsonl", ["garbage"] * 3000 + ["ok"], "2026-01")
    wh = tmp_path / "wh"
    ingest([str(a)], wh, jobs=1)
    first = _parts(wh)
    assert len(first) == 1
    _write(b / "clean.jsonl", ["ok"] * 5, "2026-01")
    ingest([str(a), str(b)], wh, jobs=1)
    assert _parts(wh) == first  # nothing to add, nothing rewritten
    truth_c = _write(c / "c.jsonl", ["ok", "number", "list"], "2026-01")
    ingest([str(a), str(b), str(c)], wh, jobs=1)
    second = _parts(wh)
    assert {k: v for k, v in second.items() if k in first} == first and len(second) == 2
    _check(_rejects(wh, a / "a.jsonl"), a / "a.jsonl", truth_a)
    _check(_rejects(wh, c / "c.jsonl"), c / "c.jsonl", truth_c)
    # a.jsonl rewritten: its rejects are replaced, c's part is kept as it is
    truth_a = _write(a / "a.jsonl", ["ok", "utf8", "ok", "garbage"], "2026-01")
    ingest([str(a), str(b), str(c)], wh, jobs=1)
    third = _parts(wh)
    c_part = next(k for k in second if k not in first)
    assert third[c_part] == second[c_part]
    assert not set(first) & set(third)  # a's old part is gone from the snapshot
    _check(_rejects(wh, a / "a.jsonl"), a / "a.jsonl", truth_a)
    _check(_rejects(wh, c / "c.jsonl"), c / "c.jsonl", truth_c)
    # a.jsonl now clean: no rejects of it remain
    _write(a / "a.jsonl", ["ok"], "2026-01")
    ingest([str(a), str(b), str(c)], wh, jobs=1)
    assert _rejects(wh, a / "a.jsonl") == []
    assert _parts(wh)[c_part] == second[c_part]


def test_an_append_replaces_the_provisional_reject_of_a_half_written_line(tmp_path):
    """A half-written last line is rejected provisionally; when the file grows, the append
    replaces that reject (only that one) and a clean ingest of the final file agrees."""
    d = tmp_path / "in"
    d.mkdir()
    f = d / "live.jsonl"
    truth = _write(f, ["garbage", "ok"])
    whole = _user(9)
    with open(f, "ab") as fh:
        fh.write(whole[:20])
    wh = tmp_path / "wh"
    ingest([str(d)], wh, jobs=1)
    rows = _rejects(wh)
    assert [r[1] for r in rows] == [2, 4] and rows[1][4].startswith("truncated last line")
    with open(f, "ab") as fh:
        fh.write(whole[20:] + b"y\n")
    truth[5] = (f.stat().st_size - 2, "invalid JSON: ", b"y")
    s = ingest([str(d)], wh, jobs=1)
    assert s.files_appended == 1
    _check(_rejects(wh), f, truth)
    clean = tmp_path / "clean"
    ingest([str(d)], clean, jobs=1)
    assert _rejects(clean) == _rejects(wh)


def test_compaction_merges_small_reject_parts_of_a_month(tmp_path):
    """Reject parts of one month from several ingests merge into one part with the same rows."""
    d = tmp_path / "in"
    d.mkdir()
    wh = tmp_path / "wh"
    for i in range(3):
        _write(d / f"f{i}.jsonl", ["garbage", "ok", "number"] * (i + 1))
        ingest([str(d)], wh, jobs=1)
    w = Warehouse(wh)
    snap = w.snapshot()
    before = _rejects(wh)
    assert len(snap.tables["rejects"]) == 3 and len(before) == 2 * (1 + 2 + 3)
    res = compact(w, snap, w.new_batch_id(), min_parts=2)
    assert res.merged["rejects"] == 2
    w.commit(snap)
    assert [Path(p).parent.name for p in w.snapshot().tables["rejects"]] == ["month=2026-01"]
    assert _rejects(wh) == before


# ------------------------------------------------------------------------------ properties
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kinds=st.lists(st.sampled_from(["ok", "", *BAD]), max_size=60), batch=st.integers(1, 7))
def test_every_line_is_rows_or_a_reject(tmp_path_factory, kinds, batch):
    """For any mix of good, blank and bad lines, and any batch size of the reject buffer
    (spilled or not): lines with rows + rejected lines == non-blank lines, and the rejected
    line numbers, offsets and reasons are exactly the bad lines'."""
    d = tmp_path_factory.mktemp("p")
    f = d / "mix.jsonl"
    truth = _write(f, kinds)
    old = R.BATCH_ROWS
    R.BATCH_ROWS = batch
    try:
        spill = d / "spill"
        with R.spill_to(spill):
            res: ParseResult = get("claude").parse(str(f), 0, 0, None)
            rows = [(rj.source_file, rj.line_no, rj.byte_offset, rj.agent, rj.reason, rj.raw_text, rj.raw_bytes) for rj in res.rejects]
            res.rejects.detach()
    finally:
        R.BATCH_ROWS = old
    with_rows = len(set(res.buffer.cols["line_no"]))
    assert with_rows + len(rows) == 1 + sum(1 for k in kinds if k) == res.lines_total
    assert res.lines_rejected == len(rows) == res.rejects.n == sum(res.rejects.by_reason.values())
    _check(rows, f, truth)
    assert not spill.exists() or not any(spill.iterdir())


def test_an_ingest_keeps_every_line_of_a_mixed_file(tmp_path):
    """The same rule through a whole ingest, for a file per bad kind and a mixed one:
    ``files.lines_ingested + lines_rejected`` equals the non-blank lines, and rejects match."""
    d = tmp_path / "in"
    d.mkdir()
    truths = {}
    for kind in BAD:
        truths[d / f"{kind}.jsonl"] = _write(d / f"{kind}.jsonl", [kind, "ok", "", kind])
    kinds = ["ok", "", *BAD, "ok", *BAD]
    truths[d / "mixed.jsonl"] = _write(d / "mixed.jsonl", kinds)
    wh = tmp_path / "wh"
    ingest([str(d)], wh, jobs=1)
    con = connect(wh)
    try:
        files = {p: (i, r) for p, i, r in con.execute("SELECT path, lines_ingested, lines_rejected FROM files").fetchall()}
    finally:
        con.close()
    for path, truth in truths.items():
        nonblank = sum(1 for line in path.read_bytes().split(b"\n") if line.strip())
        assert sum(files[str(path)]) == nonblank
        assert files[str(path)][1] == len(truth)
        _check(_rejects(wh, path), path, truth)


def test_a_buffer_round_trips_its_rows_spilled_or_not(tmp_path):
    """A :class:`RejectBuffer` gives back the rows appended, in order, whether its batches
    stayed in memory or went to a spill file; ``detach`` removes the file, keeps the counts,
    and the detached buffer pickles (what returns from a worker)."""
    import pickle

    rows = [R.Reject("f", i, i * 3, "claude", f"invalid JSON: {i % 3}" if i % 4 else "truncated last line (x)", "t" * (i % 5), i % 5) for i in range(100)]
    old = R.BATCH_ROWS
    R.BATCH_ROWS = 7
    try:
        mem = R.RejectBuffer()
        for r in rows:
            mem.append(r)
        assert list(mem) == rows
        with R.spill_to(tmp_path / "s"):
            sp = R.RejectBuffer()
            for r in rows:
                sp.append(r)
        assert len(os.listdir(tmp_path / "s")) == 1
        assert list(sp) == rows
        sp.detach()
        assert os.listdir(tmp_path / "s") == []
    finally:
        R.BATCH_ROWS = old
    back = pickle.loads(pickle.dumps(sp))
    assert (back.n, back.truncated, back.by_reason) == (100, 25, {"invalid JSON": 75, "truncated last line": 25})
    shutil.rmtree(tmp_path / "s")
    assert json.dumps(back.by_reason)
