"""Building a search index segment (:mod:`tracelab.textindex.segments` describes the layout).

For one events part: its events numbered newest first (``textindex_order.sql``), then, a chunk
of :data:`~tracelab.textindex.layout.CHUNK_ROWS` file rows at a time, the text columns read
dictionary encoded (the row groups' dictionaries unified: each *distinct* text and tool input
once, without materializing every row's text), each distinct value tokenized once
(:mod:`tracelab.textindex.tokens`; agent logs repeat a lot: the same file read, the same
reminder), the (token, value) pairs made unique and expanded to the documents holding each
value, and the (token, document) pairs sorted (NumPy) into posting rows; then the vocabulary
and the order rows. NumPy and pyarrow live here, not in the modules a search imports.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
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
    """``keys`` (uint64, sorted in place) each once, in order (NumPy's sort: cheaper in CPU than
    Polars' here, and ``np.unique`` is not a sort on this NumPy)."""
    keys.sort()
    if len(keys) < 2:
        return keys
    first = np.empty(len(keys), bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    return keys[first]


def _distinct(col: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """A text column of a chunk as its distinct values and, per row, the index of its value
    (-1: null). The column arrives dictionary encoded (read so from Parquet: one dictionary per
    row group); the chunks' dictionaries are unified, so only they are hashed, not every row."""
    target = pa.dictionary(pa.int32(), pa.large_string())  # a chunk's distinct text may pass 2 GiB
    chunks = [(c if pa.types.is_dictionary(c.type) else pc.dictionary_encode(c)).cast(target) for c in col.chunks]
    if not chunks:
        return pa.array([], pa.large_string()), np.empty(0, np.int64)
    unified = pa.chunked_array(chunks, target).unify_dictionaries()
    indices = pa.concat_arrays([c.indices for c in unified.chunks])
    idx = indices.fill_null(-1).to_numpy().astype(np.int64) if indices.null_count else indices.to_numpy().astype(np.int64)
    return unified.chunks[0].dictionary, idx


def _column_pairs(col: pa.ChunkedArray, docs: np.ndarray) -> tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]:
    """One text column of a chunk, each distinct value tokenized once.

    Returns ``tokens`` (every token occurrence in the distinct values, dictionary encoded),
    ``vals`` (the distinct value each occurrence came from), ``order`` (the chunk's document
    numbers grouped by value) and ``counts`` (documents per value): :func:`_expand` turns
    (token, value) pairs into (token, document) pairs."""
    values, idx = _distinct(col)
    split = pc.ascii_split_whitespace(_separated(values))
    tokens = pc.dictionary_encode(pc.list_flatten(split))
    vals = np.repeat(np.arange(len(split), dtype=np.uint64), pc.list_value_length(split).to_numpy())
    keep = idx >= 0
    by_val = np.argsort(idx[keep], kind="stable")
    order = docs[keep][by_val].astype(np.uint64)
    counts = np.bincount(idx[keep], minlength=len(values)).astype(np.int64)
    return tokens, vals, order, counts


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
    """Posting rows (token, sorted documents) of one chunk: ``cols`` its text columns (taken
    out of the list as they are tokenized, so their memory goes then), ``docs`` the document
    number of each of its rows."""
    parts = []
    while cols:
        parts.append(_column_pairs(cols.pop(0), docs))
    pieces = [p[0] for p in parts]
    if sum(len(t) for t in pieces) == 0:
        return pa.table({"token": pa.array([], pa.string()), "rows": pa.array([], pa.list_(pa.uint32())), "block": pa.array([], pa.int32())})
    # one dictionary for the tokens of every column (only the dictionaries are hashed again),
    # token codes renumbered to the sorted order of the words
    unified = pa.chunked_array([t.cast(pa.dictionary(pa.int32(), pa.large_string())) for t in pieces]).unify_dictionaries()
    words = unified.chunks[0].dictionary
    sort = pc.sort_indices(words).to_numpy()
    rank = np.empty(len(sort), np.uint64)
    rank[sort] = np.arange(len(sort), dtype=np.uint64)
    keys = []
    for (tokens, vals, order, counts), codes in zip(parts, unified.chunks):
        if len(tokens):
            pair = rank[codes.indices.to_numpy()]
            # each (token, distinct value) pair once, then every document holding that value
            pair <<= np.uint64(32)
            pair |= vals
            pair = _sorted_unique(pair)
            keys.append(_expand(pair & _HIGH, (pair & _LOW).view(np.int64), order, counts))
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


def _read_rows(pf: pq.ParquetFile, names: list[str], first: int, n: int) -> pa.Table:
    """File rows ``first`` … ``first + n - 1`` of ``names``, text columns dictionary encoded
    (``pf`` opened with ``read_dictionary``): the row groups holding them, sliced. Decoding a
    row group's dictionary pages costs less than materializing every row's text, and the
    memory of a chunk is then its distinct texts."""
    meta = pf.metadata
    groups, start = [], 0
    for g in range(meta.num_row_groups):
        rows = meta.row_group(g).num_rows
        if start < first + n and start + rows > first:
            groups.append((g, start))
        start += rows
    if not groups:
        return pf.schema_arrow.empty_table().select(names)
    table = pf.read_row_groups([g for g, _ in groups], columns=names, use_threads=False)
    return table.slice(first - groups[0][1], n)


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
    names = [c for c in COLUMNS if c in pq.read_schema(src).names]
    pf = pq.ParquetFile(src, read_dictionary=names)
    opts = dict(compression="zstd", use_dictionary=False, column_encoding={"rows.list.element": "DELTA_BINARY_PACKED"}, write_statistics=["token", "block"])
    with pq.ParquetWriter(tmp, schema, **opts) as writer:
        words = []
        for first in range(0, n_rows, CHUNK_ROWS) if names else ():
            n = min(CHUNK_ROWS, n_rows - first)
            chunk = _read_rows(pf, names, first, n)
            cols = [chunk.column(c) for c in names]
            del chunk
            post = _chunk_postings(cols, doc_of[first : first + n]).cast(schema)
            for lo, hi in _groups(post):
                writer.write_table(post.slice(lo, hi - lo), row_group_size=hi - lo)
            words.append(post.column("token"))
        if words:  # the vocabulary: every token once, so a lookup's token scan reads no duplicates
            if len(words) == 1:  # one chunk: its posting rows' tokens are already each once, sorted
                vocab = words[0].combine_chunks()
            else:
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
