"""A warehouse directory: Parquet tables plus one atomically replaced snapshot file.

Layout::

    WAREHOUSE/
      _snapshot.json                 the committed state: which Parquet files make up each table
      _snapshot.prev.json            the state before the last commit (what `tracelab doctor` rolls back to)
      .lock                          held (flock) by the one ingest allowed at a time
      events/month=2025-11/part-<batch>-<n>.parquet
      llm_calls/month=…/…  tool_calls/month=…/…
      rejects/month=2025-11/part-<batch>-<n>.parquet
      sessions/part-<batch>.parquet  files/…

The snapshot, lock, commit and garbage collection are in :mod:`tracelab.store.snapshot`
(no pyarrow, so opening a warehouse for DuckDB does not load it); this module adds reading and
writing parts. Readers (the DuckDB catalog) only look at the files listed in ``_snapshot.json``. A writer puts
new files beside the old ones under fresh names, then replaces the snapshot with one
``os.replace`` (atomic on POSIX) and fsyncs the directory, then deletes files no snapshot
references. A killed ingest therefore leaves the previous snapshot and all of its files intact;
its orphans are removed by the next successful commit. Each commit also keeps the snapshot it
replaces as ``_snapshot.prev.json`` (written atomically before the new one), and the parts
that snapshot lists stay on disk until the next commit replaces it: ``tracelab doctor
--repair`` rolls back to it when the current snapshot is lost, corrupt or lists a part that is
gone.

Snapshot isolation for readers: a reader (``tracelab.connect``, ``tracelab sql``, a notebook)
reads the files of the snapshot it opened for as long as it stays open. A commit therefore does
not delete the parts it supersedes: it lists them under ``retired`` in the new snapshot with the
time they left it, and a later commit deletes them once no open reader's lease may need them
(:class:`~tracelab.store.snapshot.ReaderLease`) and they have been retired for
:data:`GRACE_SECONDS` (``$TRACELAB_GC_GRACE_SECONDS``, default one hour). Files no snapshot ever
referenced (a killed ingest's) are deleted at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracelab import schema as S
from tracelab.errors import WarehouseError, WarehouseLocked
from tracelab.store.snapshot import GRACE_SECONDS, SNAPSHOT, Snapshot, WarehouseFiles, default_warehouse, sql_list

__all__ = [
    "BLOOM_FILTERS",
    "GRACE_SECONDS",
    "SNAPSHOT",
    "Snapshot",
    "Warehouse",
    "WarehouseBusy",
    "WarehouseFiles",
    "default_warehouse",
    "month_parts",
    "sql_list",
]

#: Parquet Bloom filters written per row group, by table: on ``session_key``, so that a
#: lookup of one session (``WHERE session_key = $k``: ``tracelab session``, the failure
#: context) skips every row group that does not hold it. Min/max statistics cannot: a row
#: group holds sessions of random keys. ~10 KB a row group (NDV 8192 at 1% false positives).
BLOOM_FILTERS: dict[str, dict[str, dict[str, float]]] = {
    t: {"session_key": {"ndv": 8192, "fpp": 0.01}} for t in ("events", "llm_calls", "tool_calls", "sessions", "failure_members")
}

#: Earlier name of :class:`tracelab.errors.WarehouseLocked`.
WarehouseBusy = WarehouseLocked


def month_parts(data: pa.Table) -> list[tuple[str, pa.Table]]:
    """``data`` split by its ``month`` column: (month, rows) in month order, rows without a
    month last under ``unknown``. A table of one month comes back whole (filtering copies
    every value, ~0.5 s for 400 MB of tool output), as it usually is."""
    if data.num_rows == 0:
        return []
    months = data.column("month")
    uniq = months.unique()
    if len(uniq) == 1:
        return [(uniq[0].as_py() or "unknown", data)]
    out = [(m, data.filter(pc.equal(months, m))) for m in sorted(m for m in uniq.to_pylist() if m is not None)]
    if uniq.null_count:
        out.append(("unknown", data.filter(pc.is_null(months))))
    return out


class Warehouse(WarehouseFiles):
    """A warehouse directory (:class:`~tracelab.store.snapshot.WarehouseFiles`: snapshot, lock,
    commit) with its tables read and written as Parquet through pyarrow."""

    def read_table(self, table: str, snap: Snapshot | None = None, columns: list[str] | None = None) -> pa.Table:
        files = self.files_of(table, snap)
        schema = S.TABLES.get(table)
        if not files:
            if schema is None:
                raise WarehouseError(f"table {table!r} is not in the warehouse")
            empty = schema.empty_table()
            return empty.select(columns) if columns else empty
        # ParquetFile, not pq.read_table: the latter imports pyarrow.dataset (~0.4 s of start-up)
        tables = [pq.ParquetFile(f).read(columns=columns) for f in files]
        out = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
        if schema is not None and columns is None:
            out = S.cast_table(out, table)
        return out

    def write_part(self, table: str, data: pa.Table, batch: str, partition: str | None = None, n: int = 0) -> str:
        """Write one Parquet file for ``table`` (already cast) and return its relative path."""
        sub = Path(table) / f"month={partition}" if partition is not None else Path(table)
        rel = sub / f"part-{batch}-{n:04d}.parquet"
        dest = self.root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        pq.write_table(data, tmp, compression="zstd", row_group_size=256 * 1024, write_statistics=True, bloom_filter_options=BLOOM_FILTERS.get(table))
        os.replace(tmp, dest)
        return rel.as_posix()

    def write_stream(self, table: str, tables: Iterable[pa.Table], name: str, month: str | None = None) -> list[str]:
        """Write ``tables`` (each already cast; arriving one at a time, never all in memory) as
        ``table`` parts: one part per month they hold, ``TABLE/month=M/part-NAME-K.parquet``,
        each written through while the rows arrive and renamed into place at the end. Returns
        the relative paths (none when no rows arrive). ``month``: every row goes to that
        month (a table without a ``month`` column, ``rejects``)."""
        writers: dict[str, tuple[pq.ParquetWriter, Path, str]] = {}
        try:
            for t in tables:
                for m, part in month_parts(t) if month is None else ([(month, t)] if t.num_rows else []):
                    if m not in writers:
                        rel = f"{table}/month={m}/part-{name}-{len(writers):04d}.parquet"
                        tmp = self.root / f"{rel}.tmp"
                        tmp.parent.mkdir(parents=True, exist_ok=True)
                        writers[m] = (
                            pq.ParquetWriter(tmp, S.TABLES[table], compression="zstd", write_statistics=True, bloom_filter_options=BLOOM_FILTERS.get(table)),
                            tmp,
                            rel,
                        )
                    writers[m][0].write_table(part, row_group_size=256 * 1024)
        finally:
            for w, _, _ in writers.values():
                w.close()
        for _, tmp, rel in writers.values():
            os.replace(tmp, self.root / rel)
        return sorted(rel for _, _, rel in writers.values())

    def without_rows(self, table: str, snap: Snapshot, column: str, values: pa.Array, name: str) -> list[str]:
        """``snap``'s parts of ``table`` minus the rows whose ``column`` is in ``values``: parts
        holding none are kept as they are (one narrow column read), the others rewritten batch
        by batch as ``part-NAME<i>-…`` (a part need not fit in memory), or dropped when emptied."""
        out: list[str] = []
        for i, rel in enumerate(snap.tables.get(table, [])):
            path = self.root / rel
            if not pc.any(pc.is_in(pq.read_table(path, columns=[column]).column(column), value_set=values)).as_py():
                out.append(rel)
                continue
            out += self.write_stream(table, _rows_without(path, table, column, values), f"{name}{i:05d}")
        return out


def _rows_without(path: Path, table: str, column: str, values: pa.Array) -> Iterator[pa.Table]:
    """The rows of one Parquet part whose ``column`` is not in ``values``, batch by batch."""
    for rb in pq.ParquetFile(path).iter_batches(batch_size=16 * 1024):
        t = pa.Table.from_batches([rb])
        t = t.filter(pc.invert(pc.is_in(t.column(column), value_set=values)))
        if t.num_rows:
            yield S.cast_table(t, table)
