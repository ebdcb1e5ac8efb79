"""``tracelab doctor``: check a warehouse and repair what can be repaired.

Checks, in order:

- the snapshot (``_snapshot.json``) exists and parses;
- every part it references exists and its Parquet footer reads;
- the manifest adds up: for every input file, ``lines_total`` = ingested + duplicate + rejected,
  and the ``events`` table holds exactly ``lines_ingested`` distinct lines of it;
- the search index: every segment the snapshot lists is there, reads, and describes its events
  part (format version, part, row count); none is listed for a part that is gone;
- nothing is left over from an interrupted ingest: the ``.staging`` folder, ``*.tmp`` files,
  Parquet files no snapshot references (orphans). These are only looked for while no ingest
  holds the lock (a running ingest owns them).

Repairs (``repair=True``), each said in ``actions``:

- leftovers are removed;
- faulty search index segments are rebuilt from their parts (``tracelab index build``);
- a snapshot that is missing or does not parse, a referenced part that is missing or
  unreadable, or a manifest that does not add up means rows may be lost. First choice: **roll
  back** to the snapshot the last commit replaced (``_snapshot.prev.json``, kept by every
  commit with its parts, see :data:`tracelab.store.snapshot.PREVIOUS`) when every part it lists
  is there and reads; feedback labels of the broken snapshot are kept when they read. The
  warehouse is then what it was before the last commit, and an ordinary incremental ingest of
  the input files both manifests list brings in what that commit had added (the result equals
  a clean ingest of those inputs: the incremental guarantee of ``data/README.md``). Without a
  usable previous snapshot (a warehouse of one commit, or one written before they were kept),
  the warehouse is rebuilt from its inputs (the paths its manifest lists: from the snapshot
  when it reads, else from every ``files`` part on disk) by one clean ingest into a fresh folder
  inside the warehouse, which then replaces the old tables. Feedback labels (the one table that
  is not derived from the inputs) are carried over when they read. Inputs that no longer exist
  are named; their rows cannot come back. A warehouse ingested with ``--redact`` is rolled back
  but not re-ingested or rebuilt (the key is not stored): re-run that ingest.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tracelab import schema as S
from tracelab.errors import WarehouseCorrupt, WarehouseLocked, WarehouseMissing
from tracelab.store.snapshot import LAYOUT_TABLES, PREVIOUS, READERS
from tracelab.store.warehouse import SNAPSHOT, Snapshot, Warehouse

__all__ = ["DoctorReport", "Finding", "check", "repair"]

STAGING = ".staging"
REBUILD = ".doctor-rebuild"
ASIDE = ".doctor-old"
STAT_CACHE = "_unchanged.json"
#: problems that mean rows may be lost: only a rebuild from the inputs restores them
_DATA_LOSS = ("snapshot", "missing_part", "unreadable_part", "manifest")


@dataclass
class Finding:
    """One problem: its kind, a line for people, and the file it concerns."""

    kind: str  # snapshot | missing_part | unreadable_part | manifest | search_index | staging | temp_file | orphan
    message: str
    path: str | None = None


@dataclass
class DoctorReport:
    warehouse: str
    findings: list[Finding] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    #: problems still there after the run (all of ``findings`` when nothing was repaired)
    remaining: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.remaining

    def to_dict(self) -> dict[str, Any]:
        return {
            "warehouse": self.warehouse,
            "healthy": self.healthy,
            "findings": [asdict(f) for f in self.findings],
            "actions": list(self.actions),
            "remaining": [asdict(f) for f in self.remaining],
            "notes": list(self.notes),
        }


def check(warehouse: str | os.PathLike) -> DoctorReport:
    """What is wrong with ``warehouse``; changes nothing."""
    wh = _open(warehouse)
    report = DoctorReport(str(wh.root))
    with _lock(wh, shared=True) as held_elsewhere:
        snap = _inspect(wh, report, look_for_leftovers=not held_elsewhere)
        if held_elsewhere:
            report.notes.append("an ingest holds the lock: staging and orphan files were not checked")
        del snap
    prev = wh.previous_snapshot() if any(f.kind in _DATA_LOSS for f in report.findings) else None
    if prev is not None:
        report.notes.append(f"the previous snapshot (version {prev.version}, committed {prev.committed_at}) is kept: --repair rolls back to it if it is whole")
    report.remaining = list(report.findings)
    return report


def repair(warehouse: str | os.PathLike, *, jobs: int | None = None) -> DoctorReport:
    """Check ``warehouse`` and repair what can be repaired (see the module docstring)."""
    wh = _open(warehouse)
    report = DoctorReport(str(wh.root))
    with _lock(wh, shared=False):
        snap = _inspect(wh, report, look_for_leftovers=True)
        lost = [f for f in report.findings if f.kind in _DATA_LOSS]
        if not lost:
            _remove_leftovers(wh, snap, report)
            if snap is not None and any(f.kind == "search_index" for f in report.findings):
                _repair_search_index(wh, snap, report)
            report.remaining = []
            return report
        rolled = _roll_back(wh, snap, report)
        inputs, redacted, feedback = _inputs_and_feedback(wh, snap)
    if rolled is not None:
        return _after_roll_back(wh, rolled, inputs, redacted, report, jobs)
    # the rebuild is an ordinary ingest, which takes the lock itself
    if redacted:
        report.remaining = lost
        report.notes.append("the warehouse was ingested with --redact: rebuild it by running that ingest again into a new folder")
        return report
    if not inputs:
        report.remaining = lost
        report.notes.append("no input paths could be recovered from the manifest: ingest the logs again into a new folder")
        return report
    _rebuild(wh, inputs, feedback, report, jobs)
    after = DoctorReport(str(wh.root))
    _inspect(wh, after, look_for_leftovers=True)
    report.remaining = after.findings
    return report


# ------------------------------------------------------------------------------ inspecting
def _open(warehouse: str | os.PathLike) -> Warehouse:
    wh = Warehouse(warehouse)
    if not wh.root.is_dir():
        raise WarehouseMissing(f"no tracelab warehouse at {wh.root}", path=str(wh.root))
    if not (wh.root / SNAPSHOT).exists() and not any((wh.root / t).is_dir() for t in S.TABLES):
        raise WarehouseMissing(f"no tracelab warehouse at {wh.root} (no {SNAPSHOT} and no tables)", path=str(wh.root))
    return wh


@contextmanager
def _lock(wh: Warehouse, *, shared: bool) -> Iterator[bool]:
    """Hold the warehouse lock (exclusive to repair); a check does not wait for a running
    ingest, it yields True and skips the leftover checks."""
    path = wh.root / ".lock"
    try:
        fh = open(path, "r" if shared else "a+")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        yield False
        return
    except PermissionError:
        if not shared:
            raise
        yield False
        return
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            if not shared:
                fh.seek(0)
                holder = fh.read().strip() or "unknown"
                raise WarehouseLocked(
                    f"warehouse {wh.root} is locked by another tracelab process ({holder}); run doctor once it is done", holder=holder
                ) from None
            yield True
            return
        try:
            yield False
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()


def _inspect(wh: Warehouse, report: DoctorReport, *, look_for_leftovers: bool) -> Snapshot | None:
    snap: Snapshot | None
    if not (wh.root / SNAPSHOT).exists():
        report.findings.append(Finding("snapshot", f"{SNAPSHOT} is missing", str(wh.root / SNAPSHOT)))
        snap = None
    else:
        try:
            snap = wh.snapshot()
        except WarehouseCorrupt as exc:
            report.findings.append(Finding("snapshot", str(exc), str(wh.root / SNAPSHOT)))
            snap = None
    parts_ok = snap is not None
    if snap is not None:
        for table, rels in sorted(snap.tables.items()):
            if table in LAYOUT_TABLES:  # derived from the parts: checked (and rebuilt) on their own below
                continue
            for rel in rels:
                p = wh.root / rel
                if not p.is_file():
                    report.findings.append(Finding("missing_part", f"{table}: part {rel} is listed in the snapshot but missing", str(p)))
                    parts_ok = False
                    continue
                try:
                    pq.ParquetFile(p).metadata  # noqa: B018 - reading the footer is the check
                except (OSError, pa.ArrowException) as exc:
                    report.findings.append(Finding("unreadable_part", f"{table}: part {rel} does not read ({exc})", str(p)))
                    parts_ok = False
    if snap is not None and parts_ok:
        _check_manifest(wh, report)
        _check_search_index(wh, snap, report)
    if look_for_leftovers:
        _find_leftovers(wh, snap, report)
    return snap


def _check_manifest(wh: Warehouse, report: DoctorReport) -> None:
    from tracelab.catalog import connect

    con = connect(wh.root)
    try:
        bad = con.execute(
            "SELECT path FROM files WHERE lines_total <> lines_ingested + lines_duplicate + lines_rejected ORDER BY path",
        ).fetchall()
        for (path,) in bad[:20]:
            report.findings.append(Finding("manifest", f"{path}: lines_total is not ingested + duplicate + rejected", path))
        short = con.execute(
            """
            WITH seen AS (SELECT source_file, count(DISTINCT line_no) AS n FROM events GROUP BY source_file)
            SELECT f.path, f.lines_ingested, coalesce(s.n, 0) FROM files f LEFT JOIN seen s ON s.source_file = f.path
            WHERE f.lines_ingested <> coalesce(s.n, 0) ORDER BY f.path
            """
        ).fetchall()
        for path, want, have in short[:20]:
            report.findings.append(Finding("manifest", f"{path}: the manifest says {want} lines were ingested, events hold {have}", path))
    finally:
        con.close()


def _check_search_index(wh: Warehouse, snap: Snapshot, report: DoctorReport) -> None:
    """Segments of the search index that are missing, unreadable, stale or orphaned are findings
    (search scans those parts meanwhile; repair rebuilds them); parts without one are a note."""
    from tracelab.textindex import check

    problems = check(wh, snap)
    for p in problems:
        if p.kind != "unindexed":
            report.findings.append(Finding("search_index", p.message, str(wh.root / p.path)))
    unindexed = sum(p.kind == "unindexed" for p in problems)
    if unindexed:
        report.notes.append(
            f"{unindexed} events part{'s have' if unindexed != 1 else ' has'} no search index segment (search scans them): `tracelab index build` indexes them"
        )


def _find_leftovers(wh: Warehouse, snap: Snapshot | None, report: DoctorReport) -> None:
    staging = wh.root / STAGING
    if staging.exists():
        report.findings.append(Finding("staging", f"{STAGING}/ is left over from an interrupted ingest", str(staging)))
    for extra in (REBUILD, ASIDE):
        if (wh.root / extra).exists():
            report.findings.append(Finding("staging", f"{extra}/ is left over from an interrupted repair", str(wh.root / extra)))
    for p in sorted([*wh.root.glob(f"{SNAPSHOT}.*.tmp"), *wh.root.glob(f"{PREVIOUS}.*.tmp")]):
        report.findings.append(Finding("temp_file", f"{p.name} is a snapshot that was never published", str(p)))
    # parts of earlier snapshots kept for their readers (``retired``) are not orphans
    live = ({rel for rels in snap.tables.values() for rel in rels} | set(snap.retired)) if snap is not None else None
    for table in sorted(set(S.TABLES) | set(S.ANALYSIS_TABLES) | set(snap.tables if snap is not None else ())):
        d = wh.root / table
        if not d.is_dir():
            continue
        for p in sorted(d.rglob("*")):
            if not p.is_file():
                continue
            rel = p.relative_to(wh.root).as_posix()
            if p.name.endswith(".tmp"):
                report.findings.append(Finding("temp_file", f"{rel} is a part that was never finished", str(p)))
            elif p.suffix == ".parquet" and live is not None and rel not in live:
                report.findings.append(Finding("orphan", f"{rel} is not referenced by the snapshot", str(p)))


# ------------------------------------------------------------------------------ repairing
def _remove_found(wh: Warehouse, report: DoctorReport, kinds: tuple[str, ...]) -> None:
    """Delete the files and folders of the findings of ``kinds``, one action line each."""
    for f in report.findings:
        if f.kind not in kinds or f.path is None:
            continue
        p = Path(f.path)
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        report.actions.append(f"removed {p.relative_to(wh.root).as_posix()}{'/' if f.kind == 'staging' else ''}")


def _remove_leftovers(wh: Warehouse, snap: Snapshot | None, report: DoctorReport) -> None:
    _remove_found(wh, report, ("staging", "temp_file", "orphan"))
    if snap is not None:
        wh.gc(snap)  # and the folders the removals emptied


def _repair_search_index(wh: Warehouse, snap: Snapshot, report: DoctorReport) -> None:
    from tracelab.textindex import repair as rebuild_index

    res = rebuild_index(wh, snap)
    wh.commit(snap)
    report.actions.append(f"rebuilt the search index: {len(res.built)} segment{'s' if len(res.built) != 1 else ''} built, {len(res.dropped)} dropped")


def _bad_parts(wh: Warehouse, snap: Snapshot) -> list[str]:
    """Parts ``snap`` lists (search index segments aside) that are missing or do not read."""
    bad = []
    for table, rels in sorted(snap.tables.items()):
        if table in LAYOUT_TABLES:
            continue
        for rel in rels:
            try:
                pq.ParquetFile(wh.root / rel).metadata  # noqa: B018 - reading the footer is the check
            except (OSError, pa.ArrowException):
                bad.append(rel)
    return bad


def _roll_back(wh: Warehouse, broken: Snapshot | None, report: DoctorReport) -> Snapshot | None:
    """Publish the previous snapshot again (lock held); None when there is none that is whole.
    The broken snapshot's feedback parts are kept when they all read (labels are not derived
    from the inputs); leftovers of interrupted runs are removed with it."""
    prev = wh.previous_snapshot()
    if prev is None:
        return None
    bad = _bad_parts(wh, prev)
    if bad:
        report.notes.append(f"the previous snapshot (version {prev.version}) cannot be rolled back to: {len(bad)} of its parts are missing or unreadable")
        return None
    target = f"version {prev.version}, committed {prev.committed_at}"
    # a version above the lost snapshot's (the commit after ``prev``, or later): whatever keys
    # on the version (the stat cache, readers' leases) never takes the two for one
    prev.version = max(prev.version + 1, broken.version if broken is not None else 0)
    if broken is not None:
        labels = broken.tables.get("feedback", [])
        if labels != prev.tables.get("feedback", []) and not _bad_parts(wh, Snapshot(tables={"feedback": labels})):
            prev.tables["feedback"] = list(labels)
    wh.commit(prev, keep_previous=False)
    # the stat cache describes the lost snapshot: the next ingest must look at every file
    (wh.root / STAT_CACHE).unlink(missing_ok=True)
    report.actions.append(f"rolled back to the previous snapshot ({target})")
    _remove_found(wh, report, ("staging", "temp_file"))
    return wh.snapshot()


def _after_roll_back(wh: Warehouse, snap: Snapshot, inputs: list[str], redacted: bool, report: DoctorReport, jobs: int | None) -> DoctorReport:
    """Bring a rolled-back warehouse up to date with its inputs (an incremental ingest of the
    files both manifests list), repair its search index, and check it again."""
    from tracelab.pipeline import ingest

    kept, kept_redacted, _ = _inputs_and_feedback(wh, snap)
    inputs, redacted = sorted(set(inputs) | set(kept)), redacted or kept_redacted
    present = [p for p in inputs if os.path.isfile(p)]
    if redacted:
        report.notes.append("the warehouse was ingested with --redact: run that ingest again to bring in what the lost commit had added")
    elif present:
        gone = len(inputs) - len(present)
        if gone:
            report.notes.append(f"{gone} of {len(inputs)} input files no longer exist; rows only the lost commit held cannot be restored")
        summary = ingest(present, wh.root, jobs=jobs, use_cache=False)
        report.actions.append(
            f"re-ingested {len(present)} input files incrementally ({summary.files_parsed} parsed again, {summary.lines_ingested} lines added)"
        )
    after = DoctorReport(str(wh.root))
    snap_after = _inspect(wh, after, look_for_leftovers=True)
    if snap_after is not None and any(f.kind == "search_index" for f in after.findings):
        _repair_search_index(wh, snap_after, report)
        after = DoctorReport(str(wh.root))
        _inspect(wh, after, look_for_leftovers=True)
    report.remaining = after.findings
    return report


def _inputs_and_feedback(wh: Warehouse, snap: Snapshot | None) -> tuple[list[str], bool, pa.Table | None]:
    """The input paths the manifest lists, whether any was ingested with redaction, and the
    feedback rows that still read."""
    files = _read_parts(wh, "files", snap)
    feedback = _read_parts(wh, "feedback", snap)
    if files is None or files.num_rows == 0:
        return [], False, feedback
    paths = sorted(set(files.column("path").to_pylist()))
    redacted = any(v is not None for v in files.column("redaction_policy").to_pylist()) if "redaction_policy" in files.column_names else False
    return paths, redacted, feedback


def _read_parts(wh: Warehouse, table: str, snap: Snapshot | None) -> pa.Table | None:
    """``table``'s rows from the parts ``snap`` lists, or (no snapshot) from every part on disk;
    parts that do not read are left out."""
    rels = snap.tables.get(table, []) if snap is not None else [p.relative_to(wh.root).as_posix() for p in sorted((wh.root / table).rglob("*.parquet"))]
    tables = []
    for rel in rels:
        try:
            tables.append(pq.ParquetFile(wh.root / rel).read())
        except (OSError, pa.ArrowException):
            continue
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="default")


def _rebuild(wh: Warehouse, inputs: list[str], feedback: pa.Table | None, report: DoctorReport, jobs: int | None) -> None:
    from tracelab.pipeline import ingest

    present = [p for p in inputs if os.path.isfile(p)]
    gone = len(inputs) - len(present)
    if gone:
        report.notes.append(f"{gone} of {len(inputs)} input files no longer exist; their rows cannot be restored")
    fresh = wh.root / REBUILD
    shutil.rmtree(fresh, ignore_errors=True)
    summary = ingest(present, fresh, jobs=jobs, use_cache=False)
    report.actions.append(f"re-ingested {len(present)} input files into a fresh warehouse ({summary.lines_ingested} lines)")
    with _lock(wh, shared=False):
        aside = wh.root / ASIDE
        shutil.rmtree(aside, ignore_errors=True)
        aside.mkdir()
        keep = {".lock", READERS, REBUILD, ASIDE}
        for entry in list(wh.root.iterdir()):
            if entry.name not in keep:
                entry.rename(aside / entry.name)
        for entry in list(fresh.iterdir()):
            if entry.name not in (".lock", STAT_CACHE):
                entry.rename(wh.root / entry.name)
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(aside, ignore_errors=True)
        report.actions.append("replaced the warehouse's tables and snapshot with the rebuilt ones (old staging, temporary and orphan files removed)")
        if feedback is not None and feedback.num_rows:
            snap = wh.snapshot()
            schema = S.ANALYSIS_TABLES["feedback"]
            data = feedback.select(schema.names).cast(schema)
            snap.tables["feedback"] = [wh.write_part("feedback", data, wh.new_batch_id())]
            wh.commit(snap)
            report.actions.append(f"carried over {feedback.num_rows} feedback labels")
