"""The Python API: add labels, import files, read the table, list labelled failure clusters."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from tracelab import failures as F
from tracelab.feedback import importer
from tracelab.feedback import store as ST
from tracelab.feedback import table as T
from tracelab.feedback.store import AddResult
from tracelab.feedback.table import FeedbackError
from tracelab.store.connection import Store
from tracelab.store.warehouse import Warehouse

if TYPE_CHECKING:
    from polars._typing import PolarsDataType


def default_author() -> str | None:
    """``$TRACELAB_AUTHOR``, else the login name (None when neither is known)."""
    env = os.environ.get("TRACELAB_AUTHOR")
    if env and env.strip():
        return env.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def add(
    warehouse: str | os.PathLike | Warehouse,
    target: str,
    label: str,
    *,
    score: float | None = None,
    note: str | None = None,
    author: str | None = None,
    source: str = "human",
    target_type: str | None = None,
    created_at: Any = None,
    check: bool = True,
    wait: float = ST.LOCK_WAIT_S,
) -> str:
    """Label one target; returns its ``feedback_id`` (the same id if the statement exists).

    ``target`` is ``TYPE:KEY`` or a bare key (see :mod:`tracelab.feedback.targets`); with
    ``check=True`` (default) it must exist in the warehouse and is stored under its canonical
    key. ``author`` defaults to :func:`default_author` for human feedback.
    """
    row, _ = add_row(
        warehouse, target, label, score=score, note=note, author=author, source=source, target_type=target_type, created_at=created_at, check=check, wait=wait
    )
    return row.feedback_id


def add_row(
    warehouse: str | os.PathLike | Warehouse,
    target: str,
    label: str,
    *,
    score: float | None = None,
    note: str | None = None,
    author: str | None = None,
    source: str = "human",
    target_type: str | None = None,
    created_at: Any = None,
    check: bool = True,
    wait: float = ST.LOCK_WAIT_S,
) -> tuple[T.Feedback, bool]:
    """Like :func:`add`, returning the stored row and whether it was new."""
    rec = {
        "target_type": target_type,
        "target_key": target,
        "label": label,
        "score": score,
        "note": note,
        "author": author if author is not None or source != "human" else default_author(),
        "source": source,
        "created_at": created_at,
    }
    rows = ST.build_rows(warehouse, [rec], check=check)
    result = ST.write_rows(warehouse, rows, wait=wait)
    return rows[0], bool(result.added)


def add_many(
    warehouse: str | os.PathLike | Warehouse,
    records: Iterable[Mapping[str, Any]],
    *,
    check: bool = True,
    wait: float = ST.LOCK_WAIT_S,
    where: list[str] | None = None,
) -> AddResult:
    """Validate every record (fields as in :mod:`tracelab.feedback.importer`), then write them
    in one commit. Any invalid record aborts the whole write with a :class:`FeedbackError`."""
    rows = ST.build_rows(warehouse, records, check=check, where=where)
    return ST.write_rows(warehouse, rows, wait=wait)


def import_file(
    warehouse: str | os.PathLike | Warehouse,
    path: str | os.PathLike,
    *,
    format: str | None = None,
    check: bool = True,
    author: str | None = None,
    source: str | None = None,
    wait: float = ST.LOCK_WAIT_S,
) -> AddResult:
    """Import a CSV or JSONL file (format from the suffix unless given). ``author`` /
    ``source`` fill records that leave them empty. Re-importing a file adds nothing."""
    records, where = importer.read_file(path, format)
    for r in records:
        if author is not None and r.get("author") in (None, ""):
            r["author"] = author
        if source is not None and r.get("source") in (None, ""):
            r["source"] = source
    return add_many(warehouse, records, check=check, wait=wait, where=where)


def _frame(table) -> pl.DataFrame:
    return pl.DataFrame(table) if table.num_rows else pl.DataFrame(T.FEEDBACK.empty_table())


def load(
    warehouse: str | os.PathLike | Warehouse | Store,
    *,
    target_type: str | None = None,
    label: str | None = None,
    since: Any = None,
    until: Any = None,
) -> pl.DataFrame:
    """The feedback table as Polars (oldest first), optionally filtered by target type,
    label, and ``created_at`` in [since, until)."""
    if isinstance(warehouse, Store):  # the snapshot the rest of the command reads
        df = _frame(ST.read(warehouse.warehouse, warehouse.snapshot))
    else:
        df = _frame(ST.read(ST._warehouse(warehouse)))
    if target_type:
        df = df.filter(pl.col("target_type") == target_type)
    if label:
        df = df.filter(pl.col("label") == label)
    if since is not None:
        df = df.filter(pl.col("created_at") >= T.parse_time(since))
    if until is not None:
        df = df.filter(pl.col("created_at") < T.parse_time(until))
    return df.sort("created_at", "feedback_id")


_LABELLED_SCHEMA: dict[str, PolarsDataType] = {
    "cluster_id": pl.String,
    "family": pl.String,
    "name": pl.String,
    "n_events": pl.Int64,
    "n_sessions": pl.Int64,
    "n_labels": pl.UInt32,
    "n_cluster_labels": pl.UInt32,
    "n_member_labels": pl.UInt32,
    "labels": pl.List(pl.String),
    "mean_score": pl.Float64,
    "latest_label": pl.String,
    "latest_note": pl.String,
    "latest_author": pl.String,
    "latest_source": pl.String,
    "latest_at": pl.Datetime("ms", "UTC"),
}


def labelled_clusters(
    warehouse: str | os.PathLike | Warehouse,
    *,
    failures=None,
    since: Any = None,
    until: Any = None,
) -> pl.DataFrame:
    """Failure clusters that carry feedback, for reports: one row per cluster.

    A cluster's labels are those given to the cluster itself plus those given to its member
    events and tool calls (``n_cluster_labels`` / ``n_member_labels``). ``since`` / ``until``
    keep labels created in [since, until). ``failures`` may be a loaded
    :class:`tracelab.failures.Failures` to avoid loading the clustering again.
    Ordered by the cluster's event count (largest first), then id.
    """
    fb = load(warehouse, since=since, until=until).filter(pl.col("target_type").is_in(["cluster", "event", "tool_call"]))
    if fb.height == 0:
        return pl.DataFrame(schema=_LABELLED_SCHEMA)
    f = failures if failures is not None else F.load(warehouse)
    direct = fb.filter(pl.col("target_type") == "cluster").with_columns(pl.col("target_key").alias("cluster_id"), pl.lit(True).alias("_direct"))
    mem = f.members.select("cluster_id", "event_key", "tool_call_key")
    by_event = fb.filter(pl.col("target_type") == "event").join(
        mem.select("cluster_id", "event_key").unique(), left_on="target_key", right_on="event_key", how="inner"
    )
    by_call = fb.filter(pl.col("target_type") == "tool_call").join(
        mem.select("cluster_id", "tool_call_key").drop_nulls().unique(), left_on="target_key", right_on="tool_call_key", how="inner"
    )
    members = pl.concat([by_event, by_call], how="vertical_relaxed").with_columns(pl.lit(False).alias("_direct"))
    allfb = pl.concat([direct.select(members.columns), members], how="vertical_relaxed")
    if allfb.height == 0:
        return pl.DataFrame(schema=_LABELLED_SCHEMA)
    latest = (
        allfb.sort("created_at", "feedback_id")
        .group_by("cluster_id")
        .agg(
            pl.len().alias("n_labels"),
            pl.col("_direct").sum().cast(pl.UInt32).alias("n_cluster_labels"),
            (~pl.col("_direct")).sum().cast(pl.UInt32).alias("n_member_labels"),
            pl.col("label").unique().sort().alias("labels"),
            pl.col("score").mean().alias("mean_score"),
            pl.col("label").last().alias("latest_label"),
            pl.col("note").last().alias("latest_note"),
            pl.col("author").last().alias("latest_author"),
            pl.col("source").last().alias("latest_source"),
            pl.col("created_at").last().alias("latest_at"),
        )
    )
    info = (
        f.clusters.select("cluster_id", "family", "name", "n_events", "n_sessions")
        if f.clusters.height
        else pl.DataFrame(schema={k: _LABELLED_SCHEMA[k] for k in ("cluster_id", "family", "name", "n_events", "n_sessions")})
    )
    out = latest.join(info, on="cluster_id", how="left")
    return out.select([pl.col(c).cast(t) for c, t in _LABELLED_SCHEMA.items()]).sort(["n_events", "cluster_id"], descending=[True, False], nulls_last=True)


def for_targets(fb: pl.DataFrame, targets: Iterable[tuple[str, str | None]]) -> pl.DataFrame:
    """Rows of ``fb`` whose (target_type, target_key) is one of ``targets`` (newest last)."""
    pairs = [(t, k) for t, k in targets if k]
    if not pairs or fb.height == 0:
        return fb.clear()
    want = pl.DataFrame(
        {"target_type": [t for t, _ in pairs], "target_key": [k for _, k in pairs]}, schema={"target_type": pl.String, "target_key": pl.String}
    ).unique()
    return fb.join(want, on=["target_type", "target_key"], how="semi").sort("created_at", "feedback_id")


__all__ = [
    "AddResult",
    "FeedbackError",
    "add",
    "add_many",
    "add_row",
    "default_author",
    "for_targets",
    "import_file",
    "labelled_clusters",
    "load",
]
