"""Merge small Parquet parts of the partitioned tables.

Every ingest adds parts: the parser workers write one ``events`` part per batch and month, and
an incremental derive one ``llm_calls`` / ``tool_calls`` part per month it touched (plus the
parts it rewrote). A warehouse refreshed every hour would collect thousands of small files, and
every query opens every file of the months it reads. :func:`compact` merges, per table and
month, the parts below ``small_bytes`` once there are ``min_parts`` of them, into one part:
the same rows, read and written batch by batch (bounded memory), published by the snapshot
commit like any other change. Ingest runs it before each commit with the defaults below;
``tracelab compact`` runs it on demand (default: every month with two or more small parts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tracelab import schema as S
from tracelab.store.warehouse import Snapshot, Warehouse

#: Parts below this size are merged ...
SMALL_BYTES = 32 << 20
#: ... once a month of a table has this many of them.
MIN_PARTS = 8
#: ``rejects`` has no ``month`` column: its parts are partitioned by the month of their
#: file's first timestamp (the directory says which), and merged within it like the others.
TABLES = (*S.PARTITIONED, "rejects")


@dataclass
class Compaction:
    """What :func:`compact` did: parts before and after, per table."""

    merged: dict[str, int] = field(default_factory=dict)  # table -> parts merged away
    parts_before: dict[str, int] = field(default_factory=dict)
    parts_after: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.merged.values())


def plan(wh: Warehouse, snap: Snapshot, small_bytes: int | None = None, min_parts: int | None = None) -> dict[tuple[str, str], list[str]]:
    """(table, month) -> the small parts to merge into one (thresholds default to
    ``SMALL_BYTES`` / ``MIN_PARTS``)."""
    small_bytes = SMALL_BYTES if small_bytes is None else small_bytes
    min_parts = MIN_PARTS if min_parts is None else min_parts
    out: dict[tuple[str, str], list[str]] = {}
    for table in TABLES:
        by_month: dict[str, list[str]] = {}
        for rel in snap.tables.get(table, []):
            if (wh.root / rel).stat().st_size < small_bytes:
                by_month.setdefault(_month(rel), []).append(rel)
        for month, rels in sorted(by_month.items()):
            if len(rels) >= max(min_parts, 2):
                out[(table, month)] = sorted(rels)
    return out


def compact(wh: Warehouse, snap: Snapshot, batch: str, small_bytes: int | None = None, min_parts: int | None = None) -> Compaction:
    """Merge ``snap``'s small parts (see :func:`plan`) and point ``snap`` at the result. Call
    with the warehouse lock held, before ``wh.commit(snap)``. Table contents do not change (only
    which files hold the rows), so whatever describes them (derive and failure stamps that list
    files) is the caller's to re-stamp."""
    res = Compaction(parts_before={t: len(snap.tables.get(t, [])) for t in TABLES})
    for i, ((table, month), rels) in enumerate(sorted(plan(wh, snap, small_bytes, min_parts).items())):
        # a table without a month column (rejects) is told which month its rows belong to
        fixed = None if "month" in S.TABLE_SCHEMAS[table].names else month
        merged = wh.write_stream(table, _rows(wh, rels, table), f"{batch}-c{i:04d}", fixed)
        gone = set(rels)
        snap.tables[table] = sorted([r for r in snap.tables[table] if r not in gone] + merged)
        res.merged[table] = res.merged.get(table, 0) + len(rels) - len(merged)
    res.parts_after = {t: len(snap.tables.get(t, [])) for t in TABLES}
    return res


def _month(rel: str) -> str:
    return Path(rel).parent.name.partition("=")[2] or "unknown"


#: Rows are gathered into row groups of up to this many rows or bytes (whichever comes first).
GROUP_ROWS = 64 * 1024
GROUP_BYTES = 64 << 20


def _rows(wh: Warehouse, rels: list[str], table: str) -> Iterator[pa.Table]:
    """The rows of ``rels`` in order, as tables of about one row group each."""
    pending: list[pa.RecordBatch] = []
    rows = nbytes = 0
    for rel in rels:
        for rb in pq.ParquetFile(wh.root / rel).iter_batches(batch_size=16 * 1024):
            pending.append(rb)
            rows += rb.num_rows
            nbytes += rb.nbytes
            if rows >= GROUP_ROWS or nbytes >= GROUP_BYTES:
                yield S.cast_table(pa.Table.from_batches(pending), table)
                pending, rows, nbytes = [], 0, 0
    if rows:
        yield S.cast_table(pa.Table.from_batches(pending), table)
