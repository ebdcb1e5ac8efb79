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
``os.replace`` (atomic on POSIX) and fsyncs the directory, then deletes files no snapshot
references. A killed ingest therefore leaves the previous snapshot and all of its files intact;
its orphans are removed by the next successful commit.

Snapshot isolation for readers: a reader (``tracelab.connect``, ``tracelab sql``, a notebook)
reads the files of the snapshot it opened for as long as it stays open. A commit therefore does
not delete the parts it supersedes: it lists them under ``retired`` in the new snapshot with the
time they left it, and a later commit deletes them once they have been retired for
:data:`GRACE_SECONDS` (``$TRACELAB_GC_GRACE_SECONDS``, default one hour). Files no snapshot ever
referenced (a killed ingest's) are deleted at once.
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
from tracelab.errors import WarehouseCorrupt, WarehouseError, WarehouseLocked, WarehouseReadOnly

SNAPSHOT = "_snapshot.json"

#: Seconds a part superseded by a commit stays on disk for readers of older snapshots.
GRACE_SECONDS = float(os.environ.get("TRACELAB_GC_GRACE_SECONDS", "3600"))


def default_warehouse() -> Path:
    """The warehouse a command uses when given none: ``$TRACELAB_WAREHOUSE``, else ``./warehouse``."""
    return Path(os.environ.get("TRACELAB_WAREHOUSE", "warehouse"))


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


#: Earlier name of :class:`tracelab.errors.WarehouseLocked`.
WarehouseBusy = WarehouseLocked


@dataclass
class Snapshot:
    version: int = 0
    schema_version: int = S.SCHEMA_VERSION
    tables: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in S.TABLES})
    committed_at: str | None = None
    extra: dict = field(default_factory=dict)
    #: parts earlier snapshots referenced and this one does not -> when they left (ISO, UTC);
    #: kept on disk for readers of those snapshots until :data:`GRACE_SECONDS` have passed
    retired: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "version": self.version,
            "schema_version": self.schema_version,
            "committed_at": self.committed_at,
            "tables": self.tables,
            "extra": self.extra,
            "retired": self.retired,
        }

    @classmethod
    def from_json(cls, d: dict) -> Snapshot:
        tables = {t: list(d.get("tables", {}).get(t, [])) for t in S.TABLES}
        for t, files in d.get("tables", {}).items():
            tables.setdefault(t, list(files))
        retired = {str(k): str(v) for k, v in dict(d.get("retired") or {}).items()}
        return cls(d.get("version", 0), d.get("schema_version", S.SCHEMA_VERSION), tables, d.get("committed_at"), d.get("extra", {}), retired)

    def live(self) -> set[str]:
        """Relative paths of every part this snapshot references."""
        return {rel for files in self.tables.values() for rel in files}


class Warehouse:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser().resolve()

    # ------------------------------------------------------------------ reading
    @property
    def exists(self) -> bool:
        return (self.root / SNAPSHOT).exists()

    def snapshot(self) -> Snapshot:
        """The committed snapshot (an empty one where none was committed yet). Raises
        :class:`~tracelab.errors.WarehouseCorrupt` when ``_snapshot.json`` cannot be read."""
        p = self.root / SNAPSHOT
        try:
            with open(p, "rb") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            return Snapshot()
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
            raise WarehouseCorrupt(f"{p}: the warehouse snapshot is not valid JSON ({exc})", path=str(p)) from None
        except OSError as exc:
            raise WarehouseCorrupt(f"{p}: cannot read the warehouse snapshot ({exc.strerror or exc})", path=str(p)) from None
        if not isinstance(data, dict) or not isinstance(data.get("tables", {}), dict):
            raise WarehouseCorrupt(f"{p}: the warehouse snapshot is not a tracelab snapshot (expected an object with 'tables')", path=str(p))
        try:
            return Snapshot.from_json(data)
        except (TypeError, ValueError, AttributeError) as exc:
            raise WarehouseCorrupt(f"{p}: the warehouse snapshot is malformed ({exc})", path=str(p)) from None

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
        """Hold the warehouse's writer lock (``.lock``, flock) for the block. The holder writes
        its pid and start time into the file; a refused attempt reads them for its message
        (:class:`~tracelab.errors.WarehouseLocked`) and leaves the file as it was. A warehouse
        that cannot be written is still locked, through a read-only handle, so that a run with
        nothing to write succeeds (the first write then fails as read-only)."""
        path = self.root / ".lock"
        writable = True
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fh = open(path, "a+")
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            if not path.is_file():
                raise WarehouseReadOnly(f"warehouse {self.root} cannot be written ({exc.strerror}: {exc.filename})", path=str(self.root)) from None
            fh, writable = open(path), False
        locked = False
        try:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    fh.seek(0)
                    holder = fh.read().strip() or "unknown"
                    raise WarehouseLocked(
                        f"warehouse {self.root} is locked by another tracelab ingest ({holder}); wait for it to finish, or stop it, then run again",
                        path=str(self.root),
                        holder=holder,
                    ) from None
                raise
            locked = True
            if writable:
                fh.seek(0)
                fh.truncate()
                fh.write(f"pid {os.getpid()} since {_dt.datetime.now(_dt.UTC).isoformat(timespec='seconds')}")
                fh.flush()
            yield
        finally:
            try:
                if locked:  # only the holder clears the file: a refusal leaves the holder's line
                    if writable:
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

    def commit(self, snap: Snapshot, *, grace_seconds: float | None = None) -> None:
        """Atomically publish ``snap`` (call with the lock held), then remove the files no reader
        can need: parts superseded more than ``grace_seconds`` (default :data:`GRACE_SECONDS`)
        ago and files no snapshot referenced."""
        now = _dt.datetime.now(_dt.UTC)
        try:
            previous = self.snapshot()
        except WarehouseCorrupt:  # being replaced: nothing of it to keep for readers
            previous = Snapshot(tables={})
        snap.retired = _retired(previous, snap, now, GRACE_SECONDS if grace_seconds is None else grace_seconds)
        snap.version += 1
        snap.schema_version = S.SCHEMA_VERSION
        snap.committed_at = now.isoformat(timespec="milliseconds")
        tmp = self.root / f"{SNAPSHOT}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            json.dump(snap.to_json(), fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / SNAPSHOT)
        _fsync_dir(self.root)  # the rename itself survives a crash
        self.gc(snap)

    def gc(self, snap: Snapshot) -> int:
        """Delete Parquet files (and stale temp files) that ``snap`` neither references nor
        keeps as recently retired."""
        live = snap.live() | set(snap.retired)
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


def _retired(previous: Snapshot, snap: Snapshot, now: _dt.datetime, grace_seconds: float) -> dict[str, str]:
    """``snap``'s retired parts: those of ``previous`` (retired, or live and now dropped) that
    ``snap`` does not reference, with when they left, less those retired over ``grace_seconds`` ago."""
    live = snap.live()
    stamp = now.isoformat(timespec="milliseconds")
    out = {rel: when for rel, when in previous.retired.items() if rel not in live}
    for rel in previous.live() - live:
        out.setdefault(rel, stamp)
    keep = {}
    for rel, when in out.items():
        try:
            age = (now - _dt.datetime.fromisoformat(when)).total_seconds()
        except (TypeError, ValueError):
            age = grace_seconds  # unreadable time: due now
        if age < grace_seconds:
            keep[rel] = when
    return dict(sorted(keep.items()))


def _fsync_dir(path: Path) -> None:
    """fsync directory ``path`` so a rename inside it is durable (a no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _rows_without(path: Path, table: str, column: str, values: pa.Array) -> Iterator[pa.Table]:
    """The rows of one Parquet part whose ``column`` is not in ``values``, batch by batch."""
    for rb in pq.ParquetFile(path).iter_batches(batch_size=16 * 1024):
        t = pa.Table.from_batches([rb])
        t = t.filter(pc.invert(pc.is_in(t.column(column), value_set=values)))
        if t.num_rows:
            yield S.cast_table(t, table)
