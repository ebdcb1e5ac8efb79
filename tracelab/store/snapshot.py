"""A warehouse directory as files: its snapshot, the parts the snapshot lists, the writer's lock,
atomic commit and garbage collection; :class:`tracelab.store.warehouse.Warehouse` adds reading
and writing Parquet. This module does not import pyarrow, so a command that only opens the
warehouse with DuckDB (``tracelab sql``, ``tracelab info``) does not load it.
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
from typing import IO

from tracelab import schema as S
from tracelab.errors import WarehouseCorrupt, WarehouseLocked, WarehouseReadOnly
from tracelab.store import part_stats

__all__ = ["GRACE_SECONDS", "LAYOUT_TABLES", "READERS", "SNAPSHOT", "ReaderLease", "Snapshot", "WarehouseFiles", "default_warehouse", "sql_list"]

SNAPSHOT = "_snapshot.json"
#: folder of the readers' leases (see :class:`ReaderLease`)
READERS = ".readers"

#: Snapshot tables that describe how the others are stored, not data: the search index
#: (``tracelab.textindex``, one segment per events part). They get no view and are not
#: compared by ``tracelab verify``; the snapshot lists them so commit and GC treat their files
#: like any part.
LAYOUT_TABLES = frozenset({"search_index"})

#: Seconds a part superseded by a commit stays on disk for readers of older snapshots that
#: hold no lease (a read-only warehouse); a leased reader keeps its parts until it closes.
GRACE_SECONDS = float(os.environ.get("TRACELAB_GC_GRACE_SECONDS", "3600"))

#: what a lease pins before its reader has read the snapshot: every part retired so far
_PENDING = ""


def default_warehouse() -> Path:
    """The warehouse a command uses when given none: ``$TRACELAB_WAREHOUSE``, else ``./warehouse``."""
    return Path(os.environ.get("TRACELAB_WAREHOUSE", "warehouse"))


def sql_list(paths: Iterable[str]) -> str:
    """``paths`` as a DuckDB list literal of quoted strings, for ``read_parquet([...])`` inside
    ``CREATE VIEW``, which cannot take parameters (file lists are data: always quoted here)."""
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


@dataclass
class Snapshot:
    version: int = 0
    schema_version: int = S.SCHEMA_VERSION
    tables: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in S.TABLE_NAMES})
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
        tables = {t: list(d.get("tables", {}).get(t, [])) for t in S.TABLE_NAMES}
        for t, files in d.get("tables", {}).items():
            tables.setdefault(t, list(files))
        retired = {str(k): str(v) for k, v in dict(d.get("retired") or {}).items()}
        return cls(d.get("version", 0), d.get("schema_version", S.SCHEMA_VERSION), tables, d.get("committed_at"), d.get("extra", {}), retired)

    def live(self) -> set[str]:
        """Relative paths of every part this snapshot references."""
        return {rel for files in self.tables.values() for rel in files}


class ReaderLease:
    """A reader's claim on the parts of the snapshot it reads, for as long as it is open.

    ``READERS/<pid>-<random>.lease``, held with a shared ``flock`` by the reader: taken before
    the reader reads the snapshot (while it says nothing, it pins every retired part), then
    :meth:`pin` writes the snapshot's ``committed_at``. A commit keeps every part retired at or
    after the oldest pinned time (:meth:`WarehouseFiles.reader_pins`); a lease whose flock can
    be taken exclusively belongs to a reader that is gone and is removed. The file is created
    under a temporary name and renamed once locked, so a commit never takes a new lease for a
    dead one. Where the warehouse cannot be written there is no lease (:meth:`take` returns
    None) and the grace period alone protects the reader.
    """

    def __init__(self, path: Path, fh: IO[str]) -> None:
        self.path = path
        self._fh: IO[str] | None = fh

    @classmethod
    def take(cls, root: Path) -> ReaderLease | None:
        d = root / READERS
        for _attempt in range(3):  # a commit sweeping leases may remove a file not yet locked
            name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
            try:
                d.mkdir(exist_ok=True)
                tmp = d / f"{name}.tmp"
                fh = open(tmp, "w")  # noqa: SIM115 - held until release()
            except OSError:
                return None
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
                path = d / f"{name}.lease"
                os.replace(tmp, path)
            except OSError:
                fh.close()
                continue
            return cls(path, fh)
        return None

    def pin(self, snap: Snapshot) -> None:
        """Keep ``snap``'s parts: those retired at or after it was committed."""
        if self._fh is None or snap.committed_at is None:
            return  # a snapshot without a time (none committed yet): the lease keeps pinning all
        try:
            self._fh.write(json.dumps({"committed_at": snap.committed_at, "version": snap.version}))
            self._fh.flush()
        except OSError:
            pass

    def release(self) -> None:
        """Drop the lease (idempotent)."""
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass
        fh.close()  # closing drops the flock


class WarehouseFiles:
    """The warehouse directory ``root``: its committed :class:`Snapshot`, the files of each
    table, the writer's lock, commit and garbage collection (no Parquet reading or writing)."""

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
            self._refuse_lost_snapshot()
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

    def _refuse_lost_snapshot(self) -> None:
        """Manifest parts without a snapshot: the snapshot was lost (an interrupted first ingest
        removes the parts it wrote). Publishing a new one would drop every part as unreferenced,
        so raise :class:`~tracelab.errors.WarehouseCorrupt` (``tracelab doctor --repair``
        rebuilds from the manifest)."""
        d = self.root / "files"  # the manifest, from which doctor rebuilds
        if d.is_dir() and next(d.rglob("*.parquet"), None) is not None:
            raise WarehouseCorrupt(
                f"{self.root / SNAPSHOT} is missing but the warehouse holds table parts; `tracelab doctor --repair` rebuilds it",
                path=str(self.root / SNAPSHOT),
            )

    def files_of(self, table: str, snap: Snapshot | None = None) -> list[Path]:
        snap = snap or self.snapshot()
        return [self.root / rel for rel in snap.tables.get(table, [])]

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

    def commit(self, snap: Snapshot, *, grace_seconds: float | None = None) -> None:
        """Atomically publish ``snap`` (call with the lock held), then remove the files no reader
        can need: parts superseded more than ``grace_seconds`` (default :data:`GRACE_SECONDS`)
        ago and files no snapshot referenced; and count the new parts for ``tracelab info``
        (:func:`tracelab.store.part_stats.refresh`)."""
        now = _dt.datetime.now(_dt.UTC)
        try:
            previous = self.snapshot()
        except WarehouseCorrupt:  # being replaced: nothing of it to keep for readers
            previous = Snapshot(tables={})
        snap.retired = _retired(previous, snap, now, GRACE_SECONDS if grace_seconds is None else grace_seconds, self.reader_pins())
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
        part_stats.refresh(self.root, snap)  # counts of the new parts for `tracelab info` (a cache; best effort)

    def reader_pins(self) -> list[str]:
        """The ``committed_at`` of the snapshot each open reader reads (``""``: a reader still
        reading it, which pins every retired part); leases of readers that are gone are removed."""
        d = self.root / READERS
        try:
            entries = sorted(d.iterdir())
        except OSError:
            return []
        pins = []
        for p in entries:
            if p.suffix not in (".lease", ".tmp"):
                continue
            try:
                fh = open(p)
            except OSError:
                continue
            with fh:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:  # held: a live reader
                    if p.suffix == ".lease":
                        pins.append(_pin_of(fh.read()))
                    continue
                try:  # nobody holds it: its reader is gone
                    p.unlink()
                except OSError:
                    pass
        return pins

    def gc(self, snap: Snapshot) -> int:
        """Delete Parquet files (and stale temp files) that ``snap`` neither references nor
        keeps as recently retired."""
        live = snap.live() | set(snap.retired)
        removed = 0
        for table in set(S.TABLE_NAMES) | set(snap.tables):
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


def _pin_of(text: str) -> str:
    try:
        return str(json.loads(text)["committed_at"])
    except (ValueError, KeyError, TypeError):
        return _PENDING  # not pinned yet (or being written): keeps every retired part


def _retired(previous: Snapshot, snap: Snapshot, now: _dt.datetime, grace_seconds: float, pins: Iterable[str] = ()) -> dict[str, str]:
    """``snap``'s retired parts: those of ``previous`` (retired, or live and now dropped) that
    ``snap`` does not reference, with when they left, less those retired over ``grace_seconds`` ago
    that no reader pins (``pins``: see :meth:`WarehouseFiles.reader_pins`; a part retired at or
    after a pinned snapshot's commit may be one of its parts)."""
    oldest = min(pins, default=None)
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
        if age < grace_seconds or (oldest is not None and when >= oldest):
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
