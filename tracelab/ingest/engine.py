"""``tracelab ingest``: plan (what changed), parse (in parallel), dedup, write, derive, commit.

Incremental rules, per input file, decided from the manifest (``files`` table):

* same size, mtime, parser and schema version → *unchanged*: not opened at all;
* grew, and the bytes already ingested still hash to the stored fingerprint → *appended*: only
  the new tail is parsed, continuing from the parser state saved in the manifest;
* anything else (new file, rewritten, truncated, parser upgraded) → *full* parse; a file that
  was in the warehouse before has its old rows removed first.

Dedup: every line an adapter marks with a ``line_key`` (Claude ``uuid``, Pi entry identity)
counts once in the warehouse. Within one run, files are ordered by (first timestamp, path) so
the original session owns lines that resumed/forked copies repeat; across runs the warehouse
already holding a key wins. Lines whose every row was dropped are counted as duplicates.

After the events are written, ``llm_calls``, ``tool_calls`` and ``sessions`` are rebuilt from
``events`` by the SQL in ``tracelab/sql/derive_*.sql``, and everything is published in one
atomic snapshot commit.
"""

from __future__ import annotations

import datetime as _dt
import glob
import hashlib
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from tracelab import schema as S
from tracelab.ingest import registry
from tracelab.ingest.base import ParseResult
from tracelab.store.warehouse import Snapshot, Warehouse

FINGERPRINT_BYTES = 1 << 16


class IngestError(Exception):
    pass


@dataclass
class FileTask:
    path: str
    agent: str
    mode: str  # full | append
    start_offset: int = 0
    start_line: int = 0
    state: dict | None = None
    size: int = 0
    mtime_ns: int = 0


@dataclass
class IngestSummary:
    warehouse: str
    files_seen: int = 0
    files_parsed: int = 0
    files_unchanged: int = 0
    files_appended: int = 0
    files_failed: int = 0
    bytes_parsed: int = 0
    lines_total: int = 0
    lines_ingested: int = 0
    lines_duplicate: int = 0
    lines_rejected: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    agents: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


# ---------------------------------------------------------------------------------- discovery
def resolve_inputs(paths: Iterable[str], agent: str | None = None, skipped: list[str] | None = None) -> list[tuple[Path, registry.Adapter]]:
    """Expand files, directories and globs into (file, adapter) pairs; with no paths, every
    adapter's default locations. Content decides the agent unless ``agent`` is given.
    ``*.jsonl`` files inside a directory whose content matches no adapter are listed in
    ``skipped`` (a file named explicitly is always ingested)."""
    ads = registry.adapters()
    forced = registry.get(agent) if agent else None
    out: dict[Path, registry.Adapter] = {}
    paths = list(paths)
    if not paths:
        for ad in ([forced] if forced else ads.values()):
            for root in ad.default_roots():
                if root.is_dir():
                    for p in ad.discover(root):
                        out.setdefault(p.resolve(), ad)
        return sorted(out.items(), key=lambda kv: str(kv[0]))
    for raw in paths:
        expanded = [Path(p) for p in glob.glob(os.path.expanduser(raw), recursive=True)] if any(c in raw for c in "*?[") else [Path(os.path.expanduser(raw))]
        if not expanded:
            raise IngestError(f"{raw}: no such file or directory")
        for p in expanded:
            if p.is_dir():
                for f in sorted(p.rglob("*.jsonl")):
                    if f.name in ("journal.jsonl", "history.jsonl"):
                        continue
                    ad = forced or registry.detect(f)
                    if ad is not None:
                        out.setdefault(f.resolve(), ad)
                    elif skipped is not None and f.stat().st_size > 0:
                        skipped.append(f"{f}: content matches no known agent format")
            elif p.is_file():
                ad = forced or registry.detect(p)
                if ad is None:
                    # unknown content: ingest with the first adapter so every line is accounted for
                    ad = next(iter(ads.values()))
                out.setdefault(p.resolve(), ad)
            else:
                raise IngestError(f"{p}: no such file or directory")
    return sorted(out.items(), key=lambda kv: str(kv[0]))


def fingerprint(path: str, nbytes: int) -> str:
    """Hash of the first ``nbytes`` bytes (the part already ingested) plus its length."""
    h = hashlib.blake2b(digest_size=16)
    h.update(str(nbytes).encode())
    with open(path, "rb") as fh:
        remaining = nbytes
        while remaining > 0:
            chunk = fh.read(min(remaining, 1 << 20))
            if not chunk:
                break
            h.update(chunk)
            remaining -= len(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------- worker
def _parse_task(task: FileTask) -> tuple[FileTask, ParseResult | None, str | None]:
    ad = registry.get(task.agent)
    try:
        res = ad.parse(task.path, task.start_offset, task.start_line, task.state)
    except Exception as exc:  # an adapter bug must not lose the other files
        return task, None, f"{task.path}: {type(exc).__name__}: {exc}"
    res.events = finalize_events(res.events, task.mtime_ns)
    return task, res, None


def finalize_events(t: pa.Table, mtime_ns: int) -> pa.Table:
    """Add ``date``, ``month``, ``seq``; rows without a timestamp take the previous row's date
    (or the file's mtime) for partitioning, but keep ``ts`` null."""
    n = t.num_rows
    ts = t.column("ts")
    filled = pc.fill_null_forward(ts) if n else ts
    if n and filled.null_count:
        fallback = pa.scalar(int(mtime_ns // 1_000_000), type=pa.int64()).cast(S.TS)
        filled = pc.fill_null_backward(filled)
        filled = pc.fill_null(filled, fallback)
    date = pc.cast(filled, pa.date32()) if n else pa.array([], pa.date32())
    month = pc.strftime(filled, format="%Y-%m") if n else pa.array([], pa.string())
    seq = pc.add(pc.multiply(pc.cast(t.column("line_no"), pa.int64()), 1024), pc.cast(t.column("block_index"), pa.int64())) if n else pa.array([], pa.int64())
    t = t.append_column("date", date).append_column("month", month).append_column("seq", seq)
    return S.cast_table(t, "events")


# ---------------------------------------------------------------------------------- main
def ingest(
    paths: Iterable[str] = (),
    warehouse: str | os.PathLike = "warehouse",
    *,
    agent: str | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    redactor: Any = None,
) -> IngestSummary:
    """Ingest session files into ``warehouse``; see the module docstring for the rules."""
    t0 = time.perf_counter()
    wh = Warehouse(warehouse)
    summary = IngestSummary(warehouse=str(wh.root))
    with wh.lock():
        inputs = resolve_inputs(paths, agent, summary.skipped)
        summary.files_seen = len(inputs)
        snap = wh.snapshot()
        files_tbl = wh.read_table("files", snap)
        manifest = {r["path"]: r for r in files_tbl.to_pylist()}
        policy = getattr(redactor, "policy_id", None) if redactor is not None else None
        tasks: list[FileTask] = []
        removed_paths: set[str] = set()
        for path, ad in inputs:
            sp = str(path)
            st = os.stat(sp)
            prev = manifest.get(sp)
            same_version = prev is not None and prev["parser_version"] == ad.parser_version and prev["schema_version"] == S.SCHEMA_VERSION and prev.get("redaction_policy") == policy
            if prev is not None and same_version and prev["size_bytes"] == st.st_size and prev["mtime_ns"] == st.st_mtime_ns:
                summary.files_unchanged += 1
                continue
            if (
                prev is not None
                and same_version
                and st.st_size > prev["bytes_ingested"]
                and prev["bytes_ingested"] > 0
                and fingerprint(sp, prev["bytes_ingested"]) == prev["fingerprint"]
            ):
                state = orjson.loads(prev["parser_state"]) if prev.get("parser_state") else None
                start_line = (state or {}).get("__end_line", 0)
                tasks.append(FileTask(sp, ad.name, "append", prev["bytes_ingested"], start_line, state, st.st_size, st.st_mtime_ns))
                summary.files_appended += 1
                continue
            if prev is not None:
                removed_paths.add(sp)
            tasks.append(FileTask(sp, ad.name, "full", 0, 0, None, st.st_size, st.st_mtime_ns))
        if not tasks:
            summary.seconds = time.perf_counter() - t0
            summary.rows = _row_counts(wh, snap)
            return summary

        results = _run_parsers(tasks, jobs, progress, summary)
        if redactor is not None:
            for _, res in results:
                res.events = redactor.redact_events(res.events)
                for rj in res.rejects:
                    rj.raw_text = redactor.redact_text(rj.raw_text)
        _commit(wh, snap, manifest, files_tbl, tasks, results, removed_paths, summary, policy)
    summary.seconds = time.perf_counter() - t0
    return summary


def _run_parsers(tasks: list[FileTask], jobs: int | None, progress, summary: IngestSummary) -> list[tuple[FileTask, ParseResult]]:
    jobs = jobs or min(os.cpu_count() or 1, 8)
    total_bytes = sum(t.size - t.start_offset for t in tasks)
    done_bytes = 0
    out: list[tuple[FileTask, ParseResult]] = []
    order = sorted(tasks, key=lambda t: -(t.size - t.start_offset))

    def handle(task: FileTask, res: ParseResult | None, err: str | None) -> None:
        nonlocal done_bytes
        done_bytes += task.size - task.start_offset
        if progress:
            progress(done_bytes, total_bytes, task.path)
        if err is not None:
            summary.files_failed += 1
            summary.errors.append(err)
            return
        assert res is not None
        out.append((task, res))

    if jobs <= 1 or len(tasks) == 1 or total_bytes < (4 << 20):
        for task in order:
            handle(*_parse_task(task))
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            for task, res, err in pool.map(_parse_task, order, chunksize=1):
                handle(task, res, err)
    summary.files_parsed = len(out)
    summary.bytes_parsed = total_bytes
    return out


def _existing_keys(wh: Warehouse, snap: Snapshot) -> set[str]:
    files = wh.files_of("events", snap)
    if not files:
        return set()
    import duckdb

    con = duckdb.connect()
    try:
        rel = con.sql(
            "SELECT DISTINCT line_key FROM read_parquet($files) WHERE line_key IS NOT NULL",
            params={"files": [str(f) for f in files]},
        ).to_arrow_table()
    finally:
        con.close()
    return set(rel.column(0).to_pylist())


def _commit(wh, snap, manifest, files_tbl, tasks, results, removed_paths, summary, policy) -> None:
    batch = wh.new_batch_id()
    now_ms = int(time.time() * 1000)
    # 1. remove rows of files being fully re-parsed
    if removed_paths:
        snap = _drop_files(wh, snap, removed_paths, batch)
    seen = _existing_keys(wh, snap)
    # 2. dedup in a deterministic order: earliest session first
    results.sort(key=lambda tr: (tr[1].first_ts if tr[1].first_ts is not None else 1 << 62, tr[1].path))
    event_tables: list[pa.Table] = []
    manifest_rows: dict[str, dict] = {k: v for k, v in manifest.items()}
    new_rejects: list = []
    append_starts: dict[str, int] = {}
    for task, res in results:
        dup_lines: list[int] = []
        line_dup_keys = res.line_keys
        for line_no in sorted(line_dup_keys):
            key = line_dup_keys[line_no]
            if key in seen:
                dup_lines.append(line_no)
            else:
                seen.add(key)
        events = res.events
        if dup_lines:
            mask = pc.is_in(events.column("line_no"), value_set=pa.array(dup_lines, pa.int32()))
            events = events.filter(pc.invert(mask))
        # fill line_key (the dedup key) for rows that have one
        if line_dup_keys and events.num_rows:
            ln = events.column("line_no").to_pylist()
            keys = [line_dup_keys.get(x) for x in ln]
            events = events.set_column(events.schema.get_field_index("line_key"), "line_key", pa.array(keys, pa.string()))
        event_tables.append(events)
        ingested_lines = len(set(events.column("line_no").to_pylist())) if events.num_rows else 0
        lines_dup = len(dup_lines) + res.lines_skipped_duplicate
        prev = manifest_rows.get(task.path) if task.mode == "append" else None
        if task.mode == "append":
            append_starts[task.path] = task.start_line
        state = dict(res.state)
        state["__end_line"] = res.end_line_no
        row = {
            "path": task.path,
            "agent": res.agent,
            "size_bytes": task.size,
            "mtime_ns": task.mtime_ns,
            "fingerprint": fingerprint(task.path, res.bytes_ingested),
            "bytes_ingested": res.bytes_ingested,
            "lines_total": res.lines_total + (prev["lines_total"] if prev else 0),
            "lines_ingested": ingested_lines + (prev["lines_ingested"] if prev else 0),
            "lines_duplicate": lines_dup + (prev["lines_duplicate"] if prev else 0),
            "lines_rejected": res.lines_rejected + (prev["lines_rejected"] if prev else 0),
            "parser_version": res.parser_version,
            "schema_version": S.SCHEMA_VERSION,
            "redaction_policy": policy,
            "parser_state": orjson.dumps(state).decode(),
            "ingested_at": now_ms,
            "session_keys": sorted(set(events.column("session_key").to_pylist())) if events.num_rows else (prev["session_keys"] if prev else []),
        }
        if prev and row["session_keys"] != prev["session_keys"]:
            row["session_keys"] = sorted(set(row["session_keys"]) | set(prev["session_keys"] or []))
        manifest_rows[task.path] = row
        new_rejects.extend(res.rejects)
        summary.lines_total += res.lines_total
        summary.lines_ingested += ingested_lines
        summary.lines_duplicate += lines_dup
        summary.lines_rejected += res.lines_rejected
        summary.agents[res.agent] = summary.agents.get(res.agent, 0) + 1
        for rj in res.rejects:
            key = rj.reason.split(":")[0].split(" (")[0]
            summary.rejects_by_reason[key] = summary.rejects_by_reason.get(key, 0) + 1
    # A truncated last line is rejected but not consumed (bytes_ingested stops before it): the
    # next run re-reads it, so its reject row and its count in lines_total/lines_rejected are
    # provisional and get replaced.
    for task, res in results:
        row = manifest_rows[task.path]
        pend = sum(1 for rj in res.rejects if rj.reason.startswith("truncated last line"))
        state = orjson.loads(row["parser_state"])
        state["__pending"] = pend
        row["parser_state"] = orjson.dumps(state).decode()
        if task.mode == "append" and task.state and task.state.get("__pending"):
            p = task.state["__pending"]
            row["lines_total"] -= p
            row["lines_rejected"] -= p
    # 3. write events
    new_events = pa.concat_tables(event_tables) if event_tables else S.EVENTS.empty_table()
    new_parts = wh.write_partitioned("events", new_events, batch)
    snap.tables["events"] = list(snap.tables.get("events", [])) + new_parts
    # 4. rejects: drop provisional rows of re-read lines and rows of fully re-parsed files
    old_rej = wh.read_table("rejects", snap)
    if old_rej.num_rows:
        keep = []
        for r in old_rej.to_pylist():
            sp = r["source_file"]
            if sp in removed_paths:
                continue
            if sp in append_starts and r["line_no"] > append_starts[sp]:
                continue
            keep.append(r)
        old_rej = pa.Table.from_pylist(keep, schema=S.REJECTS) if keep else S.REJECTS.empty_table()
    rej_new = pa.Table.from_pylist([rj.__dict__ for rj in new_rejects], schema=S.REJECTS) if new_rejects else S.REJECTS.empty_table()
    rejects = pa.concat_tables([old_rej, rej_new]).sort_by([("source_file", "ascending"), ("line_no", "ascending")])
    snap.tables["rejects"] = [wh.write_part("rejects", rejects, batch)]
    # 5. manifest
    rows = sorted(manifest_rows.values(), key=lambda r: r["path"])
    files = pa.Table.from_pylist(rows, schema=S.FILES)
    snap.tables["files"] = [wh.write_part("files", files, batch)]
    # 6. derived tables
    from tracelab.store import derive

    derive.rebuild(wh, snap, batch)
    wh.commit(snap)
    summary.rows = _row_counts(wh, snap)


def _drop_files(wh: Warehouse, snap: Snapshot, paths: set[str], batch: str) -> Snapshot:
    """Rewrite the events partitions that hold rows of ``paths`` without those rows."""
    import duckdb

    files = wh.files_of("events", snap)
    if not files:
        return snap
    con = duckdb.connect()
    try:
        con.register("dropped", pa.table({"p": sorted(paths)}))
        keep_parts: list[str] = []
        rewrite: list[str] = []
        for rel, f in zip(snap.tables["events"], files):
            hit = con.execute(
                "SELECT count(*) FROM read_parquet($f) WHERE source_file IN (SELECT p FROM dropped)", {"f": str(f)}
            ).fetchone()[0]
            (rewrite if hit else keep_parts).append(rel)
        parts: list[str] = []
        for i, rel in enumerate(rewrite):
            t = con.sql(
                "SELECT * FROM read_parquet($f, hive_partitioning = false) WHERE source_file NOT IN (SELECT p FROM dropped)",
                params={"f": str(wh.root / rel)},
            ).to_arrow_table()
            if t.num_rows:
                t = S.cast_table(t, "events")
                month = rel.split("month=")[1].split("/")[0] if "month=" in rel else None
                parts.append(wh.write_part("events", t, f"{batch}-d{i}", partition=month))
        snap.tables["events"] = keep_parts + parts
    finally:
        con.close()
    return snap


def _row_counts(wh: Warehouse, snap: Snapshot) -> dict[str, int]:
    import pyarrow.parquet as pq

    out = {}
    for t in S.TABLES:
        out[t] = sum(pq.ParquetFile(f).metadata.num_rows for f in wh.files_of(t, snap))
    return out


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)
