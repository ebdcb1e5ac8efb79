"""The search index on disk: one **segment** per ``events`` part, built once, never changed.

A segment is a Parquet file ``search_index/v1/<the part's path under events/>`` listed in the
snapshot under the table ``search_index`` (so the snapshot commit publishes it atomically with
its part and garbage collection retires it with it). Columns ``token`` (a token as written,
:mod:`tracelab.textindex.tokens`) and ``rows`` (the part's 0-based row numbers, in file order,
of the events whose ``text`` or ``tool_input`` holds it), one row per token and chunk of
:data:`CHUNK_ROWS` events (postings are gathered a chunk at a time, in bounded memory), sorted
by token, in row groups of :data:`ROW_GROUP_TOKENS` tokens: a lookup scans the ``token``
column, then reads ``rows`` only from the row groups whose token range holds a match. The footer's key-value metadata
``tracelab.search_index`` records the format version, the part and its row count.

Parts never change (new rows go to new parts, removed rows and compaction write new parts), so a
segment stays exact for its part for as long as the part is live. :func:`sync` gives every part
of a snapshot that lacks one its segment (all, or only the ``parts`` given) and drops segments
of parts no longer listed; ingest calls it for the parts it wrote, ``tracelab index build`` for
all of them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracelab.store import sql_text
from tracelab.store.connection import MEMORY_LIMIT, scratch_connection
from tracelab.store.warehouse import Snapshot, Warehouse
from tracelab.textindex.tokens import SEPARATE

__all__ = ["CHUNK_ROWS", "FORMAT_VERSION", "TABLE", "IndexStatus", "Problem", "SyncResult", "build_segment", "check", "repair", "segment_of", "status", "sync"]

#: the snapshot table listing the segments
TABLE = "search_index"
#: bumped when tokens or layout change: segments of another version are not used (and rebuilt)
FORMAT_VERSION = 1
#: events per chunk: a token appears once per chunk it occurs in
CHUNK_ROWS = 64 * 1024
#: tokens per row group of a segment (row groups are pruned by their token range)
ROW_GROUP_TOKENS = 16 * 1024
META_KEY = b"tracelab.search_index"
SCHEMA = pa.schema([pa.field("token", pa.string()), pa.field("rows", pa.list_(pa.uint32()))])
#: the text columns indexed, as searched
COLUMNS = ("text", "tool_input")


def segment_of(events_rel: str) -> str:
    """The segment path (relative to the warehouse) of the events part ``events_rel``."""
    rel = Path(events_rel)
    tail = rel.relative_to("events") if rel.parts and rel.parts[0] == "events" else rel
    return (Path(TABLE) / f"v{FORMAT_VERSION}" / tail).as_posix()


def _separated(arr: pa.Array) -> pa.Array:
    """``arr`` (string) with every separator byte replaced by a space (same offsets)."""
    bufs = arr.buffers()
    if len(bufs) < 3 or bufs[2] is None:
        return arr
    data = pa.py_buffer(bufs[2].to_pybytes().translate(SEPARATE))
    return pa.Array.from_buffers(arr.type, len(arr), [bufs[0], bufs[1], data], null_count=arr.null_count, offset=arr.offset)


def _tokens(batch: pa.RecordBatch, first_row: int) -> pa.Table:
    """(token, row_no) of every token occurrence in ``batch`` (rows numbered from ``first_row``)."""
    tokens, rows = [], []
    for name in COLUMNS:
        col = batch.column(batch.schema.get_field_index(name))
        if pa.types.is_large_string(col.type) or pa.types.is_string(col.type):
            split = pc.ascii_split_whitespace(_separated(col))
            tokens.append(pc.list_flatten(split))
            rows.append(pc.add(pc.list_parent_indices(split), first_row).cast(pa.uint32()))
    if not tokens:
        return pa.table({"token": pa.array([], pa.string()), "row_no": pa.array([], pa.uint32())})
    return pa.table({"token": pa.concat_arrays([t.cast(pa.string()) for t in tokens]), "row_no": pa.concat_arrays(rows)})


def _chunks(path: Path) -> Iterator[tuple[int, list[pa.RecordBatch]]]:
    """The part's rows as (first row number, batches) of about :data:`CHUNK_ROWS` rows."""
    pf = pq.ParquetFile(path)
    names = [c for c in COLUMNS if c in pf.schema_arrow.names]
    first, pending, n = 0, [], 0
    for rb in pf.iter_batches(batch_size=16 * 1024, columns=names):
        pending.append(rb)
        n += rb.num_rows
        if n >= CHUNK_ROWS:
            yield first, pending
            first, pending, n = first + n, [], 0
    if pending:
        yield first, pending


def build_segment(wh: Warehouse, events_rel: str) -> str:
    """Write the segment of the events part ``events_rel``; return its relative path."""
    src = wh.root / events_rel
    rel = segment_of(events_rel)
    dest = wh.root / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    n_rows = pq.ParquetFile(src).metadata.num_rows
    meta = {"version": FORMAT_VERSION, "events_part": events_rel, "events_rows": n_rows}
    schema = SCHEMA.with_metadata({META_KEY: json.dumps(meta).encode()})
    chunks = dest.with_name(dest.name + ".chunks.tmp")
    con = scratch_connection(memory_limit=MEMORY_LIMIT)
    try:
        with pq.ParquetWriter(chunks, SCHEMA, compression="zstd") as writer:
            for first, batches in _chunks(src):
                toks = pa.concat_tables([_tokens(b, first + sum(x.num_rows for x in batches[:i])) for i, b in enumerate(batches)])
                con.register("tl_tokens", toks)
                chunk = con.sql(sql_text("textindex_postings")).to_arrow_table()
                con.unregister("tl_tokens")
                writer.write_table(chunk.cast(SCHEMA), row_group_size=max(chunk.num_rows, 1))
        # one token's postings of every chunk side by side: a lookup reads only the row groups
        # whose token range holds it
        ordered = con.sql("SELECT token, rows FROM read_parquet($f) ORDER BY token", params={"f": str(chunks)}).to_arrow_reader(64 * 1024)
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for rb in ordered:
                writer.write_table(pa.Table.from_batches([rb]).cast(schema), row_group_size=ROW_GROUP_TOKENS)
    finally:
        con.close()
        chunks.unlink(missing_ok=True)
    os.replace(tmp, dest)
    return rel


@dataclass
class SyncResult:
    built: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def sync(wh: Warehouse, snap: Snapshot, parts: Iterable[str] | None = None) -> SyncResult:
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
    for seg, part in sorted(want.items()):
        if seg not in keep and part in todo:
            keep.append(build_segment(wh, part))
            res.built.append(seg)
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


def check(wh: Warehouse, snap: Snapshot) -> list[Problem]:
    """Every problem of ``snap``'s search index: listed segments that are missing, do not read,
    or do not describe their part (version, part, row count), segments listed for no live part,
    and live parts without a segment. Search never uses a segment it cannot read (it scans
    those parts); ``tracelab index build`` repairs all of these."""
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
            meta = json.loads((pq.ParquetFile(p).schema_arrow.metadata or {}).get(META_KEY, b"{}"))
            rows = pq.ParquetFile(wh.root / part).metadata.num_rows
        except (OSError, ValueError, pa.ArrowException) as exc:
            out.append(Problem("unreadable", f"{seg} (search index of {part}) does not read ({exc})", seg))
            continue
        if meta.get("version") != FORMAT_VERSION or meta.get("events_part") != part or meta.get("events_rows") != rows:
            out.append(Problem("stale", f"{seg} does not describe {part} as it is ({meta})", seg))
    for part in st.unindexed:
        out.append(Problem("unindexed", f"{part} has no search index segment (search scans it)", part))
    return out


def repair(wh: Warehouse, snap: Snapshot) -> SyncResult:
    """Rebuild every segment :func:`check` finds at fault and build the missing ones (in
    ``snap``; commit it after)."""
    bad = {p.path for p in check(wh, snap) if p.kind in ("missing", "unreadable", "stale")}
    if bad:
        snap.tables[TABLE] = [s for s in snap.tables.get(TABLE, []) if s not in bad]
    return sync(wh, snap)
