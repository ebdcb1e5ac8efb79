"""The ``rejects`` table at scale: rejects are collected by column and spilled in batches while a
file is parsed, written by the parse workers as Parquet parts partitioned by month (the month of
the file's first timestamp), and removed file by file at commit without reading or rewriting
the parts that hold none of the files concerned.

* :class:`RejectBuffer`: what an adapter appends its :class:`Reject` rows to. Every
  :data:`BATCH_ROWS` rows become one Arrow record batch; inside an ingest worker
  (:func:`spill_to`) the batches go to a file under the warehouse's ``.staging/``, so a file of
  millions of bad lines holds one batch in memory, not millions of objects. Counts by reason
  are kept for the summary.
* :func:`write_parts`: a worker's rejects as ``rejects/month=M/part-<name>-K.parquet``.
* :func:`without_files`: the commit's removal of the rejects of files parsed again (and of the
  provisional reject of a truncated last line an append reads again): parts are skipped on
  their footer statistics, then on their ``source_file`` column; only a part that holds such a
  row is rewritten.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import os
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracelab import schema as S

__all__ = ["BATCH_ROWS", "SPILL_OPTIONS", "Reject", "RejectBuffer", "month_of", "reason_key", "spill_dir", "spill_to", "without_files", "write_parts"]

#: Rows a :class:`RejectBuffer` holds as Python values before turning them into one Arrow batch.
BATCH_ROWS = 32 * 1024

SPILL_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4" if pa.Codec.is_available("lz4") else None)

#: Columns a buffer holds dictionary-encoded (the same few values on every row of a file): its
#: batches carry one copy of each path and reason, not millions.
_DICT_COLS = ("source_file", "agent", "reason")
_DICT = pa.dictionary(pa.int32(), pa.string())
_HELD = pa.schema([pa.field(f.name, _DICT) if f.name in _DICT_COLS else f for f in S.REJECTS])


def _held(cols: list[pa.Array]) -> pa.RecordBatch:
    """Columns in :data:`S.REJECTS` order as a batch of the held schema."""
    out = [(c if pa.types.is_dictionary(c.type) else pc.dictionary_encode(c).cast(_DICT)) if f.name in _DICT_COLS else c for c, f in zip(cols, _HELD)]
    return pa.record_batch(out, schema=_HELD)


def _plain(rb: pa.RecordBatch) -> pa.RecordBatch:
    """A held batch with exactly the ``rejects`` schema."""
    return pa.record_batch([c.cast(f.type) for c, f in zip(rb.columns, S.REJECTS)], schema=S.REJECTS)


#: Directory the buffers of this process spill to (set by :func:`spill_to`; None: keep in memory).
_SPILL_DIR: str | None = None


@dataclass
class Reject:
    source_file: str
    line_no: int
    byte_offset: int
    agent: str
    reason: str
    raw_text: str
    raw_bytes: int


def reason_key(reason: str) -> str:
    """The summary's name for a reason: its text before the first ``:`` or `` (``."""
    return reason.split(":")[0].split(" (")[0]


@contextmanager
def spill_to(directory: str | os.PathLike) -> Iterator[None]:
    """Inside the block, :class:`RejectBuffer` batches of this process go to files in
    ``directory`` instead of memory."""
    global _SPILL_DIR
    previous, _SPILL_DIR = _SPILL_DIR, str(directory)
    try:
        yield
    finally:
        _SPILL_DIR = previous


def spill_dir() -> str | None:
    """The directory buffers of this process spill to (see :func:`spill_to`); None: memory."""
    return _SPILL_DIR


class RejectBuffer:
    """The rejects of one parse: ``append`` a :class:`Reject` (or :meth:`add` its values);
    iterate for the rows back (as :class:`Reject`), or :meth:`batches` for Arrow record
    batches. ``len()`` is the number of rows, :attr:`by_reason` their count per
    :func:`reason_key`, :attr:`truncated` the provisional rejects of a half-written last line."""

    __slots__ = ("_rows", "_batches", "_writer", "_path", "_n", "_by_reason", "_last_line")

    def __init__(self) -> None:
        self._rows: list[tuple] = []  # not yet in a batch: one tuple per row, in column order
        self._batches: list[pa.RecordBatch] = []
        self._writer: Any = None
        self._path: str | None = None
        self._n = 0
        self._by_reason: dict[str, int] = {}
        self._last_line: int | None = None  # line_no of the last row in a batch

    def append(self, rj: Reject) -> None:
        self.add(rj.source_file, rj.line_no, rj.byte_offset, rj.agent, rj.reason, rj.raw_text, rj.raw_bytes)

    def add(self, source_file: str, line_no: int, byte_offset: int, agent: str, reason: str, raw_text: str, raw_bytes: int) -> None:
        """Append one reject given as its column values (no :class:`Reject` object); this runs
        once per bad line, so it only appends (counting happens per batch)."""
        rows = self._rows
        rows.append((source_file, line_no, byte_offset, agent, reason, raw_text, raw_bytes))
        if len(rows) >= BATCH_ROWS:
            self._flush(spill=True)

    @property
    def n(self) -> int:
        return self._n + len(self._rows)

    @property
    def by_reason(self) -> dict[str, int]:
        self._flush()
        return dict(self._by_reason)

    @property
    def last_line_no(self) -> int | None:
        """The line number of the last reject appended (None: none): a provisional reject of
        a half-written last line is always the last."""
        return self._rows[-1][1] if self._rows else self._last_line

    @property
    def truncated(self) -> int:
        return self.by_reason.get("truncated last line", 0)

    def __len__(self) -> int:
        return self.n

    def __bool__(self) -> bool:
        return self.n > 0

    def __iter__(self) -> Iterator[Reject]:
        for rb in self.batches():
            for row in rb.to_pylist():
                yield Reject(**row)

    def _count(self, cols: list[tuple]) -> None:
        for reason, k in Counter(cols[4]).items():
            key = reason_key(reason)
            self._by_reason[key] = self._by_reason.get(key, 0) + k
        self._n += len(cols[0])

    def add_arrays(
        self, source_file: str, agent: str, line_no: pa.Array, byte_offset: pa.Array, reason: pa.Array, raw_text: pa.Array, raw_bytes: pa.Array
    ) -> None:
        """Append rejects of one file given as Arrow columns (the bulk path of
        :func:`~tracelab.ingest.base.scan`), after the rows added so far; cut into batches of
        :data:`BATCH_ROWS` rows without a Python object per row."""
        self._flush()
        n = len(line_no)
        for start in range(0, n, BATCH_ROWS):
            k = min(BATCH_ROWS, n - start)
            reasons = reason.slice(start, k)
            if pa.types.is_dictionary(reasons.type):  # count the codes, name them once
                words = reasons.dictionary.to_pylist()
                counts = [{"values": words[x["values"]], "counts": x["counts"]} for x in pc.value_counts(reasons.indices).to_pylist()]
            else:
                counts = pc.value_counts(reasons).to_pylist()
            for item in counts:
                key = reason_key(item["values"])
                self._by_reason[key] = self._by_reason.get(key, 0) + item["counts"]
            self._n += k
            self._last_line = line_no[start + k - 1].as_py()
            zeros = pc.fill_null(pa.nulls(k, pa.int32()), 0)
            cols = [
                pa.DictionaryArray.from_arrays(zeros, pa.array([source_file], pa.string())),
                line_no.slice(start, k).cast(pa.int64()),
                byte_offset.slice(start, k).cast(pa.int64()),
                pa.DictionaryArray.from_arrays(zeros, pa.array([agent], pa.string())),
                reasons,
                raw_text.slice(start, k).cast(pa.string()),
                raw_bytes.slice(start, k).cast(pa.int64()),
            ]
            self._emit(_held(cols))

    def _flush(self, spill: bool = False) -> None:
        rows = self._rows
        if not rows:
            return
        self._rows = []
        cols = list(zip(*rows))
        del rows
        self._count(cols)
        self._last_line = cols[1][-1]
        self._emit(_held([pa.array(col, f.type) for col, f in zip(cols, S.REJECTS)]), spill)

    def _emit(self, rb: pa.RecordBatch, spill: bool = True) -> None:
        """Keep ``rb``; ``spill``: a full batch, which goes to the spill file (with the batches
        held before it) inside an ingest worker. A partial batch (the rejects of a file with a
        few bad lines, the usual case) stays in memory unless the buffer spills already: no
        spill file per file."""
        if self._writer is None and not spill:
            self._batches.append(rb)
            return
        if self._writer is None and _SPILL_DIR is not None:
            Path(_SPILL_DIR).mkdir(parents=True, exist_ok=True)
            self._path = os.path.join(_SPILL_DIR, f"rejects-{os.getpid()}-{uuid.uuid4().hex[:12]}.arrows")
            # compressed: the columns repeat (file, agent, reason), and the file is read once
            self._writer = pa.ipc.new_stream(pa.OSFile(self._path, "wb"), _HELD, options=SPILL_OPTIONS)
        if self._writer is not None:
            for held in self._batches:  # earlier rows first, in order
                self._writer.write_batch(held)
            self._batches = []
            self._writer.write_batch(rb)
        else:
            self._batches.append(rb)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The rows as record batches of up to :data:`BATCH_ROWS` rows, in the order appended
        (a spilled buffer is read back batch by batch)."""
        self._flush()
        if self._path is not None:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            # read, not memory-mapped: a mapped file's pages would all count as this process's memory
            with pa.OSFile(self._path, "rb") as src:
                for rb in pa.ipc.open_stream(src):
                    yield _plain(rb)
        for rb in self._batches:
            yield _plain(rb)

    def detach(self) -> None:
        """Drop the rows (and the spill file), keep the counts: what goes back to the main
        process once the rows are written."""
        if self._rows:
            self._count(list(zip(*self._rows)))
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._path is not None:
            try:
                os.unlink(self._path)
            except OSError:
                pass
            self._path = None
        self._rows = []
        self._batches = []

    def __getstate__(self) -> dict:
        if self._writer is not None or self._path is not None or self._batches or self._rows:
            raise TypeError("a RejectBuffer holding rows is not sent between processes; detach() it first")
        return {"n": self._n, "by_reason": self._by_reason}

    def __setstate__(self, state: dict) -> None:
        self.__init__()  # type: ignore[misc]
        self._n, self._by_reason = state["n"], state["by_reason"]


def month_of(ts_ms: int | None) -> str:
    """``YYYY-MM`` of an epoch-ms timestamp; ``unknown`` without one."""
    if ts_ms is None:
        return "unknown"
    return _dt.datetime.fromtimestamp(ts_ms / 1000, _dt.UTC).strftime("%Y-%m")


# ---------------------------------------------------------------------------------- writing
#: How the parts are encoded: line numbers and offsets ascend within a file, so delta encoding
#: stores them in a few bits a row (2M rejected lines: 0.15 MB instead of 14.6 MB, written in
#: less time); the other columns repeat (file, agent, reason) and stay dictionary-encoded.
_ENCODING: dict[str, Any] = {
    "use_dictionary": ["source_file", "agent", "reason", "raw_text", "raw_bytes"],
    "column_encoding": {"line_no": "DELTA_BINARY_PACKED", "byte_offset": "DELTA_BINARY_PACKED"},
}


def _write(root: Path, month: str, name: str, k: int, batches: Iterable[pa.RecordBatch]) -> str | None:
    """Stream ``batches`` into ``rejects/month=M/part-NAME-K.parquet``; None when empty."""
    rel = f"rejects/month={month}/part-{name}-{k:04d}.parquet"
    tmp = root / f"{rel}.tmp"
    writer = None
    try:
        for rb in batches:
            if not rb.num_rows:
                continue
            if writer is None:
                tmp.parent.mkdir(parents=True, exist_ok=True)
                writer = pq.ParquetWriter(tmp, S.REJECTS, compression="zstd", write_statistics=True, **_ENCODING)
            writer.write_batch(rb, row_group_size=256 * 1024)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        return None
    os.replace(tmp, root / rel)
    return rel


def write_parts(root: str | os.PathLike, files: list[tuple[str, str, RejectBuffer]], name: str, redact: Any = None) -> list[str]:
    """Write the rejects of ``files`` — (path, month, buffer) — as parts of ``rejects``, one per
    month, rows ordered by (path, line); ``redact`` (text -> text) is applied to ``raw_text``.
    Returns the parts' paths relative to ``root``."""
    by_month: dict[str, list[tuple[str, RejectBuffer]]] = {}
    for path, month, buf in files:
        if buf.n:
            by_month.setdefault(month, []).append((path, buf))

    def rows(bufs: list[tuple[str, RejectBuffer]]) -> Iterator[pa.RecordBatch]:
        for _path, buf in sorted(bufs, key=lambda x: x[0]):
            for rb in buf.batches():
                if redact is not None:
                    raw = pa.array([None if t is None else redact(t) for t in rb.column(5).to_pylist()], pa.string())
                    rb = pa.record_batch([*rb.columns[:5], raw, rb.column(6)], schema=S.REJECTS)
                yield rb

    out = []
    for k, (month, bufs) in enumerate(sorted(by_month.items())):
        rel = _write(Path(root), month, name, k, rows(bufs))
        if rel is not None:
            out.append(rel)
    return out


# ---------------------------------------------------------------------------------- removing
def _may_hold(pf: pq.ParquetFile, targets: list[str]) -> bool:
    """Could a row group of ``pf`` hold a ``source_file`` among ``targets`` (sorted)? From the
    footer's min/max statistics; True where they are missing."""
    col = pf.schema_arrow.get_field_index("source_file")
    md = pf.metadata
    for g in range(md.num_row_groups):
        st = md.row_group(g).column(col).statistics
        if st is None or not st.has_min_max:
            return True
        i = bisect.bisect_left(targets, st.min)
        if i < len(targets) and targets[i] <= st.max:
            return True
    return False


def _drop_mask(t: pa.Table | pa.RecordBatch, files: pa.Array, cut: dict[str, int]) -> pa.Array:
    """True for rows of ``files`` and rows after line ``cut[f]`` of file ``f``."""
    src = t.column(t.schema.get_field_index("source_file"))
    mask = pc.is_in(src, value_set=files)
    if cut:
        ln = t.column(t.schema.get_field_index("line_no"))
        for path, line in cut.items():
            mask = pc.or_(mask, pc.and_(pc.equal(src, path), pc.greater(ln, line)))
    return pc.fill_null(mask, False)


def without_files(root: str | os.PathLike, parts: list[str], files: set[str], cut: dict[str, int], name: str) -> list[str]:
    """``parts`` of ``rejects`` without the rows of ``files`` and the rows after line ``cut[f]``
    of file ``f``. A part whose footer statistics or ``source_file`` column show none of these
    rows is kept as it is (not rewritten, its other columns not read); the others are
    rewritten batch by batch as ``part-NAME<i>-…`` in the same month, or dropped when
    emptied."""
    if not files and not cut:
        return list(parts)
    root = Path(root)
    targets = sorted(files | set(cut))
    value_set = pa.array(sorted(files), pa.string())
    out: list[str] = []
    for i, rel in enumerate(parts):
        pf = pq.ParquetFile(root / rel)
        if not _may_hold(pf, targets) or not pc.any(_drop_mask(pf.read(columns=["source_file", "line_no"]), value_set, cut)).as_py():
            out.append(rel)
            continue
        month = Path(rel).parent.name.partition("=")[2] or "unknown"

        def kept(pf: pq.ParquetFile = pf) -> Iterator[pa.RecordBatch]:
            for rb in pf.iter_batches(batch_size=64 * 1024):
                rb = pa.RecordBatch.from_arrays([rb.column(f.name).cast(f.type) for f in S.REJECTS], schema=S.REJECTS)
                yield rb.filter(pc.invert(_drop_mask(rb, value_set, cut)))

        new = _write(root, month, f"{name}{i:05d}", 0, kept())
        if new is not None:
            out.append(new)
    return out
