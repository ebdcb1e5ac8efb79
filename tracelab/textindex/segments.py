"""The search index on disk: one **segment** per ``events`` part, built once, never changed.

A segment is a Parquet file ``search_index/v2/<the part's path under events/>`` listed in the
snapshot under the table ``search_index`` (so the snapshot commit publishes it atomically with
its part and garbage collection retires it with it).

**Documents.** The part's events are numbered in the search's own order, newest first
(``ORDER BY ts DESC NULLS LAST, source_file, seq, event_key``, ``textindex_order.sql``): the
*document number* 0 is the part's newest event. Postings hold document numbers, so the newest
``n`` matches of a part are its ``n`` smallest candidates, found without reading the part.

**Rows of a segment.** Columns ``token``, ``rows`` (``UINTEGER[]``) and ``block``:

* a *posting row* (``block`` NULL): a token (:mod:`tracelab.textindex.tokens`, as written) and
  the sorted document numbers of the events whose ``text`` or ``tool_input`` holds it, among
  the part's events of one chunk of :data:`CHUNK_ROWS` file rows (a token has one row per
  chunk it occurs in). Each chunk's rows are sorted by token, in row groups of
  :data:`ROW_GROUP_TOKENS`: a lookup scans the ``token`` column, then reads ``rows`` only from
  the row groups whose token range holds a match;
* a *vocabulary row* (``block`` = :data:`VOCABULARY`, ``rows`` NULL, after the posting rows):
  each token of the part once, sorted; a lookup's token scan reads only these;
* an *order row* (``token`` NULL, after all others): ``block`` = b and ``rows`` = the file
  row numbers (0-based) of the documents b × :data:`ORDER_BLOCK` … (b + 1) × ORDER_BLOCK − 1,
  so a document's event is read back by its row number (row groups pruned by ``block``).

Each distinct text (and tool input) of a chunk is tokenized once, however many events repeat it.
The footer's key-value metadata ``tracelab.search_index`` records the format version, the part,
its row count, how many of its events have a time (``timed``: documents 0 … timed − 1) and the
newest and oldest time (epoch milliseconds), so a search can tell which parts can hold its
newest matches.

Parts never change (new rows go to new parts, removed rows and compaction write new parts), so a
segment stays exact for its part for as long as the part is live. :func:`sync` gives every part
of a snapshot that lacks one its segment (all, or only the ``parts`` given; two at a time) and
drops segments of parts no longer listed; ingest calls it for the parts it wrote, ``tracelab
index build`` for all of them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from tracelab.store import sql_text
from tracelab.store.connection import MEMORY_LIMIT, scratch_connection
from tracelab.store.snapshot import Snapshot, WarehouseFiles
from tracelab.textindex.tokens import SEPARATE

__all__ = [
    "CHUNK_ROWS",
    "FORMAT_VERSION",
    "ORDER_BLOCK",
    "VOCABULARY",
    "TABLE",
    "IndexStatus",
    "Problem",
    "SegmentMeta",
    "SyncResult",
    "build_segment",
    "check",
    "read_meta",
    "repair",
    "segment_of",
    "status",
    "sync",
]

#: the snapshot table listing the segments
TABLE = "search_index"
#: bumped when tokens or layout change: segments of another version are not used (and rebuilt)
FORMAT_VERSION = 2
#: file rows tokenized at a time (bounds the memory of a build)
CHUNK_ROWS = 256 * 1024
#: posting rows per row group (row groups are pruned by their token range)
ROW_GROUP_TOKENS = 4 * 1024
#: documents per row group of posting rows (beyond its first row)
ROW_GROUP_POSTINGS = 128 * 1024
#: ``block`` of the vocabulary rows, and vocabulary rows per row group
VOCABULARY = -1
VOCABULARY_ROWS_PER_GROUP = 256 * 1024
#: documents per order row, and order rows per row group
ORDER_BLOCK = 4 * 1024
ORDER_ROWS_PER_GROUP = 32
#: segments built at once by :func:`sync`
BUILD_THREADS = max(1, min(2, os.cpu_count() or 1))
META_KEY = b"tracelab.search_index"
SCHEMA = pa.schema([pa.field("token", pa.string()), pa.field("rows", pa.list_(pa.uint32())), pa.field("block", pa.int32())])
#: the text columns indexed, as searched
COLUMNS = ("text", "tool_input")


def segment_of(events_rel: str) -> str:
    """The segment path (relative to the warehouse) of the events part ``events_rel``."""
    rel = Path(events_rel)
    tail = rel.relative_to("events") if rel.parts and rel.parts[0] == "events" else rel
    return (Path(TABLE) / f"v{FORMAT_VERSION}" / tail).as_posix()


@dataclass(frozen=True)
class SegmentMeta:
    """A segment's footer facts (see the module docstring)."""

    version: int
    events_part: str
    events_rows: int
    timed: int = 0
    ts_max_ms: int | None = None
    ts_min_ms: int | None = None


def read_meta(path: Path) -> SegmentMeta:
    """The footer facts of the segment at ``path`` (raises OSError/ValueError/ArrowException)."""
    import pyarrow.parquet as pq  # here and below: `tracelab search` imports this module, and neither of these

    return parse_meta((pq.read_schema(path).metadata or {}).get(META_KEY, b"{}"))


def parse_meta(raw: bytes | str) -> SegmentMeta:
    """:class:`SegmentMeta` from the footer value ``tracelab.search_index`` (JSON)."""
    meta = json.loads(raw)
    return SegmentMeta(
        int(meta.get("version", 0)),
        str(meta.get("events_part", "")),
        int(meta.get("events_rows", -1)),
        int(meta.get("timed", 0)),
        meta.get("ts_max_ms"),
        meta.get("ts_min_ms"),
    )


def _separated(arr: pa.Array) -> pa.Array:
    """``arr`` (string) with every separator byte replaced by a space (same offsets)."""
    bufs = arr.buffers()
    if len(bufs) < 3 or bufs[2] is None:
        return arr
    data = pa.py_buffer(bufs[2].to_pybytes().translate(SEPARATE))
    return pa.Array.from_buffers(arr.type, len(arr), [bufs[0], bufs[1], data], null_count=arr.null_count, offset=arr.offset)


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """``np.unique(keys)`` (uint64), sorted by Polars on every core."""
    import polars as pl  # here, not at the top: `tracelab search` imports this module and never builds

    return pl.Series(keys, dtype=pl.UInt64).unique().sort().to_numpy()


def _column_pairs(col: pa.ChunkedArray, docs: np.ndarray) -> tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]:
    """One text column of a chunk, each distinct value tokenized once.

    Returns ``tokens`` (every token occurrence in the distinct values), ``vals`` (the distinct
    value each came from), ``order`` (the chunk's document numbers grouped by value) and
    ``counts`` (documents per value): :func:`_expand` turns (token, value) pairs into
    (token, document) pairs."""
    import pyarrow.compute as pc  # see read_meta

    tokens, vals, idxs = [], [], []
    n_vals = 0
    for arr in col.chunks:
        enc = pc.dictionary_encode(arr)
        split = pc.ascii_split_whitespace(_separated(enc.dictionary))
        tokens.append(pc.list_flatten(split).cast(pa.large_string()))
        vals.append(pc.list_parent_indices(split).to_numpy() + n_vals)
        idxs.append(np.where(enc.indices.is_valid().to_numpy(zero_copy_only=False), enc.indices.fill_null(0).to_numpy().astype(np.int64) + n_vals, -1))
        n_vals += len(enc.dictionary)
    idx = np.concatenate(idxs) if idxs else np.empty(0, np.int64)
    keep = idx >= 0
    by_val = np.argsort(idx[keep], kind="stable")
    order = docs[keep][by_val].astype(np.uint64)
    counts = np.bincount(idx[keep], minlength=n_vals).astype(np.int64)
    all_tokens = pa.concat_arrays(tokens) if tokens else pa.array([], pa.large_string())
    return all_tokens, (np.concatenate(vals) if vals else np.empty(0, np.int64)), order, counts


def _expand(t: np.ndarray, v: np.ndarray, order: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(token << 32 | document) for every (token t, value v) pair and every document holding v."""
    starts = np.cumsum(counts) - counts
    lens = counts[v]
    total = int(lens.sum())
    out_start = np.cumsum(lens) - lens
    pos = np.arange(total, dtype=np.int64) - np.repeat(out_start - starts[v], lens)
    return (np.repeat(t.view(np.uint64), lens) << np.uint64(32)) | order[pos]


def _chunk_postings(cols: list[pa.ChunkedArray], docs: np.ndarray) -> pa.Table:
    """Posting rows (token, sorted documents) of one chunk: ``cols`` its text columns,
    ``docs`` the document number of each of its rows."""
    import pyarrow.compute as pc  # see read_meta

    parts = [_column_pairs(c, docs) for c in cols]
    if sum(len(p[0]) for p in parts) == 0:
        return pa.table({"token": pa.array([], pa.string()), "rows": pa.array([], pa.list_(pa.uint32())), "block": pa.array([], pa.int32())})
    enc = pc.dictionary_encode(pa.concat_arrays([p[0] for p in parts]))
    words = enc.dictionary
    sort = pc.sort_indices(words).to_numpy()
    rank = np.empty(len(sort), np.int64)
    rank[sort] = np.arange(len(sort))
    codes = rank[enc.indices.to_numpy()]
    keys, at = [], 0
    for tokens, vals, order, counts in parts:
        n = len(tokens)
        if n:
            # each (token, distinct value) pair once, then every document holding that value
            pair = _sorted_unique((codes[at : at + n].view(np.uint64) << np.uint64(32)) | vals.view(np.uint64))
            keys.append(_expand((pair >> np.uint64(32)).view(np.int64), (pair & np.uint64(0xFFFFFFFF)).view(np.int64), order, counts))
        at += n
    key = _sorted_unique(np.concatenate(keys))
    tok = (key >> np.uint64(32)).view(np.int64)
    doc = (key & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    cut = np.flatnonzero(np.diff(tok)) + 1
    offsets = np.concatenate([[0], cut, [len(key)]]).astype(np.int32)
    names = words.take(pa.array(sort[tok[offsets[:-1]]])).cast(pa.string())
    rows = pa.ListArray.from_arrays(pa.array(offsets), pa.array(doc, pa.uint32()))
    out = pa.table({"token": names, "rows": rows, "block": pa.nulls(len(names), pa.int32())})
    return out.filter(pc.not_equal(out["token"], ""))  # the split's empty strings are no token


def _groups(post: pa.Table) -> list[tuple[int, int]]:
    """Row groups of posting rows: at most :data:`ROW_GROUP_TOKENS` tokens and, beyond one
    row, :data:`ROW_GROUP_POSTINGS` documents (a lookup decodes the whole ``rows`` of a group)."""
    n = post.num_rows
    if not n:
        return []
    rows = post.column("rows").combine_chunks()
    ends = np.cumsum(np.diff(rows.offsets.to_numpy()))
    cuts = set(range(0, n, ROW_GROUP_TOKENS))
    cuts.update(int(i) + 1 for i in np.searchsorted(ends, np.arange(ROW_GROUP_POSTINGS, int(ends[-1]), ROW_GROUP_POSTINGS), side="right"))
    bounds = sorted(c for c in cuts if 0 <= c < n) + [n]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _order(con, src: Path) -> tuple[np.ndarray, int, int | None, int | None]:
    """The part's file row numbers in document order, how many events have a time, and the
    newest and oldest time (epoch ms)."""
    t = con.sql(sql_text("textindex_order"), params={"part": str(src)}).to_arrow_table()
    rows = t.column("row_no").to_numpy().astype(np.uint32)
    ts = t.column("ts_ms")
    timed = len(ts) - ts.null_count
    if not timed:
        return rows, 0, None, None
    return rows, timed, int(ts[0].as_py()), int(ts[timed - 1].as_py())


def build_segment(wh: WarehouseFiles, events_rel: str) -> str:
    """Write the segment of the events part ``events_rel``; return its relative path."""
    src = wh.root / events_rel
    rel = segment_of(events_rel)
    dest = wh.root / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    con = scratch_connection(memory_limit=MEMORY_LIMIT)
    try:
        perm, timed, ts_max, ts_min = _order(con, src)
    finally:
        con.close()
    n_rows = len(perm)
    doc_of = np.empty(n_rows, np.uint32)
    doc_of[perm] = np.arange(n_rows, dtype=np.uint32)
    meta = {"version": FORMAT_VERSION, "events_part": events_rel, "events_rows": n_rows, "timed": timed, "ts_max_ms": ts_max, "ts_min_ms": ts_min}
    schema = SCHEMA.with_metadata({META_KEY: json.dumps(meta).encode()})
    import polars as pl  # see _sorted_unique
    import pyarrow.compute as pc  # see read_meta
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(src)
    names = [c for c in COLUMNS if c in pf.schema_arrow.names]
    scan = pl.scan_parquet(src).select(names)
    opts = dict(compression="zstd", use_dictionary=False, column_encoding={"rows.list.element": "DELTA_BINARY_PACKED"}, write_statistics=["token", "block"])
    with pq.ParquetWriter(tmp, schema, **opts) as writer:  # type: ignore[arg-type]
        first, groups, words = 0, [], []
        for g in range(pf.metadata.num_row_groups) if names else ():
            groups.append(g)
            n = sum(pf.metadata.row_group(i).num_rows for i in groups)
            if n >= CHUNK_ROWS or g == pf.metadata.num_row_groups - 1:
                chunk = scan.slice(first, n).collect().rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())  # Polars reads this several times cheaper
                post = _chunk_postings([chunk.column(c) for c in names], doc_of[first : first + n]).cast(schema)
                for lo, hi in _groups(post):
                    writer.write_table(post.slice(lo, hi - lo), row_group_size=hi - lo)
                words.append(post.column("token"))
                first, groups = first + n, []
        if words:  # the vocabulary: every token once, so a lookup's token scan reads no duplicates
            vocab = pc.unique(pa.chunked_array([c for w in words for c in w.chunks], pa.string()))
            vocab = vocab.take(pc.sort_indices(vocab))
            writer.write_table(
                pa.table({"token": vocab, "rows": pa.nulls(len(vocab), pa.list_(pa.uint32())), "block": pa.array(np.full(len(vocab), VOCABULARY, np.int32))}),
                row_group_size=VOCABULARY_ROWS_PER_GROUP,
            )
        starts = np.arange(0, n_rows, ORDER_BLOCK, dtype=np.int32)
        order = pa.table(
            {
                "token": pa.nulls(len(starts), pa.string()),
                "rows": pa.ListArray.from_arrays(pa.array(np.append(starts, n_rows).astype(np.int32)), pa.array(perm, pa.uint32())),
                "block": pa.array(np.arange(len(starts), dtype=np.int32)),
            }
        )
        writer.write_table(order.cast(schema), row_group_size=ORDER_ROWS_PER_GROUP)
    os.replace(tmp, dest)
    return rel


@dataclass
class SyncResult:
    built: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def sync(wh: WarehouseFiles, snap: Snapshot, parts: Iterable[str] | None = None) -> SyncResult:
    """Point ``snap``'s ``search_index`` at one segment per live events part: build the missing
    segments of ``parts`` (default: of every part), drop segments of parts ``snap`` no longer
    lists (they are retired with the commit). Call with the lock held, before the commit."""
    res = SyncResult()
    events = list(snap.tables.get("events", []))
    want = {segment_of(e): e for e in events}
    have = list(snap.tables.get(TABLE, []))
    keep = [r for r in have if r in want]
    res.dropped = [r for r in have if r not in want]
    todo = set(events) if parts is None else set(parts) & set(events)
    build = [part for seg, part in sorted(want.items()) if seg not in keep and part in todo]
    if len(build) > 1 and BUILD_THREADS > 1:  # the heavy steps (Arrow, NumPy, Polars, DuckDB) release the GIL
        with ThreadPoolExecutor(BUILD_THREADS) as pool:
            built = list(pool.map(lambda part: build_segment(wh, part), build))
    else:
        built = [build_segment(wh, part) for part in build]
    keep += built
    res.built += built
    if keep or TABLE in snap.tables:
        snap.tables[TABLE] = sorted(keep)
    return res


@dataclass
class IndexStatus:
    """Which events parts of a snapshot have a segment: (part, segment) pairs and the rest."""

    indexed: list[tuple[str, str]]
    unindexed: list[str]

    @property
    def complete(self) -> bool:
        return not self.unindexed


def status(snap: Snapshot, present: Path | None = None) -> IndexStatus:
    """The segments ``snap`` lists for its events parts (no file is read); with ``present``
    (the warehouse root) only those that exist on disk."""
    have = set(snap.tables.get(TABLE, []))
    indexed, unindexed = [], []
    for part in snap.tables.get("events", []):
        seg = segment_of(part)
        if seg in have and (present is None or (present / seg).is_file()):
            indexed.append((part, seg))
        else:
            unindexed.append(part)
    return IndexStatus(indexed, unindexed)


@dataclass
class Problem:
    """A segment that is missing, unreadable or not the one of its part, or a part without one."""

    kind: str  # missing | unreadable | stale | unindexed | orphan
    message: str
    path: str


def check(wh: WarehouseFiles, snap: Snapshot) -> list[Problem]:
    """Every problem of ``snap``'s search index: listed segments that are missing, do not read,
    or do not describe their part (version, part, row count), segments listed for no live part,
    and live parts without a segment. Search never uses a segment it cannot read (it scans
    those parts); ``tracelab index build`` repairs all of these."""
    import pyarrow.parquet as pq  # see read_meta

    out: list[Problem] = []
    st = status(snap)
    live = {seg for _, seg in st.indexed}
    for seg in snap.tables.get(TABLE, []):
        if seg not in live:
            out.append(Problem("orphan", f"{seg} is listed but its events part is not", seg))
    for part, seg in st.indexed:
        p = wh.root / seg
        if not p.is_file():
            out.append(Problem("missing", f"{seg} (search index of {part}) is listed in the snapshot but missing", seg))
            continue
        try:
            meta = read_meta(p)
            rows = pq.ParquetFile(wh.root / part).metadata.num_rows
        except (OSError, ValueError, TypeError, pa.ArrowException) as exc:
            out.append(Problem("unreadable", f"{seg} (search index of {part}) does not read ({exc})", seg))
            continue
        if meta.version != FORMAT_VERSION or meta.events_part != part or meta.events_rows != rows:
            out.append(Problem("stale", f"{seg} does not describe {part} as it is ({meta})", seg))
    for part in st.unindexed:
        out.append(Problem("unindexed", f"{part} has no search index segment (search scans it)", part))
    return out


def repair(wh: WarehouseFiles, snap: Snapshot) -> SyncResult:
    """Rebuild every segment :func:`check` finds at fault and build the missing ones (in
    ``snap``; commit it after)."""
    bad = {p.path for p in check(wh, snap) if p.kind in ("missing", "unreadable", "stale")}
    if bad:
        snap.tables[TABLE] = [s for s in snap.tables.get(TABLE, []) if s not in bad]
    return sync(wh, snap)
