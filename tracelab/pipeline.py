"""``tracelab ingest`` end to end: the ingest stages of :mod:`tracelab.ingest` (plan → parse →
stage → commit) followed by the **publish** step wired here: derive ``llm_calls``,
``tool_calls`` and ``sessions`` from ``events`` (:mod:`tracelab.store.derive`), cluster failures
(:mod:`tracelab.failures`), merge small parts (:mod:`tracelab.store.compact`), index the new
events parts for search (:mod:`tracelab.textindex`) and commit the snapshot atomically.

The ingest package produces ``events``, ``rejects`` and ``files`` and knows nothing of the
tables derived from them; this module is where the two meet.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from tracelab import textindex
from tracelab.failures import api as failures
from tracelab.ingest.commit import row_counts
from tracelab.ingest.hub import resolve_paths
from tracelab.ingest.plan import IngestError
from tracelab.ingest.run import PublishRequest, run
from tracelab.ingest.summary import IngestSummary
from tracelab.store import derive
from tracelab.store.compact import compact
from tracelab.store.compact import plan as compaction_plan

__all__ = ["IngestError", "IngestSummary", "ingest", "publish"]


def _derive_and_compact(req: PublishRequest) -> None:
    wh, snap, batch, summary, clock, new_events = req.wh, req.snap, req.batch, req.summary, req.clock, req.new_events
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
    failures_current = failures.failures_current(snap)
    if compact(wh, snap, batch).changed and failures_current:
        failures.restamp(snap)  # same rows in fewer files


def publish(req: PublishRequest) -> None:
    """Bring the derived and failure tables of ``req.snap`` up to date and commit it: with
    ``req.new_events`` (the event parts this ingest added, none removed) only the sessions they
    touch are re-derived when that is possible (``derive.refresh``), else everything is."""
    wh, snap, summary, clock = req.wh, req.snap, req.summary, req.clock
    clock.lap("commit", "deriving llm_calls, tool_calls, sessions")
    # the search index of the new events parts is built in the background meanwhile (derive and
    # failures leave a core idle part of the time): all but the parts compaction will merge
    before = set(wh.snapshot().tables.get("events", [])) if wh.exists else set()  # the committed snapshot (none on a first ingest)
    new_parts = set(snap.tables.get("events", [])) - before
    merging = {p for (table, _), rels in compaction_plan(wh, snap).items() if table == "events" for p in rels}
    early = textindex.Prebuild(wh, new_parts - merging) if new_parts - merging else None
    try:
        _derive_and_compact(req)
    except BaseException:
        if early is not None:
            early.cancel()
        raise
    clock.lap("compact", "indexing new parts for search")
    textindex.sync(wh, snap, parts=set(snap.tables.get("events", [])) - before, prebuilt=early.finish() if early is not None else None)
    clock.lap("index", "committing")
    wh.commit(snap)
    summary.rows = row_counts(wh, snap)
    clock.lap("commit")


def ingest(
    paths: Iterable[str] = (),
    warehouse: str | os.PathLike = "warehouse",
    *,
    agent: str | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    redactor: Any = None,
    use_cache: bool = True,
    prune: bool = False,
) -> IngestSummary:
    """Ingest session files (files, directories, globs; none: every agent's default locations)
    into ``warehouse`` and publish one new snapshot. Incremental: unchanged files are not
    opened, grown files are read from where the last ingest stopped (rules in
    :mod:`tracelab.ingest.plan`, dedup in :mod:`tracelab.ingest.commit`).

    A call that would change nothing is answered from the stat cache of
    :mod:`tracelab.ingest.unchanged` when it is valid (``use_cache=False`` skips the lookup,
    e.g. when the caller has just made it). Files ingested before and no longer found where
    they were listed keep their rows (``files.status = 'missing'``); ``prune=True`` removes
    them."""
    paths = _local_paths(paths)
    return run(paths, warehouse, publish=publish, agent=agent, jobs=jobs, progress=progress, redactor=redactor, use_cache=use_cache and not prune, prune=prune)


def _local_paths(paths: Iterable[str]) -> list[str]:
    """``hf://datasets/ORG/NAME[@REV]`` inputs become their local mirror folders (tracelab.ingest.hub)."""
    paths = list(paths)
    if not any(str(p).startswith("hf://") for p in paths):
        return paths
    return resolve_paths(paths)
