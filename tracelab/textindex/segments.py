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
its row count, how many of its events have a time (``timed``: documents 0 … timed − 1), the
newest and oldest time (epoch milliseconds), so a search can tell which parts can hold its
newest matches, and the documents per order row.

Parts never change (new rows go to new parts, removed rows and compaction write new parts), so a
segment stays exact for its part for as long as the part is live. :func:`sync` gives every part
of a snapshot that lacks one its segment (all, or only the ``parts`` given; two at a time) and
drops segments of parts no longer listed; ``tracelab index build`` calls it for all of them.
Ingest builds the segments of the parts it wrote in a :class:`Prebuild` while it derives and
clusters failures, then calls it with those (and for any part compaction made).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tracelab.store.snapshot import Snapshot, WarehouseFiles
from tracelab.textindex.layout import (
    BUILD_THREADS,
    CHUNK_ROWS,
    FORMAT_VERSION,
    META_KEY,
    ORDER_BLOCK,
    TABLE,
    VOCABULARY,
    segment_of,
)

__all__ = [
    "CHUNK_ROWS",
    "FORMAT_VERSION",
    "ORDER_BLOCK",
    "VOCABULARY",
    "TABLE",
    "IndexStatus",
    "Prebuild",
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


@dataclass(frozen=True)
class SegmentMeta:
    """A segment's footer facts (see the module docstring)."""

    version: int
    events_part: str
    events_rows: int
    timed: int = 0
    ts_max_ms: int | None = None
    ts_min_ms: int | None = None
    order_block: int = ORDER_BLOCK


def read_meta(path: Path) -> SegmentMeta:
    """The footer facts of the segment at ``path`` (raises OSError/ValueError/ArrowException)."""
    import pyarrow.parquet as pq  # here and in check(): `tracelab search` imports this module, and no pyarrow

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
        int(meta.get("order_block", ORDER_BLOCK)),
    )


def build_segment(wh: WarehouseFiles, events_rel: str) -> str:
    """Write the segment of the events part ``events_rel``; return its relative path
    (:func:`tracelab.textindex.build.build_segment`)."""
    from tracelab.textindex.build import build_segment as build  # NumPy, pyarrow, Polars: not for a search

    return build(wh, events_rel)


@dataclass
class SyncResult:
    built: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def sync(wh: WarehouseFiles, snap: Snapshot, parts: Iterable[str] | None = None, prebuilt: Mapping[str, str] | None = None) -> SyncResult:
    """Point ``snap``'s ``search_index`` at one segment per live events part: build the missing
    segments of ``parts`` (default: of every part), drop segments of parts ``snap`` no longer
    lists (they are retired with the commit). ``prebuilt``: segments already written for some
    parts (:class:`Prebuild`; those of parts ``snap`` no longer lists are deleted). Call with
    the lock held, before the commit."""
    res = SyncResult()
    events = list(snap.tables.get("events", []))
    want = {segment_of(e): e for e in events}
    have = list(snap.tables.get(TABLE, []))
    keep = [r for r in have if r in want]
    res.dropped = [r for r in have if r not in want]
    todo = set(events) if parts is None else set(parts) & set(events)
    ready = dict(prebuilt or {})
    for part, seg in list(ready.items()):
        if part not in want.values():  # merged away meanwhile: never listed
            (wh.root / seg).unlink(missing_ok=True)
            del ready[part]
    build = [part for seg, part in sorted(want.items()) if seg not in keep and part in todo and part not in ready]
    if len(build) > 1 and BUILD_THREADS > 1:  # the heavy steps (Arrow, NumPy, Polars, DuckDB) release the GIL
        with ThreadPoolExecutor(BUILD_THREADS) as pool:
            built = list(pool.map(lambda part: build_segment(wh, part), build))
    else:
        built = [build_segment(wh, part) for part in build]
    built += [seg for _, seg in sorted(ready.items()) if seg not in keep]
    keep += built
    res.built += built
    if keep or TABLE in snap.tables:
        snap.tables[TABLE] = sorted(keep)
    return res


class Prebuild:
    """The segments of ``parts`` built one after another in a background thread, while the
    caller goes on with other work (ingest: derive and failure clustering, which leave a core
    idle part of the time); :meth:`finish` waits and hands them to :func:`sync` (``prebuilt``).
    One segment at a time: a build's memory is not doubled. The parts must stay on disk until
    :meth:`finish` or :meth:`cancel` returns."""

    def __init__(self, wh: WarehouseFiles, parts: Iterable[str]) -> None:
        self._wh = wh
        self._parts = sorted(parts)
        self._built: dict[str, str] = {}
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tracelab-textindex", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for part in self._parts:
                if self._stop.is_set():
                    return
                self._built[part] = build_segment(self._wh, part)
        except BaseException as exc:  # re-raised by finish(), in the caller's thread
            self._error = exc

    def finish(self) -> dict[str, str]:
        """Wait for the builds; {part: segment} (raises what a build raised)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return dict(self._built)

    def cancel(self) -> None:
        """Stop after the segment being built and wait (the caller is failing: what was
        written is never listed, and removed with the run's other files)."""
        self._stop.set()
        self._thread.join()


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
    import pyarrow as pa  # see read_meta
    import pyarrow.parquet as pq

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
