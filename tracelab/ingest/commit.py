"""Stage 4 of an ingest, **commit**: dedup, write the final ``events`` parts, the ``rejects``
and the manifest (``files``) into the new snapshot (published by the publish step).

Dedup: every line an adapter marks with a ``line_key`` (Claude ``uuid``, Pi entry identity)
counts once in the warehouse. Within one run, files are ordered by (first timestamp, path) so
the original session owns lines that resumed/forked copies repeat; across runs the warehouse
already holding a key wins. Lines whose every row was dropped are counted as duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from tracelab import schema as S
from tracelab.ingest.listing import OK, SKIPPED, UNRECOGNISED, Skip
from tracelab.ingest.parse import FileOutcome, ParseOutput
from tracelab.ingest.plan import Plan, status_of
from tracelab.ingest.rejects import without_files
from tracelab.ingest.stage import StageJob, stage_groups, write_staged
from tracelab.ingest.summary import Clock, IngestSummary
from tracelab.store import sql_text
from tracelab.store.connection import MEMORY_LIMIT, scratch_connection
from tracelab.store.warehouse import Snapshot, Warehouse, sql_list

__all__ = ["CommitInput", "CommitResult", "commit", "row_counts", "scratch_duckdb", "stored_owners"]


@dataclass
class CommitInput:
    """What the commit stage works from: the snapshot read at the start, the plan and what the
    parse stage produced."""

    wh: Warehouse
    snap: Snapshot
    batch: str
    #: path -> ``files`` row of the snapshot
    manifest: dict[str, dict]
    plan: Plan
    parsed: ParseOutput
    #: the redaction policy id recorded per file (None: not redacted)
    policy: str | None


@dataclass
class CommitResult:
    """What the commit stage changed in the snapshot."""

    #: ``events`` changed (rows added or removed): the derived tables must follow
    events_changed: bool
    #: the ``events`` parts added when none were removed (the derived tables may be refreshed
    #: for the sessions they touch); None: rows were removed
    new_events: list[str] | None


@contextmanager
def scratch_duckdb() -> Iterator[duckdb.DuckDBPyConnection]:
    """The store's throwaway in-memory DuckDB for one engine query (no progress bar, the
    derive step's memory limit), closed on exit."""
    con = scratch_connection(memory_limit=MEMORY_LIMIT)
    try:
        yield con
    finally:
        con.close()


def _duplicate_lines(wh: Warehouse, snap: Snapshot, outcomes: list[FileOutcome], key_parts: list[str]) -> dict[str, list[int]]:
    """path -> line numbers (ascending) of lines with rows that repeat a line already ingested
    or an earlier line of this ingest (``outcomes`` in dedup order); DuckDB matches the staged
    keys against the stored ones, so no key becomes a Python object or passes through memory
    here."""
    if not key_parts:
        return {}
    with scratch_duckdb() as con:
        con.register("file_order", pa.table({"path": [o.task.path for o in outcomes], "o": pa.array(range(len(outcomes)), pa.int64())}))
        con.execute(f"CREATE VIEW new_keys AS SELECT * FROM read_parquet({sql_list([str(wh.root / k) for k in key_parts])})")
        files = [str(f) for f in wh.files_of("events", snap)]
        if files:
            con.execute(f"CREATE VIEW stored_keys AS SELECT line_key FROM read_parquet({sql_list(files)}) WHERE line_key IS NOT NULL")
        else:
            con.execute("CREATE VIEW stored_keys AS SELECT NULL::VARCHAR AS line_key WHERE false")
        rows = con.sql(sql_text("ingest_duplicate_lines")).fetchall()
    out: dict[str, list[int]] = {}
    for i, line_no in rows:
        out.setdefault(outcomes[i].task.path, []).append(line_no)
    return out


def stored_owners(wh: Warehouse, snap: Snapshot, key_parts: list[str], parsing: set[str]) -> list[tuple[str, str, int | None]]:
    """(stored file, file parsed now, stored file's earliest row in epoch ms) for every stored
    file not among ``parsing`` (files whose stored rows all go) that holds rows of a line whose
    key a file parsed now (``key_parts``: its staged line keys) repeats. Which copy of a line
    owns its rows is decided by dedup order (earliest session first); an ingest that saw the
    copy before the original must not keep that choice: the caller parses again those that
    may come later in that order than the file repeating them."""
    files = [str(f) for f in wh.files_of("events", snap)]
    if not key_parts or not files:
        return []
    with scratch_duckdb() as con:
        con.register("parsing", pa.table({"path": pa.array(sorted(parsing), pa.string())}))
        con.execute(f"CREATE VIEW new_keys AS SELECT * FROM read_parquet({sql_list([str(wh.root / k) for k in key_parts])})")
        con.execute(f"CREATE VIEW stored AS SELECT line_key, source_file, ts FROM read_parquet({sql_list(files)})")
        return [(r[0], r[1], r[2]) for r in con.sql(sql_text("ingest_stored_owners")).fetchall()]


def _unknown_types(wh: Warehouse, parts: list[str]) -> dict[str, dict[str, int]]:
    """agent -> native type -> lines of that type the new ``parts`` hold as kind 'unknown'."""
    if not parts:
        return {}
    with scratch_duckdb() as con:
        con.execute(f"CREATE VIEW events_in_scope AS SELECT agent, native_type, kind FROM read_parquet({sql_list([str(wh.root / p) for p in parts])})")
        rows = con.sql(sql_text("unknown_types")).fetchall()
    out: dict[str, dict[str, int]] = {}
    for agent, native_type, n in rows:
        out.setdefault(agent, {})[native_type] = n
    return out


def _manifest_row(o: FileOutcome, prev: dict | None, dup_lines: int, policy: str | None, now_ms: int) -> dict:
    """The ``files`` row of one parsed file; an append adds to the counts of ``prev``."""
    task, res = o.task, o.result
    ingested_lines = o.lines_with_rows - dup_lines
    pending_before = (task.state or {}).get("__pending", 0) if prev else 0
    sks = o.session_keys if ingested_lines or not prev else prev["session_keys"]
    if prev and prev["session_keys"]:
        sks = sorted(set(sks) | set(prev["session_keys"]))
    return {
        "path": task.path,
        "agent": res.agent,
        "size_bytes": task.size,
        "mtime_ns": task.mtime_ns,
        "fingerprint": o.fingerprint,
        "bytes_ingested": res.bytes_ingested,
        "lines_total": res.lines_total + (prev["lines_total"] - pending_before if prev else 0),
        "lines_ingested": ingested_lines + (prev["lines_ingested"] if prev else 0),
        "lines_duplicate": dup_lines + res.lines_skipped_duplicate + (prev["lines_duplicate"] if prev else 0),
        "lines_rejected": res.lines_rejected + (prev["lines_rejected"] - pending_before if prev else 0),
        "parser_version": res.parser_version,
        "schema_version": S.SCHEMA_VERSION,
        "redaction_policy": policy,
        "parser_state": o.parser_state,
        "ingested_at": now_ms,
        "session_keys": sks,
        "status": OK,
        "reason": None,
    }


def _skip_row(skip: Skip, now_ms: int) -> dict:
    """The ``files`` row of an entry that was not ingested."""
    return {"path": skip.path, "status": skip.status, "reason": skip.detail, "ingested_at": now_ms, "session_keys": []}


def _manifest(ci: CommitInput, now_ms: int) -> dict[str, dict]:
    """The manifest before this ingest's parsed files are added: dropped rows (moved, pruned)
    gone, statuses updated, the skipped entries of what was listed replaced by this listing's."""
    plan = ci.plan
    rows: dict[str, dict] = {}
    for path, row in ci.manifest.items():
        if path in plan.dropped:
            continue
        if status_of(row) in (SKIPPED, UNRECOGNISED) and plan.listing.in_scope(path):
            continue
        status = plan.status.get(path, status_of(row))
        rows[path] = row if row.get("status") == status else {**row, "status": status}
    for skip in plan.recorded_skips():
        if skip.path not in rows or status_of(rows[skip.path]) in (SKIPPED, UNRECOGNISED):
            rows[skip.path] = _skip_row(skip, now_ms)
    return rows


def _count(summary: IngestSummary, o: FileOutcome, dup_lines: int) -> None:
    res = o.result
    summary.lines_total += res.lines_total
    summary.lines_ingested += o.lines_with_rows - dup_lines
    summary.lines_duplicate += dup_lines + res.lines_skipped_duplicate
    summary.lines_rejected += res.lines_rejected
    summary.redacted_values += orjson.loads(o.parser_state).get("redacted_values", 0)
    summary.agents[res.agent] = summary.agents.get(res.agent, 0) + 1
    for key, n in res.rejects.by_reason.items():
        summary.rejects_by_reason[key] = summary.rejects_by_reason.get(key, 0) + n


def _rejects(ci: CommitInput, removed: set[str], append_starts: dict[str, int]) -> list[str]:
    """The ``rejects`` parts after this ingest: the stored parts minus the rows of fully
    re-parsed files and the provisional rows of re-read lines (a truncated last line), plus the
    parts the workers wrote. Only files the manifest says hold rejects are looked for, and only
    parts that hold one of them are rewritten (:func:`~tracelab.ingest.rejects.without_files`):
    an ingest into a warehouse of millions of rejects neither reads nor rewrites them."""
    wh, snap = ci.wh, ci.snap
    had = {p for p in removed if (ci.manifest.get(p) or {}).get("lines_rejected") != 0}
    cut = {p: line for p, line in append_starts.items() if p not in had}
    kept = without_files(wh.root, list(snap.tables.get("rejects", [])), had, cut, f"{ci.batch}-r")
    return kept + sorted(ci.parsed.reject_parts)


def commit(ci: CommitInput, summary: IngestSummary, clock: Clock) -> CommitResult:
    """Write this ingest's rows, rejects and manifest into ``ci.snap`` (not yet published)."""
    wh, snap, batch, parsed = ci.wh, ci.snap, ci.batch, ci.parsed
    outcomes = parsed.outcomes
    now_ms = int(time.time() * 1000)
    # 1. remove rows of files being fully re-parsed (including appends an adapter asked to re-parse)
    removed = set(ci.plan.removed_paths) | {o.task.path for o in outcomes if o.task.mode == "reparse"}
    if removed:
        snap.tables["events"] = wh.without_rows("events", snap, "source_file", pa.array(sorted(removed), pa.string()), f"{batch}-d")
    # 2. dedup in a deterministic order: earliest session first
    outcomes.sort(key=lambda o: (o.result.first_ts if o.result.first_ts is not None else 1 << 62, o.result.path))
    manifest_rows = _manifest(ci, now_ms)
    dups = _duplicate_lines(wh, snap, outcomes, parsed.key_parts)
    append_starts: dict[str, int] = {}  # appended files with a provisional reject to replace
    for o in outcomes:
        task = o.task
        n_dup = len(dups.get(task.path, ()))
        prev = manifest_rows.get(task.path) if task.mode == "append" else None
        if task.mode == "append" and (task.state or {}).get("__pending"):
            append_starts[task.path] = task.start_line
        manifest_rows[task.path] = _manifest_row(o, prev, n_dup, ci.policy, now_ms)
        _count(summary, o, n_dup)
    # 3. events: the staged batches as Parquet parts, minus rows of duplicate lines (in the
    #    workers, in parallel), then the workers go before the derive step needs the memory
    files_of_stage: dict[str | None, list[str]] = {}
    for o in outcomes:
        files_of_stage.setdefault(o.stage, []).append(o.task.path)
    work = [
        StageJob(str(wh.root), group, {f: dups[f] for rel in group for f in files_of_stage.get(rel, ()) if f in dups})
        for group in stage_groups(wh, parsed.staged, parsed.workers.jobs)
    ]
    parts = [p for out in parsed.workers.map(write_staged, work) for p in out]
    parsed.workers.close()
    summary.unknown_types = _unknown_types(wh, parts)
    clock.lap("write")
    snap.tables["events"] = list(snap.tables.get("events", [])) + sorted(parts)
    # 4. rejects
    snap.tables["rejects"] = _rejects(ci, removed, append_starts)
    # 5. manifest
    rows = sorted(manifest_rows.values(), key=lambda r: r["path"])
    snap.tables["files"] = [wh.write_part("files", pa.Table.from_pylist(rows, schema=S.FILES), batch)]
    clock.lap("commit")
    return CommitResult(bool(removed or parts), None if removed else sorted(parts))


def row_counts(wh: Warehouse, snap: Snapshot) -> dict[str, int]:
    """Rows per table of ``snap`` (from the Parquet footers)."""
    return {t: sum(pq.ParquetFile(f).metadata.num_rows for f in wh.files_of(t, snap)) for t in S.TABLES}
