"""A warehouse directory: Parquet tables plus one atomically replaced snapshot file.

Layout::

    WAREHOUSE/
      _snapshot.json                 the committed state: which Parquet files make up each table
      .lock                          held (flock) by the one ingest allowed at a time
      events/month=2025-11/part-<batch>-<n>.parquet
      llm_calls/month=…/…  tool_calls/month=…/…
      sessions/part-<batch>.parquet  rejects/…  files/…

Readers (the DuckDB catalog) only look at the files listed in ``_snapshot.json``. A writer puts
new files beside the old ones under fresh names, then replaces the snapshot with one
``os.replace`` (atomic on POSIX), then deletes files no snapshot references. A killed ingest
therefore leaves the previous snapshot and all of its files intact; its orphans are removed by
the next successful commit.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracelab import schema as S
from tracelab.errors import WarehouseCorrupt, WarehouseLocked

SNAPSHOT = "_snapshot.json"


def sql_list(paths: Iterable[str]) -> str:
    """``paths`` as a DuckDB list literal of quoted strings, for ``read_parquet([...])`` inside
    ``CREATE VIEW``, which cannot take parameters (file lists are data: always quoted here)."""
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


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


class WarehouseBusy(WarehouseLocked):
    """Another process holds the warehouse lock."""


class WarehouseError(WarehouseCorrupt):
    pass


@dataclass
class Snapshot:
    version: int = 0
    schema_version: int = S.SCHEMA_VERSION
    tables: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in S.TABLES})
    committed_at: str | None = None
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "version": self.version,
            "schema_version": self.schema_version,
            "committed_at": self.committed_at,
            "tables": self.tables,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, d: dict) -> Snapshot:
        tables = {t: list(d.get("tables", {}).get(t, [])) for t in S.TABLES}
        for t, files in d.get("tables", {}).items():
            tables.setdefault(t, list(files))
        return cls(d.get("version", 0), d.get("schema_version", S.SCHEMA_VERSION), tables, d.get("committed_at"), d.get("extra", {}))


class Warehouse:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser().resolve()

    # ------------------------------------------------------------------ reading
    @property
    def exists(self) -> bool:
        return (self.root / SNAPSHOT).exists()

    def snapshot(self) -> Snapshot:
        p = self.root / SNAPSHOT
        if not p.exists():
            return Snapshot()
        try:
            with open(p, "rb") as fh:
                return Snapshot.from_json(json.load(fh))
        except (ValueError, AttributeError, TypeError) as exc:  # not JSON, or not the snapshot's shape
            raise WarehouseCorrupt(f"{p}: the snapshot is unreadable ({exc}); `tracelab doctor --repair` can rebuild it", path=str(p)) from None

    def files_of(self, table: str, snap: Snapshot | None = None) -> list[Path]:
        snap = snap or self.snapshot()
        return [self.root / rel for rel in snap.tables.get(table, [])]

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

    # ------------------------------------------------------------------ writing
    @contextmanager
    def lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / ".lock"
        fh = open(path, "a+")
        try:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    fh.seek(0)
                    holder = fh.read().strip() or "unknown"
                    raise WarehouseBusy(
                        f"warehouse {self.root} is locked by another tracelab ingest ({holder}); wait for it to finish, or stop it, then run again"
                    ) from None
                raise
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} since {_dt.datetime.now(_dt.UTC).isoformat(timespec='seconds')}")
            fh.flush()
            yield
        finally:
            try:
                fh.seek(0)
                fh.truncate()
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            finally:
                fh.close()

    def new_batch_id(self) -> str:
        now = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S")
        return f"{now}-{uuid.uuid4().hex[:8]}"

    def write_part(self, table: str, data: pa.Table, batch: str, partition: str | None = None, n: int = 0) -> str:
        """Write one Parquet file for ``table`` (already cast) and return its relative path."""
        sub = Path(table) / f"month={partition}" if partition is not None else Path(table)
        rel = sub / f"part-{batch}-{n:04d}.parquet"
        dest = self.root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        pq.write_table(data, tmp, compression="zstd", row_group_size=256 * 1024, write_statistics=True)
        os.replace(tmp, dest)
        return rel.as_posix()

    def write_stream(self, table: str, tables: Iterable[pa.Table], name: str) -> list[str]:
        """Write ``tables`` (each already cast; arriving one at a time, never all in memory) as
        ``table`` parts: one part per month they hold, ``TABLE/month=M/part-NAME-K.parquet``,
        each written through while the rows arrive and renamed into place at the end. Returns
        the relative paths (none when no rows arrive)."""
        writers: dict[str, tuple[pq.ParquetWriter, Path, str]] = {}
        try:
            for t in tables:
                for month, part in month_parts(t):
                    if month not in writers:
                        rel = f"{table}/month={month}/part-{name}-{len(writers):04d}.parquet"
                        tmp = self.root / f"{rel}.tmp"
                        tmp.parent.mkdir(parents=True, exist_ok=True)
                        writers[month] = (pq.ParquetWriter(tmp, S.TABLES[table], compression="zstd", write_statistics=True), tmp, rel)
                    writers[month][0].write_table(part, row_group_size=256 * 1024)
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

    def commit(self, snap: Snapshot) -> None:
        """Atomically publish ``snap`` and remove files no longer referenced."""
        snap.version += 1
        snap.schema_version = S.SCHEMA_VERSION
        snap.committed_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")
        tmp = self.root / f"{SNAPSHOT}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            json.dump(snap.to_json(), fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / SNAPSHOT)
        self.gc(snap)

    def gc(self, snap: Snapshot) -> int:
        """Delete Parquet files (and stale temp files) that ``snap`` does not reference."""
        live = {rel for files in snap.tables.values() for rel in files}
        removed = 0
        for table in set(S.TABLES) | set(snap.tables):
            d = self.root / table
            if not d.exists():
                continue
            for p in d.rglob("*"):
                if p.is_file() and (p.suffix in (".parquet", ".tmp")) and p.relative_to(self.root).as_posix() not in live:
                    p.unlink()
                    removed += 1
            for sub in sorted((x for x in d.rglob("*") if x.is_dir()), reverse=True):
                try:
                    sub.rmdir()
                except OSError:
                    pass
        return removed


def _rows_without(path: Path, table: str, column: str, values: pa.Array) -> Iterator[pa.Table]:
    """The rows of one Parquet part whose ``column`` is not in ``values``, batch by batch."""
    for rb in pq.ParquetFile(path).iter_batches(batch_size=16 * 1024):
        t = pa.Table.from_batches([rb])
        t = t.filter(pc.invert(pc.is_in(t.column(column), value_set=values)))
        if t.num_rows:
            yield S.cast_table(t, table)
