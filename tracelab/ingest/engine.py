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
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracelab import schema as S
from tracelab.ingest import registry, unchanged
from tracelab.ingest.base import EventBuffer, ParseResult
from tracelab.ingest.summary import IngestSummary
from tracelab.store.warehouse import Snapshot, Warehouse, sql_list

#: below this much input, parsing in worker processes costs more than it saves
PARALLEL_MIN_BYTES = 24 << 20


class IngestError(Exception):
    pass


@dataclass
class FileTask:
    path: str
    agent: str | None  # None: detect in the worker
    mode: str  # full | append | reparse (an append the adapter turned into a full parse)
    start_offset: int = 0
    start_line: int = 0
    state: dict | None = None
    size: int = 0
    mtime_ns: int = 0


# ---------------------------------------------------------------------------------- discovery
def resolve_inputs(
    paths: Iterable[str],
    agent: str | None = None,
    skipped: list[str] | None = None,
    sources: list[dict] | None = None,
    known: dict[str, str] | None = None,
    skipped_paths: list[str] | None = None,
    defer_detection: bool = False,
) -> list[tuple[Path, registry.Adapter | None]]:
    """Expand files, directories and globs into (file, adapter) pairs; with no paths, every
    adapter's default locations. Content decides the agent unless ``agent`` is given.
    ``*.jsonl`` files inside a directory whose content matches no adapter are listed in
    ``skipped`` (a file named explicitly is always ingested). With ``defer_detection`` a new
    file found in a directory comes back with adapter None: the parser process reads its head
    (in parallel) and skips it there if it matches no adapter."""
    ads = registry.adapters()
    forced = registry.get(agent) if agent else None
    out: dict[Path, registry.Adapter] = {}
    paths = list(paths)
    if not paths:
        for ad in [forced] if forced else ads.values():
            for root in ad.default_roots():
                n = 0
                if root.is_dir():
                    for p in ad.discover(root):
                        out.setdefault(p.resolve(), ad)
                        n += 1
                if sources is not None:
                    sources.append({"agent": ad.name, "root": str(root), "exists": root.is_dir(), "files": n})
        return sorted(out.items(), key=lambda kv: str(kv[0]))
    for raw in paths:
        expanded = [Path(p) for p in glob.glob(os.path.expanduser(raw), recursive=True)] if any(c in raw for c in "*?[") else [Path(os.path.expanduser(raw))]
        if not expanded:
            raise IngestError(f"{raw}: no such file or directory")
        for p in expanded:
            if p.is_dir():
                root = p.resolve()
                for f in registry.candidate_files(p):
                    # resolve() stats every path component; only links need it
                    rf = f.resolve() if f.is_symlink() else root / f.relative_to(p)
                    # a file already in the manifest keeps its agent: no need to read its head
                    ad = forced or (ads.get(known[str(rf)]) if known and str(rf) in known else None)
                    if ad is None and defer_detection:
                        out.setdefault(rf, None)
                        continue
                    ad = ad or registry.detect(f)
                    if ad is not None:
                        out.setdefault(rf, ad)
                    elif skipped is not None and f.stat().st_size > 0:
                        message = registry.report_unmatched(f)
                        if message:
                            skipped.append(message)
                        if skipped_paths is not None:
                            skipped_paths.append(str(f))
            elif p.is_file():
                ad = forced or registry.detect(p)
                if ad is None:
                    if p.stat().st_size == 0:
                        ad = next(iter(ads.values()))  # an empty file: recorded with 0 lines
                    else:
                        if skipped is not None:
                            skipped.append(f"{p}: {_why_unrecognised(p)}; pass --agent to force an adapter")
                        if skipped_paths is not None:
                            skipped_paths.append(str(p))
                        continue
                out.setdefault(p.resolve(), ad)
            else:
                raise IngestError(f"{p}: no such file or directory")
    return sorted(out.items(), key=lambda kv: str(kv[0]))


def _why_unrecognised(p: Path) -> str:
    """A short reason a file matched no adapter (e.g. a whole JSON document, not JSONL)."""
    known = registry.unsupported_format(p)
    if known:
        return known
    try:
        with open(p, "rb") as fh:
            head = fh.read(1 << 20)
        if len(head) < (1 << 20):
            obj = orjson.loads(head)
            return f"a single JSON {type(obj).__name__} document, not a JSONL session file"
    except (orjson.JSONDecodeError, OSError):
        pass
    return f"content matches no known agent format ({registry.known_formats()})"


def _hash_prefix(h: Any, path: str, nbytes: int) -> Any:
    """Feed the first ``nbytes`` bytes of ``path`` to the hash object ``h``."""
    with open(path, "rb") as fh:
        remaining = nbytes
        while remaining > 0:
            chunk = fh.read(min(remaining, 1 << 20))
            if not chunk:
                break
            h.update(chunk)
            remaining -= len(chunk)
    return h


def fingerprint(path: str, nbytes: int) -> str:
    """``sha256:<hex>`` of the first ``nbytes`` bytes (the part already ingested) and their
    count. A full hash, not a sample: a file edited anywhere in the ingested part (a secret
    removed by hand, say) must be re-parsed, never treated as an append. SHA-256 runs on the
    CPU's SHA instructions, about twice as fast as BLAKE2b here."""
    h = _hash_prefix(hashlib.sha256(), path, nbytes)
    h.update(b"|" + str(nbytes).encode())
    return "sha256:" + h.hexdigest()


def _legacy_fingerprint(path: str, nbytes: int) -> str:
    """The fingerprint manifests written before ``sha256:`` (BLAKE2b-128, length first)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(str(nbytes).encode())
    return _hash_prefix(h, path, nbytes).hexdigest()


def prefix_unchanged(path: str, nbytes: int, stored: str) -> bool:
    """Do the first ``nbytes`` bytes of ``path`` still hash to ``stored`` (either format)?"""
    if stored.startswith("sha256:"):
        return fingerprint(path, nbytes) == stored
    return _legacy_fingerprint(path, nbytes) == stored


# ---------------------------------------------------------------------------------- worker
@dataclass
class FileOutcome:
    """Everything the main process needs about one parsed file (its rows are already on disk)."""

    task: FileTask
    result: ParseResult  # with ``events``, ``line_keys`` (staged) and ``state`` (in ``parser_state``) emptied
    lines_with_rows: int
    session_keys: list[str]
    fingerprint: str
    #: the manifest's ``parser_state`` (JSON): the adapter's state plus the engine's
    #: ``__end_line`` and ``__pending`` (truncated last lines, read again on the next append)
    parser_state: str
    #: the staged batch file holding its rows (None when it has none)
    stage: str | None = None


@dataclass
class BatchOutcome:
    files: list[FileOutcome]
    parts: list[str]
    errors: list[str]
    nbytes: int
    #: the staged Parquet file of its files' line keys (see :func:`_stage_keys`), None if no lines
    keys: str | None = None
    #: files whose content matched no adapter: (path, message); an empty one has no message
    skipped: list[tuple[str, str | None]] = field(default_factory=list)


def finalize_events(t: pa.Table, mtime_ns: int, line_keys: dict[int, str]) -> pa.Table:
    """Complete an adapter's events table: rows with no timestamp at all take the file's mtime
    for partitioning; the dedup ``line_key`` is filled from the adapter's ``line_keys``."""
    if t.schema != S.EVENTS:
        t = S.cast_table(t, "events")
    n = t.num_rows
    if not n:
        return t
    month = t.column("month")
    if month.null_count:
        fallback = pa.scalar(int(mtime_ns // 1_000_000), type=pa.int64()).cast(S.TS)
        d = pc.cast(fallback, pa.date32())
        m = pc.strftime(fallback, format="%Y-%m")
        t = t.set_column(t.schema.get_field_index("date"), "date", pc.fill_null(t.column("date"), d))
        t = t.set_column(t.schema.get_field_index("month"), "month", pc.fill_null(month, m))
    if line_keys:
        ln = t.column("line_no").to_pylist()
        keys = [line_keys.get(x) for x in ln]
        t = t.set_column(t.schema.get_field_index("line_key"), "line_key", pa.array(keys, pa.string()))
    return t


def _parse_batch(args: tuple[list[FileTask], str, str, int, Any]) -> BatchOutcome:
    """Worker: parse a batch of files, write their events as Parquet parts, return metadata."""
    tasks, root, batch_id, idx, redactor = args
    wh = Warehouse(root)
    tables: list[pa.Table] = []
    merged = EventBuffer()
    outs: list[FileOutcome] = []
    errors: list[str] = []
    nbytes = 0
    skipped: list[tuple[str, str | None]] = []
    buffered: list[FileOutcome] = []  # files whose rows went into ``merged``
    keys_of: dict[str, pa.Table] = {}  # path -> its line keys
    for task in tasks:
        nbytes += task.size - task.start_offset
        if task.agent is None:
            det = registry.detect(task.path)
            if det is None:
                skipped.append((task.path, registry.report_unmatched(task.path) if task.size > 0 else None))
                continue
            task.agent = det.name
        ad = registry.get(task.agent)
        try:
            res = ad.parse(task.path, task.start_offset, task.start_line, task.state)
            if task.mode == "append" and res.state.get("needs_full_reparse"):
                # the appended lines change the meaning of rows already written: parse it all
                task.mode, task.start_offset, task.start_line, task.state = "reparse", 0, 0, None
                res = ad.parse(task.path, 0, 0, None)
            in_buffer = res.buffer is not None
            if in_buffer:
                buf = _keyed_buffer(res)
                line_set = set(buf.cols["line_no"])
                sks = sorted(set(buf.cols["session_key"]))
                merged.extend(buf, int(task.mtime_ns // 1_000_000))
                res.buffer = None
            else:
                ev = finalize_events(res.events, task.mtime_ns, res.line_keys)
                line_set = set(ev.column("line_no").to_pylist()) if ev.num_rows else set()
                sks = sorted(set(ev.column("session_key").to_pylist())) if ev.num_rows else []
                if ev.num_rows:
                    tables.append(ev)
            res.events = None
            fp = fingerprint(task.path, res.bytes_ingested)
        except Exception as exc:  # an adapter bug must not lose the other files
            errors.append(f"{task.path}: {type(exc).__name__}: {exc}")
            continue
        keys_of[task.path] = _key_table(res.line_keys, line_set)
        res.line_keys = {}
        state = {**res.state, "__end_line": res.end_line_no, "__pending": sum(1 for rj in res.rejects if rj.reason.startswith("truncated last line"))}
        res.state = {}  # as JSON text: one object in the main process instead of hundreds
        outs.append(FileOutcome(task, res, len(line_set), sks, fp, orjson.dumps(state).decode()))
        if in_buffer:
            buffered.append(outs[-1])
    if merged.n:
        try:
            tables.append(merged.to_table())
        except (OverflowError, TypeError, ValueError, pa.ArrowException):
            # a value of some file does not fit its column (an exit code beyond int32, say):
            # convert file by file so only that file fails
            del merged
            for o in buffered:
                try:
                    tables.append(_file_table(o.task))
                except Exception as exc:
                    errors.append(f"{o.task.path}: {type(exc).__name__}: {exc}")
                    outs.remove(o)
    parts: list[str] = []
    if tables:
        batch_tbl = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        if redactor is not None:
            batch_tbl = redactor.redact_events(batch_tbl)
            for o in outs:
                for rj in o.result.rejects:
                    rj.raw_text = redactor.redact_text(rj.raw_text)
        parts = [_stage(wh, batch_tbl, f"{batch_id}-w{idx:05d}")]
        for o in outs:
            o.stage = parts[0]
    keys = _stage_keys(wh, [(o.task.path, keys_of[o.task.path]) for o in outs], f"{batch_id}-w{idx:05d}")
    return BatchOutcome(outs, parts, errors, nbytes, keys=keys, skipped=skipped)


def _key_table(line_keys: dict[int, str], with_rows: set[int]) -> pa.Table:
    """A file's line keys as Arrow columns: line_no (int64), line_key (string), has_rows (bool)."""
    lines = sorted(line_keys)
    return pa.table(
        {
            "line_no": pa.array(lines, pa.int64()),
            "line_key": pa.array([line_keys[n] for n in lines], pa.string()),
            "has_rows": pa.array([n in with_rows for n in lines], pa.bool_()),
        }
    )


def _keyed_buffer(res: ParseResult) -> EventBuffer:
    """The adapter's buffer with each row's dedup ``line_key`` filled in."""
    buf = res.buffer
    if res.line_keys:
        keys = res.line_keys
        buf.cols["line_key"] = [keys.get(x) for x in buf.cols["line_no"]]
    return buf


def _file_table(task: FileTask) -> pa.Table:
    """One file's rows as a table, parsed again (the slow path after a batch failed to convert)."""
    res = registry.get(task.agent).parse(task.path, task.start_offset, task.start_line, task.state)
    if res.buffer is None:
        return finalize_events(res.events, task.mtime_ns, res.line_keys)
    one = EventBuffer()
    one.extend(_keyed_buffer(res), int(task.mtime_ns // 1_000_000))
    return one.to_table()


# ---------------------------------------------------------------------------------- staging
#: Workers write their rows here as uncompressed Arrow IPC; the final Parquet parts are written
#: only once the main process knows which rows are duplicates of rows in other batches.
STAGING = ".staging"


def _stage(wh: Warehouse, table: pa.Table, name: str) -> str:
    d = wh.root / STAGING
    d.mkdir(parents=True, exist_ok=True)
    rel = f"{STAGING}/{name}.arrow"
    tmp = wh.root / f"{rel}.tmp"
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=64 * 1024)
    os.replace(tmp, wh.root / rel)
    return rel


def _stage_keys(wh: Warehouse, keys: list[tuple[str, pa.Table]], name: str) -> str | None:
    """Stage the line keys of a batch's files, (path, line_no, line_key, has_rows), as a Parquet
    file that the duplicate-line query reads: the keys of a whole corpus (~70 bytes a line)
    never pass through the main process."""
    tables = [t.append_column("path", pa.array([path] * t.num_rows, pa.string())) for path, t in keys if t.num_rows]
    if not tables:
        return None
    d = wh.root / STAGING
    d.mkdir(parents=True, exist_ok=True)
    rel = f"{STAGING}/{name}.keys.parquet"
    tmp = wh.root / f"{rel}.tmp"
    pq.write_table(pa.concat_tables(tables), tmp, compression="none")
    os.replace(tmp, wh.root / rel)
    return rel


def _write_staged(args: tuple[str, list[str], dict[str, list[int]]]) -> list[str]:
    """Worker: turn a group of staged batches into ``events`` Parquet parts, one per month (the
    group's rows streamed into one writer per month), without the rows of the duplicate lines
    listed in ``dups`` (source file -> line numbers); remove the staged files."""
    root, rels, dups = args
    wh = Warehouse(root)

    def rows() -> Iterator[pa.Table]:
        for rel in rels:
            with pa.memory_map(str(wh.root / rel)) as src:
                t = pa.ipc.open_file(src).read_all()
                yield t.filter(pc.invert(_dup_mask(t, dups))) if dups else t
                del t

    parts = wh.write_stream("events", rows(), rels[0][len(STAGING) + 1 : -len(".arrow")])
    for rel in rels:
        os.unlink(wh.root / rel)
    return parts


def _stage_groups(wh: Warehouse, staged: list[str], jobs: int, target_bytes: int = 512 << 20) -> list[list[str]]:
    """Staged batches grouped for the final write: at least one group per worker, none much
    above ``target_bytes`` of staged Arrow (so a part stays a few hundred MB of Parquet at most),
    sizes balanced (largest first onto the smallest group). Fewer, larger parts than one per
    batch: a 1 GB ingest writes ~2 parts a month instead of ~25."""
    sizes = {rel: (wh.root / rel).stat().st_size for rel in staged}
    n = max(1, min(len(staged), max(jobs, -(-sum(sizes.values()) // target_bytes))))
    groups: list[list[str]] = [[] for _ in range(n)]
    load = [0] * n
    for rel in sorted(staged, key=lambda r: (-sizes[r], r)):
        i = load.index(min(load))
        groups[i].append(rel)
        load[i] += sizes[rel]
    return [sorted(g) for g in groups if g]


def _dup_mask(t: pa.Table, dups: dict[str, list[int]]) -> pa.Array:
    """True for rows whose (source_file, line_no) is listed in ``dups``: one int64 key per row
    (file index << 32 | line), so the test is a single ``is_in`` whatever the number of files."""
    enc = pc.dictionary_encode(t.column("source_file")).combine_chunks()
    index = {f: i for i, f in enumerate(enc.dictionary.to_pylist())}
    keys = pc.add(pc.shift_left(enc.indices.cast(pa.int64()), 32), t.column("line_no").cast(pa.int64()))
    wanted = [(index[f] << 32) + ln for f, lines in dups.items() if f in index for ln in lines]
    return pc.is_in(keys, value_set=pa.array(wanted, pa.int64()))


def _batches(tasks: list[FileTask], jobs: int, target_bytes: int = 24 << 20, max_files: int = 400) -> list[list[FileTask]]:
    """Group tasks into batches of roughly ``target_bytes`` (big files alone), largest first,
    small enough that every worker gets several."""
    total = sum(t.size - t.start_offset for t in tasks)
    target = max(1 << 20, min(target_bytes, total // max(1, jobs * 4) or (1 << 20)))
    out: list[list[FileTask]] = []
    cur: list[FileTask] = []
    cur_bytes = 0
    for t in sorted(tasks, key=lambda t: (-(t.size - t.start_offset), t.path)):
        b = t.size - t.start_offset
        if cur and (cur_bytes + b > target or len(cur) >= max_files):
            out.append(cur)
            cur, cur_bytes = [], 0
        cur.append(t)
        cur_bytes += b
    if cur:
        out.append(cur)
    return out


# ---------------------------------------------------------------------------------- main
def ingest(
    paths: Iterable[str] = (),
    warehouse: str | os.PathLike = "warehouse",
    *,
    agent: str | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    redactor: Any = None,
    use_cache: bool = True,
) -> IngestSummary:
    """Ingest session files into ``warehouse``; see the module docstring for the rules.

    A call that would change nothing is answered from the stat cache of
    :mod:`tracelab.ingest.unchanged` when it is valid (``use_cache=False`` skips the lookup,
    e.g. when the caller has just made it)."""
    paths = list(paths)
    if use_cache and redactor is None:
        cached = unchanged.check(paths, warehouse, agent)
        if cached is not None:
            return cached
    t0 = time.perf_counter()
    wh = Warehouse(warehouse)
    summary = IngestSummary(warehouse=str(wh.root))
    with wh.lock():
        snap = wh.snapshot()
        # what the next no-op call needs to see unchanged: taken before listing, so anything
        # created while this ingest runs invalidates the cache rather than hiding in it
        req = unchanged.request(paths, agent) if redactor is None else None
        dirs = unchanged.walk_dirs(_input_roots(paths, agent)) if req is not None else None
        files_tbl = wh.read_table("files", snap)
        manifest = {r["path"]: r for r in files_tbl.to_pylist()}
        known = {p: r["agent"] for p, r in manifest.items()}
        skipped_paths: list[str] = []
        clock = _Clock(summary, progress)
        inputs = resolve_inputs(paths, agent, summary.skipped, summary.sources, known, skipped_paths, defer_detection=True)
        summary.files_seen = len(inputs)
        stats: dict[str, tuple[int, int]] = {}
        policy = getattr(redactor, "policy_id", None) if redactor is not None else None
        tasks: list[FileTask] = []
        removed_paths: set[str] = set()
        for path, ad in inputs:
            sp = str(path)
            st = os.stat(sp)
            stats[sp] = (st.st_size, st.st_mtime_ns)
            prev = manifest.get(sp)
            if ad is None:  # new file, agent detected by the worker that parses it
                tasks.append(FileTask(sp, None, "full", 0, 0, None, st.st_size, st.st_mtime_ns))
                continue
            same_version = (
                prev is not None
                and prev["parser_version"] == ad.parser_version
                and prev["schema_version"] == S.SCHEMA_VERSION
                and prev.get("redaction_policy") == policy
            )
            if prev is not None and same_version and prev["size_bytes"] == st.st_size and prev["mtime_ns"] == st.st_mtime_ns:
                summary.files_unchanged += 1
                continue
            if (
                prev is not None
                and same_version
                and st.st_size > prev["bytes_ingested"]
                and prev["bytes_ingested"] > 0
                and prefix_unchanged(sp, prev["bytes_ingested"], prev["fingerprint"])
            ):
                state = orjson.loads(prev["parser_state"]) if prev.get("parser_state") else None
                start_line = (state or {}).get("__end_line", 0)
                tasks.append(FileTask(sp, ad.name, "append", prev["bytes_ingested"], start_line, state, st.st_size, st.st_mtime_ns))
                summary.files_appended += 1
                continue
            if prev is not None:
                removed_paths.add(sp)
            tasks.append(FileTask(sp, ad.name, "full", 0, 0, None, st.st_size, st.st_mtime_ns))
        if tasks:
            batch_id = wh.new_batch_id()
            shutil.rmtree(wh.root / STAGING, ignore_errors=True)  # left by a killed ingest
            clock.lap("list")
            outcomes, staged, key_parts, workers, not_sessions = _run_parsers(wh, batch_id, tasks, jobs, progress, summary, redactor)
            clock.lap("parse", "writing Parquet parts")
            # files the workers found to match no adapter are not inputs (as if detected here)
            summary.files_seen -= len(not_sessions)
            for path, message in sorted(not_sessions):
                stats.pop(path, None)
                skipped_paths.append(path)
                if message:
                    summary.skipped.append(message)
            try:
                if outcomes or removed_paths:
                    _commit(wh, snap, manifest, batch_id, outcomes, staged, key_parts, removed_paths, summary, policy, workers, clock)
            finally:
                workers.close()
                shutil.rmtree(wh.root / STAGING, ignore_errors=True)
        elif snap.tables.get("events") and _derived_stale(snap):
            # the same data, but tracelab's derived tables changed shape or meaning: rebuild them
            batch_id = wh.new_batch_id()
            clock.lap("list")
            _publish_derived(wh, snap, batch_id, summary, clock)
            summary.rederived = True
        elif not wh.exists:
            # nothing to read into a new warehouse: publish it empty, so that queries answer
            # (with no rows) instead of reporting a missing warehouse
            wh.commit(snap)
        if not summary.rows:
            summary.rows = _row_counts(wh, snap)
        unchanged.record(wh.root, req, dirs, stats, skipped_paths, summary, snap.version)
    summary.seconds = time.perf_counter() - t0
    return summary


class _Clock:
    """Wall seconds per ingest step into ``summary.phases``; tells the progress callback which
    step runs once parsing is done (``progress(total, total, step)``)."""

    def __init__(self, summary: IngestSummary, progress: Callable[[int, int, str], None] | None):
        self.summary, self.progress = summary, progress
        self.t = time.perf_counter()

    def lap(self, finished: str, next_step: str | None = None) -> None:
        now = time.perf_counter()
        self.summary.phases[finished] = round(self.summary.phases.get(finished, 0.0) + now - self.t, 3)
        self.t = now
        if next_step and self.progress:
            total = max(self.summary.bytes_parsed, 1)
            self.progress(total, total, next_step)


def _input_roots(paths: list[str], agent: str | None) -> list[str]:
    """The directories whose listing decides the inputs: the given directories, or with no
    paths the default locations of every (or the forced) adapter."""
    if paths:
        return [os.path.abspath(os.path.expanduser(p)) for p in paths if os.path.isdir(os.path.expanduser(p))]
    ads = [registry.get(agent)] if agent else list(registry.adapters().values())
    return [str(root) for ad in ads for root in ad.default_roots()]


class _Workers:
    """The parser processes, kept for both phases (parse and stage; then write the final parts),
    or the calling process itself when parallelism would not pay."""

    def __init__(self, jobs: int, parallel: bool):
        self.pool = None
        self.jobs = jobs if parallel else 1
        if parallel:
            import multiprocessing as mp

            # forkserver, not fork: the caller may hold threads (DuckDB, notebooks, test runners)
            # and a forked child of a threaded process can deadlock
            methods = mp.get_all_start_methods()
            ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
            if "forkserver" in methods:
                # pandas: pyarrow imports it on the first Parquet write when it is installed
                ctx.set_forkserver_preload(["tracelab.ingest.engine", "tracelab.ingest.claude", "pyarrow.parquet", "pandas"])
            self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)

    def map(self, fn, args: list) -> Iterable:
        if self.pool is None:
            return map(fn, args)
        return self.pool.map(fn, args, chunksize=1)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None
            _stop_forkserver()


def _stop_forkserver() -> None:
    """The forkserver keeps its preloaded modules (~200 MB) alive until the interpreter exits;
    stop it once the workers are gone so the derive step has that memory (it restarts on the
    next pool). Uses the stdlib's private hook when present and does nothing otherwise."""
    try:
        from multiprocessing import forkserver

        stop = getattr(forkserver._forkserver, "_stop", None)
        if stop is not None:
            stop()
    except Exception:  # pragma: no cover - best effort, never fails an ingest
        pass


def _run_parsers(
    wh: Warehouse, batch_id: str, tasks: list[FileTask], jobs: int | None, progress, summary: IngestSummary, redactor
) -> tuple[list[FileOutcome], list[str], list[str], _Workers, list[tuple[str, str | None]]]:
    """Parse ``tasks`` in worker processes: (outcomes, staged event batches, staged key files,
    the workers, files that matched no adapter)."""
    jobs = jobs or min(os.cpu_count() or 1, 8)
    total_bytes = sum(t.size - t.start_offset for t in tasks)
    batches = _batches(tasks, jobs)
    args = [(b, str(wh.root), batch_id, i, redactor) for i, b in enumerate(batches)]
    parallel = not (jobs <= 1 or len(batches) == 1 or total_bytes < PARALLEL_MIN_BYTES or not _main_importable())
    workers = _Workers(jobs, parallel)
    done = 0
    outcomes: list[FileOutcome] = []
    parts: list[str] = []
    key_parts: list[str] = []
    not_sessions: list[tuple[str, str | None]] = []

    def handle(bo: BatchOutcome) -> None:
        nonlocal done
        done += bo.nbytes
        if progress:
            progress(done, total_bytes, "")
        outcomes.extend(bo.files)
        parts.extend(bo.parts)
        if bo.keys:
            key_parts.append(bo.keys)
        summary.errors.extend(bo.errors)
        summary.files_failed += len(bo.errors)
        not_sessions.extend(bo.skipped)

    try:
        for bo in workers.map(_parse_batch, args):
            handle(bo)
    except BaseException:
        workers.close()
        raise
    summary.files_parsed = len(outcomes)
    size_of = {t.path: t.size - t.start_offset for t in tasks}
    summary.bytes_parsed = total_bytes - sum(size_of.get(p, 0) for p, _ in not_sessions)
    return outcomes, parts, key_parts, workers, not_sessions


def _main_importable() -> bool:
    """forkserver/spawn workers re-import ``__main__`` from its file; a program read from stdin
    or ``-c`` has none on disk, so it parses in-process instead."""
    import sys

    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is None or os.path.exists(main_file)


@contextmanager
def _scratch_duckdb() -> Iterator[Any]:
    """A throwaway in-memory DuckDB connection for one engine query (no progress bar, the
    derive step's memory limit), closed on exit."""
    import duckdb

    from tracelab.store.derive import MEMORY_LIMIT, no_progress_bar

    con = duckdb.connect()
    try:
        no_progress_bar(con)
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
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
    from tracelab.store.derive import sql_text

    with _scratch_duckdb() as con:
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


def _unknown_types(wh: Warehouse, parts: list[str]) -> dict[str, dict[str, int]]:
    """agent -> native type -> lines of that type the new ``parts`` hold as kind 'unknown'."""
    if not parts:
        return {}
    from tracelab.store.derive import sql_text

    with _scratch_duckdb() as con:
        con.execute(f"CREATE VIEW events_in_scope AS SELECT agent, native_type, kind FROM read_parquet({sql_list([str(wh.root / p) for p in parts])})")
        rows = con.sql(sql_text("unknown_types")).fetchall()
    out: dict[str, dict[str, int]] = {}
    for agent, native_type, n in rows:
        out.setdefault(agent, {})[native_type] = n
    return out


def _commit(
    wh,
    snap,
    manifest,
    batch,
    outcomes: list[FileOutcome],
    staged: list[str],
    key_parts: list[str],
    removed_paths,
    summary,
    policy,
    workers: _Workers,
    clock: _Clock,
) -> None:
    now_ms = int(time.time() * 1000)
    # 1. remove rows of files being fully re-parsed (including appends an adapter asked to re-parse)
    removed_paths = set(removed_paths) | {o.task.path for o in outcomes if o.task.mode == "reparse"}
    if removed_paths:
        snap = _drop_files(wh, snap, removed_paths, batch)
    # 2. dedup in a deterministic order: earliest session first
    outcomes.sort(key=lambda o: (o.result.first_ts if o.result.first_ts is not None else 1 << 62, o.result.path))
    manifest_rows: dict[str, dict] = dict(manifest)
    dups = _duplicate_lines(wh, snap, outcomes, key_parts)
    new_rejects: list = []
    append_starts: dict[str, int] = {}
    for o in outcomes:
        task, res = o.task, o.result
        dup_lines = dups.get(task.path, ())
        ingested_lines = o.lines_with_rows - len(dup_lines)
        lines_dup = len(dup_lines) + res.lines_skipped_duplicate
        prev = manifest_rows.get(task.path) if task.mode == "append" else None
        if task.mode == "append":
            append_starts[task.path] = task.start_line
        pending_before = (task.state or {}).get("__pending", 0) if task.mode == "append" else 0
        sks = o.session_keys if ingested_lines or not prev else prev["session_keys"]
        if prev and prev["session_keys"]:
            sks = sorted(set(sks) | set(prev["session_keys"]))
        manifest_rows[task.path] = {
            "path": task.path,
            "agent": res.agent,
            "size_bytes": task.size,
            "mtime_ns": task.mtime_ns,
            "fingerprint": o.fingerprint,
            "bytes_ingested": res.bytes_ingested,
            "lines_total": res.lines_total + (prev["lines_total"] - pending_before if prev else 0),
            "lines_ingested": ingested_lines + (prev["lines_ingested"] if prev else 0),
            "lines_duplicate": lines_dup + (prev["lines_duplicate"] if prev else 0),
            "lines_rejected": res.lines_rejected + (prev["lines_rejected"] - pending_before if prev else 0),
            "parser_version": res.parser_version,
            "schema_version": S.SCHEMA_VERSION,
            "redaction_policy": policy,
            "parser_state": o.parser_state,
            "ingested_at": now_ms,
            "session_keys": sks,
        }
        new_rejects.extend(res.rejects)
        summary.redacted_values += orjson.loads(o.parser_state).get("redacted_values", 0)
        summary.lines_total += res.lines_total
        summary.lines_ingested += ingested_lines
        summary.lines_duplicate += lines_dup
        summary.lines_rejected += res.lines_rejected
        summary.agents[res.agent] = summary.agents.get(res.agent, 0) + 1
        for rj in res.rejects:
            key = rj.reason.split(":")[0].split(" (")[0]
            summary.rejects_by_reason[key] = summary.rejects_by_reason.get(key, 0) + 1
    # 3. events: the staged batches as Parquet parts, minus rows of duplicate lines (in the
    #    workers, in parallel), then the workers go before the derive step needs the memory
    files_of_stage: dict[str, list[str]] = {}
    for o in outcomes:
        files_of_stage.setdefault(o.stage, []).append(o.task.path)
    work = [
        (str(wh.root), group, {f: dups[f] for rel in group for f in files_of_stage.get(rel, ()) if f in dups})
        for group in _stage_groups(wh, staged, workers.jobs)
    ]
    parts = [p for out in workers.map(_write_staged, work) for p in out]
    workers.close()
    summary.unknown_types = _unknown_types(wh, parts)
    clock.lap("write")
    snap.tables["events"] = list(snap.tables.get("events", [])) + sorted(parts)
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
    snap.tables["files"] = [wh.write_part("files", pa.Table.from_pylist(rows, schema=S.FILES), batch)]
    # 6. derived tables, then publish
    clock.lap("commit")
    _publish_derived(wh, snap, batch, summary, clock, new_events=None if removed_paths else sorted(parts))


def _derived_stale(snap: Snapshot) -> bool:
    from tracelab.store import derive

    return snap.extra.get("derive", {}).get("stamp") != derive.stamp()


def _publish_derived(wh: Warehouse, snap: Snapshot, batch: str, summary: IngestSummary, clock: _Clock, new_events: list[str] | None = None) -> None:
    """Bring the derived and failure tables of ``snap`` up to date and commit it: with
    ``new_events`` (the event parts this ingest added, none removed) only the sessions they
    touch are re-derived when that is possible (``derive.refresh``), else everything is."""
    from tracelab.failures import api as failures
    from tracelab.store import derive

    clock.lap("commit", "deriving llm_calls, tool_calls, sessions")
    failures_were_current = new_events is not None and failures.failures_current(snap, without_events=new_events)
    affected = derive.refresh(wh, snap, batch, new_events) if new_events is not None else None
    if affected is None:
        derive.rebuild(wh, snap, batch)
        summary.derived = "full"
    else:
        summary.derived = f"incremental: {len(affected)} session{'' if len(affected) == 1 else 's'}"
    clock.lap("derive", "clustering failures")
    if failures.failures_current(snap):
        pass  # nothing the failure tables read changed
    elif affected is not None and failures_were_current:
        failures.refresh_in_snapshot(wh, snap, batch, affected)
    else:
        failures.rebuild_in_snapshot(wh, snap, batch)
    clock.lap("failures", "merging small parts")
    for hook in POST_DERIVE_HOOKS:
        hook(wh, snap, batch)
    from tracelab.store.compact import compact

    failures_current = failures.failures_current(snap)
    if compact(wh, snap, batch).changed and failures_current:
        failures.restamp(snap)  # same rows in fewer files
    clock.lap("compact", "committing")
    wh.commit(snap)
    summary.rows = _row_counts(wh, snap)
    clock.lap("commit")


#: Extra callables ``hook(warehouse, snapshot, batch)`` run after the derived and failure tables
#: are rebuilt and before the snapshot is committed.
POST_DERIVE_HOOKS: list[Callable[[Warehouse, Snapshot, str], None]] = []


def _drop_files(wh: Warehouse, snap: Snapshot, paths: set[str], batch: str) -> Snapshot:
    """Rewrite the events parts that hold rows of ``paths`` without those rows."""
    snap.tables["events"] = wh.without_rows("events", snap, "source_file", pa.array(sorted(paths), pa.string()), f"{batch}-d")
    return snap


def _row_counts(wh: Warehouse, snap: Snapshot) -> dict[str, int]:
    import pyarrow.parquet as pq

    out = {}
    for t in S.TABLES:
        out[t] = sum(pq.ParquetFile(f).metadata.num_rows for f in wh.files_of(t, snap))
    return out


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)
