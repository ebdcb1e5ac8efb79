"""Feedback in the warehouse: one Parquet part listed in the snapshot as table ``feedback``.

Every write takes the warehouse lock (waiting for a running ingest, up to ``wait`` seconds),
reads the snapshot's current feedback part, appends the rows whose ``feedback_id`` is new,
writes the union as a fresh part and commits the snapshot — the same publish protocol the ingest
uses, so readers never see a half-written table and a crash leaves the previous state.

Ingest never writes this table: it loads the snapshot, replaces the files of the tables it
derives and commits, so every other table the snapshot lists — ``feedback`` included — is
carried to the next snapshot untouched, and its files are kept by the garbage collector. That
is what makes labels survive re-ingest. Keys stay valid too: session keys, event keys (native
uuid, or file hash + line), tool call keys and failure cluster ids are all stable across
re-ingests of the same files.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracelab.errors import WarehouseMissing
from tracelab.feedback import table as T
from tracelab.feedback.table import Feedback, FeedbackError
from tracelab.feedback.targets import Resolver, parse
from tracelab.store.warehouse import Snapshot, Warehouse, WarehouseBusy

#: Seconds a write waits for the warehouse lock (an ingest in progress) before giving up.
LOCK_WAIT_S = 60.0


@dataclass
class AddResult:
    """What a write did: ids of every input row (in order), and how many were new."""

    feedback_ids: list[str] = field(default_factory=list)
    added: int = 0
    existing: int = 0


def _warehouse(warehouse: str | os.PathLike | Warehouse) -> Warehouse:
    wh = warehouse if isinstance(warehouse, Warehouse) else Warehouse(warehouse)
    if not wh.exists:
        raise WarehouseMissing(f"no tracelab warehouse at {wh.root} (run `tracelab ingest --warehouse {wh.root}` first)", path=str(wh.root))
    return wh


@contextmanager
def locked(wh: Warehouse, wait: float = LOCK_WAIT_S) -> Iterator[None]:
    """``wh.lock()``, retried while another writer holds it (up to ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while True:
        cm = wh.lock()
        try:
            cm.__enter__()
        except WarehouseBusy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
            continue
        break
    try:
        yield
    except BaseException:
        if not cm.__exit__(*sys.exc_info()):
            raise
    else:
        cm.__exit__(None, None, None)


def read(wh: Warehouse, snap: Snapshot | None = None) -> pa.Table:
    """The feedback table of ``snap`` (default: the committed snapshot) as pyarrow."""
    snap = snap or wh.snapshot()
    files = wh.files_of(T.TABLE, snap)
    if not files:
        return T.FEEDBACK.empty_table()
    return pa.concat_tables([T.cast(pq.read_table(f)) for f in files])


def write_rows(warehouse: str | os.PathLike | Warehouse, rows: Iterable[Feedback], *, wait: float = LOCK_WAIT_S) -> AddResult:
    """Append already-validated rows (no target checks); duplicates by id are skipped."""
    wh = _warehouse(warehouse)
    rows = list(rows)
    result = AddResult(feedback_ids=[r.feedback_id for r in rows])
    with locked(wh, wait):
        snap = wh.snapshot()
        old = read(wh, snap)
        seen = set(old.column("feedback_id").to_pylist())
        new: list[Feedback] = []
        for r in rows:
            if r.feedback_id in seen:
                result.existing += 1
                continue
            seen.add(r.feedback_id)
            new.append(r)
        result.added = len(new)
        if new:
            merged = pa.concat_tables([old, T.to_arrow(new)])
            merged = merged.take(pc.sort_indices(merged, sort_keys=[("created_at", "ascending"), ("feedback_id", "ascending")]))
            snap.tables[T.TABLE] = [wh.write_part(T.TABLE, merged, wh.new_batch_id())]
            wh.commit(snap)
    return result


def build_rows(
    warehouse: str | os.PathLike | Warehouse, records: Iterable[Mapping[str, Any]], *, check: bool = True, failures=None, where: list[str] | None = None
) -> list[Feedback]:
    """Validate records and resolve their targets; raises one :class:`FeedbackError` listing
    every bad record (``where[i]`` names record ``i`` in messages, e.g. ``line 7``)."""
    wh = _warehouse(warehouse)
    records = list(records)
    errors: list[str] = []
    parsed: list[tuple[str | None, str] | None] = []
    for i, rec in enumerate(records):
        try:
            tt = rec.get("target_type")
            key = rec.get("target_key")
            if key in (None, "") and rec.get("target") not in (None, ""):
                key = rec.get("target")
            if key is None or (isinstance(key, str) and not key.strip()):
                raise FeedbackError("target_key (or target): required")
            parsed.append(parse(str(key), str(tt) if tt not in (None, "") else None))
        except FeedbackError as exc:
            errors.append(f"{where[i] if where else f'record {i + 1}'}: {exc}")
            parsed.append(None)
    resolver = Resolver(wh, failures=failures)
    todo = [(i, p) for i, p in enumerate(parsed) if p is not None]
    targets = resolver.resolve([p for _, p in todo], check=check)
    out: list[Feedback] = []
    for (i, _), tgt in zip(todo, targets):
        if isinstance(tgt, FeedbackError):
            errors.append(f"{where[i] if where else f'record {i + 1}'}: {tgt}")
            continue
        rec = records[i]
        try:
            out.append(
                T.make(
                    tgt.type,
                    tgt.key,
                    rec.get("label"),
                    score=rec.get("score"),
                    note=rec.get("note"),
                    author=rec.get("author"),
                    source=rec.get("source") if rec.get("source") not in (None, "") else "human",
                    created_at=rec.get("created_at"),
                    feedback_id_=rec.get("feedback_id"),
                )
            )
        except FeedbackError as exc:
            errors.append(f"{where[i] if where else f'record {i + 1}'}: {exc}")
    if errors:
        more = f"\n… and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise FeedbackError(f"{len(errors)} invalid feedback record(s), nothing written:\n" + "\n".join(errors[:20]) + more)
    return out
