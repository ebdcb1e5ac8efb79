"""One ingest run, stage by stage: plan → parse → stage → commit, then the caller's publish
step (derive, failure clustering, compaction, the snapshot commit), which
:mod:`tracelab.pipeline` supplies; the ingest package itself knows nothing of the tables
derived from ``events``.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
import orjson

from tracelab.errors import Aborted, WarehouseCorrupt
from tracelab.ingest import unchanged
from tracelab.ingest.commit import CommitInput, commit, row_counts, stored_owners
from tracelab.ingest.parse import FIRST_TS, ParseOutput, Workers, run_parsers
from tracelab.ingest.plan import FileTask, Plan, input_roots, make_plan
from tracelab.ingest.stage import STAGING, unstage_files
from tracelab.ingest.summary import Clock, IngestSummary
from tracelab.store import derive
from tracelab.store.warehouse import Snapshot, Warehouse

__all__ = ["Publish", "PublishRequest", "run"]


@dataclass
class PublishRequest:
    """What the publish step gets: the snapshot to bring up to date and commit."""

    wh: Warehouse
    snap: Snapshot
    batch: str
    summary: IngestSummary
    clock: Clock
    #: the ``events`` parts this ingest added when none were removed (the derived tables may be
    #: refreshed for the sessions they touch); None: derive everything again
    new_events: list[str] | None = None


class Publish(Protocol):
    def __call__(self, req: PublishRequest) -> None: ...


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a service manager, ``kill``) interrupts the ingest like Ctrl-C, so it ends as
    :class:`~tracelab.errors.Aborted` with the previous snapshot intact. Only the main thread
    can install a handler; elsewhere the default stays."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _derived_stale(snap: Snapshot) -> bool:
    return snap.extra.get("derive", {}).get("stamp") != derive.stamp()


def run(
    paths: Iterable[str],
    warehouse: str | os.PathLike,
    *,
    publish: Publish,
    agent: str | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    redactor: Any = None,
    use_cache: bool = True,
    prune: bool = False,
) -> IngestSummary:
    """Ingest session files into ``warehouse`` (see :func:`tracelab.pipeline.ingest`).

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
    try:
        with _terminate_as_interrupt(), wh.lock(), _discard_on_failure(wh):
            snap = wh.snapshot()
            # what the next no-op call needs to see unchanged: taken before listing, so anything
            # created while this ingest runs invalidates the cache rather than hiding in it
            req = unchanged.request(paths, agent) if redactor is None else None
            dirs = unchanged.walk_dirs(input_roots(paths, agent)) if req is not None else None
            manifest = {r["path"]: r for r in wh.read_table("files", snap).to_pylist()}
            clock = Clock(summary, progress)
            policy = getattr(redactor, "policy_id", None) if redactor is not None else None
            plan = make_plan(paths, agent, manifest, policy, summary, prune=prune)
            if plan.tasks or plan.removed_paths or plan.manifest_changes(manifest):
                batch = wh.new_batch_id()
                shutil.rmtree(wh.root / STAGING, ignore_errors=True)  # left by a killed ingest
                clock.lap("list")
                if plan.tasks:
                    parsed = run_parsers(wh, batch, plan.tasks, jobs, progress, summary, redactor)
                else:
                    parsed = ParseOutput([], [], [], Workers(1, False), [])
                _reparse_owners(wh, snap, batch, plan, manifest, parsed, summary, redactor)
                clock.lap("parse", "writing Parquet parts")
                # files the workers found to match no adapter, or could not read, are not inputs
                summary.files_seen -= len(parsed.not_sessions)
                for skip in sorted(parsed.not_sessions, key=lambda k: k.path):
                    plan.stats.pop(skip.path, None)
                    plan.add_skip(skip, summary)
                try:
                    if parsed.outcomes or plan.removed_paths:
                        result = commit(CommitInput(wh, snap, batch, manifest, plan, parsed, policy), summary, clock)
                        publish(PublishRequest(wh, snap, batch, summary, clock, result.new_events))
                    elif plan.manifest_changes(manifest):
                        commit(CommitInput(wh, snap, batch, manifest, plan, parsed, policy), summary, clock)
                        wh.commit(snap)
                finally:
                    parsed.workers.close()
                    shutil.rmtree(wh.root / STAGING, ignore_errors=True)
            elif snap.tables.get("events") and _derived_stale(snap):
                # the same data, but tracelab's derived tables changed shape or meaning: rebuild them
                clock.lap("list")
                publish(PublishRequest(wh, snap, wh.new_batch_id(), summary, clock))
                summary.rederived = True
            elif not wh.exists:
                # nothing to read into a new warehouse: publish it empty, so that queries answer
                # (with no rows) instead of reporting a missing warehouse
                wh.commit(snap)
            if not summary.rows:
                summary.rows = row_counts(wh, snap)
            unchanged.record(wh.root, req, dirs, plan.stats, plan.skipped_paths, summary, snap.version)
    except (KeyboardInterrupt, duckdb.InterruptException):
        # Ctrl-C or SIGTERM in any phase: the snapshot was not replaced, so the warehouse
        # still reads as before this ingest; its staged rows go
        shutil.rmtree(wh.root / STAGING, ignore_errors=True)
        raise Aborted("Aborted; the warehouse keeps its previous snapshot", warehouse=str(wh.root)) from None
    summary.seconds = time.perf_counter() - t0
    return summary


@contextmanager
def _discard_on_failure(wh: Warehouse) -> Iterator[None]:
    """A run that fails or is interrupted removes its staging folder and the parts it wrote (no
    snapshot references them), with the lock still held: it leaves the warehouse as it found it."""
    # without a snapshot (a new warehouse) what was there before is kept: only this run's parts go
    before = None if wh.exists else set(wh.root.glob("*/**/*.parquet"))
    try:
        yield
    except BaseException:
        try:
            shutil.rmtree(wh.root / STAGING, ignore_errors=True)
            if before is None:
                wh.gc(wh.snapshot())
            else:
                for p in set(wh.root.glob("*/**/*.parquet")) - before:
                    p.unlink()
        except (WarehouseCorrupt, OSError):
            pass  # the next commit (or tracelab doctor) removes them
        raise


#: dedup rank of a file without any timestamp (after every dated file), as in the commit stage
_UNDATED_RANK = 1 << 62


def _rank(first_ts: int | None, path: str) -> tuple[int, str]:
    """A file's place in dedup order: first timestamp, then path (see :func:`commit`)."""
    return (first_ts if first_ts is not None else _UNDATED_RANK, path)


def _stored_first_ts(row: dict, fallback: int | None) -> int | None:
    """The first timestamp of a stored file: recorded in its parser state, else (manifests
    written before it was) the earliest of its stored rows."""
    text = row.get("parser_state") or ""
    if FIRST_TS in text:
        return orjson.loads(text).get(FIRST_TS, fallback)
    return fallback


def _reparse_owners(
    wh: Warehouse, snap: Snapshot, batch: str, plan: Plan, manifest: dict[str, dict], parsed: ParseOutput, summary: IngestSummary, redactor: Any
) -> None:
    """Parse again, in this ingest, the stored files whose lines a file parsed now repeats
    and that come later in dedup order (see :func:`stored_owners`): a fork, resumed session
    or copy ingested before its original must not keep the original's lines. A file being
    appended to is such an owner too: its append is dropped and it is parsed whole. Repeated
    until no stored owner is left (the re-parsed owners' lines may repeat further files)."""
    key_parts = list(parsed.key_parts)
    rounds = 0
    while key_parts:
        rounds += 1
        by_path = {o.task.path: o for o in parsed.outcomes}
        whole = {p for p, o in by_path.items() if o.task.mode != "append"} | plan.removed_paths
        owners: set[str] = set()
        for stored, path, stored_first in stored_owners(wh, snap, key_parts, whole):
            row = manifest.get(stored)
            if stored not in plan.stats or row is None or not row.get("agent") or path not in by_path:
                continue
            own = by_path[stored].result.first_ts if stored in by_path else _stored_first_ts(row, stored_first)
            if _rank(own, stored) > _rank(by_path[path].result.first_ts, path):
                owners.add(stored)
        if not owners:
            return
        appended = {p for p in owners if p in by_path}
        if appended:
            unstage_files(wh, parsed.staged, parsed.key_parts, parsed.reject_parts, appended)
            parsed.outcomes = [o for o in parsed.outcomes if o.task.path not in appended]
            plan.tasks = [t for t in plan.tasks if t.path not in appended]
            summary.files_appended -= len(appended)
        tasks = [FileTask(p, manifest[p]["agent"], "full", 0, 0, None, *plan.stats[p]) for p in sorted(owners)]
        plan.removed_paths.update(owners)
        plan.tasks.extend(tasks)
        summary.files_unchanged -= len(owners - appended)
        bytes_parsed = summary.bytes_parsed
        more = run_parsers(wh, f"{batch}o{rounds}", tasks, 1, None, summary, redactor)
        more.workers.close()
        summary.bytes_parsed += bytes_parsed
        parsed.outcomes.extend(more.outcomes)
        summary.files_parsed = len(parsed.outcomes)
        parsed.staged.extend(more.staged)
        parsed.key_parts.extend(more.key_parts)
        parsed.not_sessions.extend(more.not_sessions)
        parsed.reject_parts.extend(more.reject_parts)
        key_parts = more.key_parts
