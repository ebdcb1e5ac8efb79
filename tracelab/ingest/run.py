"""One ingest run, stage by stage: plan → parse → stage → commit, then the caller's publish
step (derive, failure clustering, compaction, the snapshot commit), which
:mod:`tracelab.pipeline` supplies; the ingest package itself knows nothing of the tables
derived from ``events``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from tracelab.ingest import unchanged
from tracelab.ingest.commit import CommitInput, commit, row_counts
from tracelab.ingest.parse import run_parsers
from tracelab.ingest.plan import input_roots, make_plan
from tracelab.ingest.stage import STAGING
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
    with wh.lock():
        snap = wh.snapshot()
        # what the next no-op call needs to see unchanged: taken before listing, so anything
        # created while this ingest runs invalidates the cache rather than hiding in it
        req = unchanged.request(paths, agent) if redactor is None else None
        dirs = unchanged.walk_dirs(input_roots(paths, agent)) if req is not None else None
        manifest = {r["path"]: r for r in wh.read_table("files", snap).to_pylist()}
        clock = Clock(summary, progress)
        policy = getattr(redactor, "policy_id", None) if redactor is not None else None
        plan = make_plan(paths, agent, manifest, policy, summary)
        if plan.tasks:
            batch = wh.new_batch_id()
            shutil.rmtree(wh.root / STAGING, ignore_errors=True)  # left by a killed ingest
            clock.lap("list")
            parsed = run_parsers(wh, batch, plan.tasks, jobs, progress, summary, redactor)
            clock.lap("parse", "writing Parquet parts")
            # files the workers found to match no adapter are not inputs (as if detected here)
            summary.files_seen -= len(parsed.not_sessions)
            for path, message in sorted(parsed.not_sessions):
                plan.stats.pop(path, None)
                plan.skipped_paths.append(path)
                if message:
                    summary.skipped.append(message)
            try:
                if parsed.outcomes or plan.removed_paths:
                    new_events = commit(CommitInput(wh, snap, batch, manifest, plan, parsed, policy), summary, clock)
                    publish(PublishRequest(wh, snap, batch, summary, clock, new_events))
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
    summary.seconds = time.perf_counter() - t0
    return summary
