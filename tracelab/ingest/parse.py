"""Stage 2 of an ingest, **parse**: run the adapters over the planned files in worker processes
(or in this process when parallelism would not pay). Each worker parses a batch of files,
merges their :class:`~tracelab.ingest.base.EventBuffer` rows into one table and stages it
(:mod:`tracelab.ingest.stage`); the main process gets back only metadata
(:class:`ParseOutput`)."""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import forkserver
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from tracelab.ingest import registry
from tracelab.ingest.base import FILL_TS, EventBuffer, ParseResult, RejectBuffer, open_input
from tracelab.ingest.listing import SKIPPED, UNRECOGNISED, Skip, unmatched_detail
from tracelab.ingest.plan import FileTask, fingerprint
from tracelab.ingest.rejects import month_of, spill_to, write_parts
from tracelab.ingest.stage import STAGING, stage_events, stage_keys
from tracelab.ingest.summary import IngestSummary
from tracelab.store.warehouse import Warehouse

__all__ = ["PARALLEL_MIN_BYTES", "FileOutcome", "ParseOutput", "Workers", "run_parsers"]

#: below this much input, parsing in worker processes costs more than it saves
PARALLEL_MIN_BYTES = 24 << 20

Progress = Callable[[int, int, str], None]


@dataclass
class FileOutcome:
    """Everything the main process needs about one parsed file (its rows are already staged)."""

    task: FileTask
    result: ParseResult  # with its rows, ``line_keys`` (staged) and ``state`` (in ``parser_state``) emptied
    lines_with_rows: int
    session_keys: list[str]
    fingerprint: str
    #: the manifest's ``parser_state`` (JSON): the adapter's state plus the engine's
    #: ``__end_line`` and ``__pending`` (truncated last lines, read again on the next append)
    parser_state: str
    #: the staged batch file holding its rows (None when it has none)
    stage: str | None = None


@dataclass
class BatchJob:
    """One worker's batch: the files and where to stage their rows."""

    tasks: list[FileTask]
    root: str
    name: str
    redactor: Any = None


@dataclass
class BatchOutcome:
    files: list[FileOutcome]
    parts: list[str]
    errors: list[str]
    nbytes: int
    #: the staged Parquet file of its files' line keys (see :func:`stage_keys`), None if no lines
    keys: str | None = None
    #: files whose content matched no adapter, or that could not be read
    skipped: list[Skip] = field(default_factory=list)
    #: the ``rejects`` parts written for its files
    rejects: list[str] = field(default_factory=list)


@dataclass
class ParseOutput:
    """What the parse stage hands to the commit stage."""

    outcomes: list[FileOutcome]
    #: staged event batches (relative to the warehouse root)
    staged: list[str]
    #: staged line-key files
    key_parts: list[str]
    #: the worker processes, kept for the final write of the commit stage
    workers: Workers
    #: files the workers found to match no adapter or could not read
    not_sessions: list[Skip]
    #: the ``rejects`` parts the workers wrote (not yet in a snapshot)
    reject_parts: list[str] = field(default_factory=list)


def _parse_batch(job: BatchJob) -> BatchOutcome:
    """Worker: parse a batch of files, stage their rows and line keys, write their rejects,
    return metadata. Rejects spill to ``.staging/`` batch by batch while a file is parsed."""
    with spill_to(os.path.join(job.root, STAGING)), _no_cycle_collection():
        return _parse_batch_spilling(job)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while a batch is parsed: the adapters make millions
    of dicts and lists, none in a reference cycle (a parse of 776 files of the 1 GB corpus left
    no cyclic garbage), yet each collection walks the rows the batch holds; it runs again after
    the batch (reference counting frees everything else as before)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _parse_batch_spilling(job: BatchJob) -> BatchOutcome:
    wh = Warehouse(job.root)
    merged = EventBuffer()
    outs: list[FileOutcome] = []
    errors: list[str] = []
    nbytes = 0
    skipped: list[Skip] = []
    keys_of: dict[str, pa.Table] = {}  # path -> its line keys
    fill_of: dict[str, int] = {}  # path -> the partitioning timestamp its last rows carry
    for task in job.tasks:
        nbytes += task.size - task.start_offset
        try:
            if task.agent is None:
                det = registry.detect(task.path)
                if det is None:
                    skipped.append(Skip(task.path, UNRECOGNISED, "unrecognised format", unmatched_detail(task.path) if task.size > 0 else ""))
                    continue
                task.agent = det.name
            ad = registry.get(task.agent)
            if task.mode == "append" and _open_line(task.state):
                # the last line ingested was complete JSON without its newline: what follows
                # changes that line (its size, or its content): parse the file again, all of it
                _to_reparse(task)
            res = ad.parse(task.path, task.start_offset, task.start_line, task.state)
            if task.mode == "append" and (res.state.get("needs_full_reparse") or (_undated(task.state) and res.buffer.last_ts is not None)):
                # the appended lines change the meaning of rows already written (a response
                # they close, the first timestamp that dates rows dated by the file's mtime
                # so far): parse it all
                _to_reparse(task)
                res = ad.parse(task.path, 0, 0, None)
            if task.mode == "append":
                # dedup order is by the first timestamp of the whole file, not of its tail
                res.first_ts = _earliest((task.state or {}).get(FIRST_TS), res.first_ts)
            res.rejects = _buffered(res.rejects)
            buf = res.buffer
            fill_ts = buf.last_ts if buf.n else (task.state or {}).get(FILL_TS)
            line_nos, sks = buf.line_nos_and_sessions()  # flushed rows included
            merged.extend(buf)
            res.buffer = EventBuffer()
            fp = fingerprint(task.path, res.bytes_ingested)
        except FileNotFoundError as exc:
            skipped.append(Skip(task.path, SKIPPED, "vanished", f"deleted before it could be read ({exc.strerror})"))
            continue
        except (OSError, EOFError) as exc:  # unreadable, or a truncated gzip stream
            skipped.append(Skip(task.path, SKIPPED, "unreadable", f"cannot be read: {exc}"))
            continue
        except Exception as exc:  # an adapter bug must not lose the other files
            errors.append(f"{task.path}: {type(exc).__name__}: {exc}")
            continue
        keys_of[task.path] = _key_table(res.line_keys, line_nos)
        res.line_keys = {}
        # a half-written last line is rejected but not consumed (its line number is past the
        # end, whatever the reason: a non-object value is complete JSON): read again, its
        # reject replaced, by the next append
        pending = int(bool(res.rejects) and (res.rejects.last_line_no or 0) > res.end_line_no)
        state = {**res.state, "__end_line": res.end_line_no, "__pending": pending}
        if fill_ts is not None:
            state[FILL_TS] = fill_ts
            fill_of[task.path] = fill_ts
        elif len(line_nos) or _undated(task.state):
            state[UNDATED] = True
        if res.first_ts is not None:
            state[FIRST_TS] = res.first_ts
        if _ends_open(task.path, res.bytes_ingested):
            state[OPEN_LINE] = True
        res.state = {}  # as JSON text: one object in the main process instead of hundreds
        outs.append(FileOutcome(task, res, len(line_nos), sks, fp, orjson.dumps(state).decode()))
    parts: list[str] = []
    name = f"{job.name}"
    redact_events = job.redactor.redact_events if job.redactor is not None else None
    if merged.n:
        # streamed: rows flushed while a file was parsed are read back batch by batch
        try:
            parts = [stage_events(wh, _redacted(merged.tables(), redact_events), name)]
        except (OverflowError, TypeError, ValueError, pa.ArrowException):
            # a value of some file does not fit its column (an exit code beyond int32, say):
            # convert file by file so only that file fails
            merged.close()
            del merged
            tables: list[pa.Table] = []
            for o in list(outs):
                try:
                    tables.append(_file_table(o.task))
                except Exception as exc:
                    errors.append(f"{o.task.path}: {type(exc).__name__}: {exc}")
                    outs.remove(o)
            if tables:
                parts = [stage_events(wh, _redacted(iter(tables), redact_events), name)]
        else:
            merged.close()
        for o in outs:
            o.stage = parts[0] if parts else None
    keys = stage_keys(wh, [(o.task.path, keys_of[o.task.path]) for o in outs], name)
    # the rejects of the files kept, as parts in the month of each file's first timestamp;
    # only their counts go back to the main process
    redact = job.redactor.redact_text if job.redactor is not None else None
    rejects = write_parts(
        wh.root,
        [(o.task.path, month_of(o.result.first_ts if o.result.first_ts is not None else fill_of.get(o.task.path)), o.result.rejects) for o in outs],
        name,
        redact,
    )
    for o in outs:
        o.result.rejects.detach()
    return BatchOutcome(outs, parts, errors, nbytes, keys=keys, skipped=skipped, rejects=rejects)


def _redacted(tables: Iterator[pa.Table], redact: Callable[[pa.Table], pa.Table] | None) -> Iterator[pa.Table]:
    return tables if redact is None else (redact(t) for t in tables)


def _buffered(rejects: Any) -> RejectBuffer:
    """An adapter's rejects as a :class:`RejectBuffer` (an adapter may return a plain list)."""
    if isinstance(rejects, RejectBuffer):
        return rejects
    buf = RejectBuffer()
    for rj in rejects:
        buf.append(rj)
    return buf


#: parser-state key: the file's rows so far have no timestamp (dated by the file's mtime)
UNDATED = "__undated"


#: parser-state key: the first timestamp of the whole file (its place in dedup order)
FIRST_TS = "__first_ts"
#: parser-state key: the last line ingested is complete JSON without its newline (yet)
OPEN_LINE = "__open_line"


def _undated(state: dict | None) -> bool:
    return bool(state and state.get(UNDATED))


def _open_line(state: dict | None) -> bool:
    return bool(state and state.get(OPEN_LINE))


def _to_reparse(task: FileTask) -> None:
    """Turn an append into a parse of the whole file (its stored rows are removed)."""
    task.mode, task.start_offset, task.start_line, task.state = "reparse", 0, 0, None


def _earliest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _ends_open(path: str, nbytes: int) -> bool:
    """Do the first ``nbytes`` bytes of ``path`` end inside a line (no newline last)?"""
    if nbytes <= 0:
        return False
    with open_input(path) as fh:
        fh.seek(nbytes - 1)
        return fh.read(1) != b"\n"


def _key_table(line_keys: dict[int, str], with_rows: pa.Array) -> pa.Table:
    """A file's line keys as Arrow columns: line_no (int64), line_key (string), has_rows (bool);
    ``with_rows``: the line numbers that have rows."""
    nums = np.fromiter(line_keys, np.int64, len(line_keys))
    nums.sort()
    # a binary search per key (an ``is_in`` kernel builds a hash table per call, which costs
    # more than sorting and searching for the few keys of most files)
    rows = np.sort(with_rows.to_numpy(zero_copy_only=False).astype(np.int64, copy=False))
    at = np.searchsorted(rows, nums)
    has = np.zeros(len(nums), bool)
    inside = at < len(rows)
    has[inside] = rows[at[inside]] == nums[inside]
    return pa.table(
        {
            "line_no": pa.array(nums, pa.int64()),
            "line_key": pa.array([line_keys[n] for n in nums.tolist()], pa.string()),
            "has_rows": pa.array(has, pa.bool_()),
        }
    )


def _file_table(task: FileTask) -> pa.Table:
    """One file's rows as a table, parsed again (the slow path after a batch failed to convert)."""
    assert task.agent is not None
    buf = registry.get(task.agent).parse(task.path, task.start_offset, task.start_line, task.state).buffer
    try:
        return buf.to_table()
    finally:
        buf.close()


def batches(tasks: list[FileTask], jobs: int, target_bytes: int = 24 << 20, max_files: int = 400) -> list[list[FileTask]]:
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


class Workers:
    """The parser processes, kept for both phases (parse and stage; then write the final parts),
    or the calling process itself when parallelism would not pay."""

    def __init__(self, jobs: int, parallel: bool):
        self.pool: ProcessPoolExecutor | None = None
        self.jobs = jobs if parallel else 1
        if parallel:
            # forkserver, not fork: the caller may hold threads (DuckDB, notebooks, test runners)
            # and a forked child of a threaded process can deadlock
            methods = mp.get_all_start_methods()
            ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
            if "forkserver" in methods:
                # pandas: pyarrow imports it on the first Parquet write when it is installed
                ctx.set_forkserver_preload(["tracelab.ingest.parse", "tracelab.ingest.claude", "pyarrow.parquet", "pandas"])
            self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)

    def map(self, fn: Callable[[Any], Any], args: list) -> Iterable:
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
        stop = getattr(forkserver._forkserver, "_stop", None)
        if stop is not None:
            stop()
    except Exception:  # pragma: no cover - best effort, never fails an ingest
        pass


def _main_importable() -> bool:
    """forkserver/spawn workers re-import ``__main__`` from its file; a program read from stdin
    or ``-c`` has none on disk, so it parses in-process instead."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is None or os.path.exists(main_file)


def run_parsers(
    wh: Warehouse, batch_id: str, tasks: list[FileTask], jobs: int | None, progress: Progress | None, summary: IngestSummary, redactor: Any
) -> ParseOutput:
    """Parse ``tasks`` in worker processes; errors and counts go to ``summary``."""
    jobs = jobs or min(os.cpu_count() or 1, 8)
    for ad in registry.adapters().values():
        if ad.begin is not None:
            ad.begin()  # forget what an earlier ingest in this process looked up
    total_bytes = sum(t.size - t.start_offset for t in tasks)
    groups = batches(tasks, jobs)
    args = [BatchJob(b, str(wh.root), f"{batch_id}-w{i:05d}", redactor) for i, b in enumerate(groups)]
    parallel = not (jobs <= 1 or len(groups) == 1 or total_bytes < PARALLEL_MIN_BYTES or not _main_importable())
    workers = Workers(jobs, parallel)
    out = ParseOutput([], [], [], workers, [])
    done = 0
    try:
        for bo in workers.map(_parse_batch, args):
            done += bo.nbytes
            if progress:
                progress(done, total_bytes, "")
            out.outcomes.extend(bo.files)
            out.staged.extend(bo.parts)
            if bo.keys:
                out.key_parts.append(bo.keys)
            summary.errors.extend(bo.errors)
            summary.files_failed += len(bo.errors)
            out.not_sessions.extend(bo.skipped)
            out.reject_parts.extend(bo.rejects)
    except BaseException:
        workers.close()
        raise
    summary.files_parsed = len(out.outcomes)
    size_of = {t.path: t.size - t.start_offset for t in tasks}
    summary.bytes_parsed = total_bytes - sum(size_of.get(k.path, 0) for k in out.not_sessions)
    return out
