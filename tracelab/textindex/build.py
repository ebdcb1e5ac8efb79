"""Building a search index segment (:mod:`tracelab.textindex.segments` describes the layout).

For one events part: its events numbered newest first (``textindex_order.sql``), then, a chunk
of :data:`~tracelab.textindex.layout.CHUNK_ROWS` file rows at a time, every *distinct* text
and tool input tokenized once (:mod:`tracelab.textindex.tokens`; agent logs repeat a lot: the
same file read, the same reminder), the (token, text) pairs made unique and expanded to the
documents holding each text, and the (token, document) pairs sorted (Polars, every core) into
posting rows; then the vocabulary and the order rows. NumPy, pyarrow and Polars live here, not
in the modules a search imports.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracelab.store import sql_text
from tracelab.store.connection import MEMORY_LIMIT, scratch_connection
from tracelab.store.snapshot import WarehouseFiles
from tracelab.textindex.layout import (
    CHUNK_ROWS,
    COLUMNS,
    FORMAT_VERSION,
    META_KEY,
    ORDER_BLOCK,
    ORDER_ROWS_PER_GROUP,
    ROW_GROUP_POSTINGS,
    ROW_GROUP_TOKENS,
    VOCABULARY,
    VOCABULARY_ROWS_PER_GROUP,
    segment_of,
)
from tracelab.textindex.tokens import SEPARATE

__all__ = ["SCHEMA", "build_segment"]

_HIGH = np.uint64(0xFFFFFFFF00000000)
_LOW = np.uint64(0xFFFFFFFF)
SCHEMA = pa.schema([pa.field("token", pa.string()), pa.field("rows", pa.list_(pa.uint32())), pa.field("block", pa.int32())])


def _separated(arr: pa.Array) -> pa.Array:
    """``arr`` (string) with every separator byte replaced by a space (same offsets)."""
    bufs = arr.buffers()
    if len(bufs) < 3 or bufs[2] is None:
        return arr
    data = pa.py_buffer(bufs[2].to_pybytes().translate(SEPARATE))
    return pa.Array.from_buffers(arr.type, len(arr), [bufs[0], bufs[1], data], null_count=arr.null_count, offset=arr.offset)


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """``keys`` (uint64) sorted, each once (NumPy's sort: cheaper in CPU than Polars' here, and
    ``np.unique`` is not a sort on this NumPy)."""
    keys = np.sort(keys)
    if len(keys) < 2:
        return keys
    first = np.empty(len(keys), bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    return keys[first]


def _column_pairs(col: pa.ChunkedArray, docs: np.ndarray) -> tuple[list[pa.Array], np.ndarray, np.ndarray, np.ndarray]:
    """One text column of a chunk, each distinct value tokenized once.

    Returns ``tokens`` (per Arrow chunk, every token occurrence in its distinct values,
    dictionary encoded), ``vals`` (the distinct value each occurrence came from), ``order``
    (the chunk's document numbers grouped by value) and ``counts`` (documents per value):
    :func:`_expand` turns (token, value) pairs into (token, document) pairs."""
    tokens, vals, idxs = [], [], []
    n_vals = 0
    for arr in col.chunks:
        enc = pc.dictionary_encode(arr)
        split = pc.ascii_split_whitespace(_separated(enc.dictionary))
        tokens.append(pc.dictionary_encode(pc.list_flatten(split)))
        vals.append(np.repeat(np.arange(n_vals, n_vals + len(split), dtype=np.uint64), pc.list_value_length(split).to_numpy()))
        idxs.append(np.where(enc.indices.is_valid().to_numpy(zero_copy_only=False), enc.indices.fill_null(0).to_numpy().astype(np.int64) + n_vals, -1))
        n_vals += len(enc.dictionary)
    idx = np.concatenate(idxs) if idxs else np.empty(0, np.int64)
    keep = idx >= 0
    by_val = np.argsort(idx[keep], kind="stable")
    order = docs[keep][by_val].astype(np.uint64)
    counts = np.bincount(idx[keep], minlength=n_vals).astype(np.int64)
    return tokens, (np.concatenate(vals) if vals else np.empty(0, np.uint64)), order, counts


def _expand(high: np.ndarray, v: np.ndarray, order: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(token << 32 | document) for every pair (``high`` = token << 32, value v) and every
    document holding v."""
    starts = np.cumsum(counts) - counts
    lens = counts[v]
    total = int(lens.sum())
    out_start = np.cumsum(lens) - lens
    pos = np.arange(total, dtype=np.int64) - np.repeat(out_start - starts[v], lens)
    return np.repeat(high, lens) | order[pos]


def _chunk_postings(cols: list[pa.ChunkedArray], docs: np.ndarray) -> pa.Table:
    """Posting rows (token, sorted documents) of one chunk: ``cols`` its text columns,
    ``docs`` the document number of each of its rows."""
    parts = [_column_pairs(c, docs) for c in cols]
    pieces = [t for p in parts for t in p[0]]
    if sum(len(t) for t in pieces) == 0:
        return pa.table({"token": pa.array([], pa.string()), "rows": pa.array([], pa.list_(pa.uint32())), "block": pa.array([], pa.int32())})
    # one dictionary for the tokens of every column (only the dictionaries are hashed again),
    # token codes renumbered to the sorted order of the words
    unified = pa.chunked_array([t.cast(pa.dictionary(pa.int32(), pa.large_string())) for t in pieces]).unify_dictionaries()
    words = unified.chunks[0].dictionary
    sort = pc.sort_indices(words).to_numpy()
    rank = np.empty(len(sort), np.uint64)
    rank[sort] = np.arange(len(sort), dtype=np.uint64)
    keys, at = [], 0
    for tokens, vals, order, counts in parts:
        n = len(tokens)
        if sum(len(t) for t in tokens):
            codes = np.concatenate([rank[c.indices.to_numpy()] for c in unified.chunks[at : at + n]])
            # each (token, distinct value) pair once, then every document holding that value
            pair = _sorted_unique((codes << np.uint64(32)) | vals)
            keys.append(_expand(pair & _HIGH, (pair & _LOW).view(np.int64), order, counts))
        at += n
    key = _sorted_unique(np.concatenate(keys))
    per_token = np.bincount((key >> np.uint64(32)).view(np.int64), minlength=len(words))
    present = np.flatnonzero(per_token)
    offsets = np.concatenate([[0], np.cumsum(per_token[present])]).astype(np.int32)
    names = words.take(pa.array(sort[present])).cast(pa.string())
    rows = pa.ListArray.from_arrays(pa.array(offsets), pa.array(key.astype(np.uint32), pa.uint32()))
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
    meta = {
        "version": FORMAT_VERSION,
        "events_part": events_rel,
        "events_rows": n_rows,
        "timed": timed,
        "ts_max_ms": ts_max,
        "ts_min_ms": ts_min,
        "order_block": ORDER_BLOCK,
    }
    schema = SCHEMA.with_metadata({META_KEY: json.dumps(meta).encode()})
    pf = pq.ParquetFile(src)
    names = [c for c in COLUMNS if c in pf.schema_arrow.names]
    scan = pl.scan_parquet(src).select(names)
    opts = dict(compression="zstd", use_dictionary=False, column_encoding={"rows.list.element": "DELTA_BINARY_PACKED"}, write_statistics=["token", "block"])
    with pq.ParquetWriter(tmp, schema, **opts) as writer:
        words = []
        for first in range(0, n_rows, CHUNK_ROWS) if names else ():
            n = min(CHUNK_ROWS, n_rows - first)
            chunk = scan.slice(first, n).collect().rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())  # Polars reads this several times cheaper
            post = _chunk_postings([chunk.column(c) for c in names], doc_of[first : first + n]).cast(schema)
            for lo, hi in _groups(post):
                writer.write_table(post.slice(lo, hi - lo), row_group_size=hi - lo)
            words.append(post.column("token"))
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
