"""Build the failure tables into a warehouse snapshot, and query them as Polars frames.

Writing: :func:`rebuild_in_snapshot` (called by ingest inside its commit, after
``derive.rebuild``) and :func:`build` (standalone: lock, rebuild, commit). Both read the
snapshot being committed, recompute everything from its ``events`` / ``tool_calls`` /
``sessions`` files, and replace the ``failure_members`` and ``failure_clusters`` parts.
After an incremental derive, ingest calls :func:`refresh_in_snapshot` instead: members are
recomputed for the re-derived sessions only, and templates and cluster ids are mined again
over all fingerprints, which gives the same tables as a full recompute (ids depend on the set
of fingerprints, never on ingest order or batching).

Reading: :func:`clusters`, :func:`members`, :func:`show`. They use the persisted tables when
the snapshot's ``extra["failures"]`` stamp matches its current event files and rules
version, and otherwise compute in memory (nothing is written).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import polars as pl
import pyarrow as pa

from tracelab.errors import TracelabError, WarehouseMissing
from tracelab.failures import behaviour as B
from tracelab.failures import cluster as C
from tracelab.failures import tables as T
from tracelab.failures.merge import merge_map
from tracelab.failures.normalize import RULES_VERSION
from tracelab.store.connection import Store, register_views, scratch_connection
from tracelab.store.sql import sql_text
from tracelab.store.warehouse import Snapshot, Warehouse

MEMBERS_TABLE = "failure_members"
CLUSTERS_TABLE = "failure_clusters"
#: Default trend window when no --since is given.
TREND_DAYS = 7
#: "growing": at least this many events now, and at least GROWTH × the previous period.
GROWTH = 1.5
MIN_GROWING = 2
#: The trend labels of :func:`clusters`, in the order they are tested (see its docstring).
TRENDS = ("new", "returning", "growing", "shrinking", "gone", "dormant", "steady")


class FailuresError(TracelabError):
    """A failure-clustering request that cannot be answered (bad family, unknown cluster)."""


# ------------------------------------------------------------------------------ compute
#: The tables the failure queries read.
INPUTS = ("events", "tool_calls", "sessions", "llm_calls")


def _register(con: duckdb.DuckDBPyConnection, wh: Warehouse, snap: Snapshot, only: pa.Table | None = None) -> None:
    """Views ``events``, ``tool_calls``, ``sessions``, ``llm_calls`` over ``snap``'s files, and
    ``first_calls`` over them; with ``only`` (a ``session_key`` column), the views hold just
    those sessions' rows (and read only the parts holding any of them)."""
    register_views(con, wh, snap, INPUTS, only=only, temp=True)
    # shared by the loop and retry-storm queries (tracelab/sql/failures_first_calls.sql)
    con.execute(f"CREATE OR REPLACE TEMP VIEW first_calls AS {sql_text('failures_first_calls')}")


def _stamp(snap: Snapshot, without_events: Sequence[str] = ()) -> str:
    h = hashlib.blake2b(digest_size=12)
    h.update(RULES_VERSION.encode())
    skip = set(without_events)
    for t in ("events", "tool_calls", "sessions"):
        h.update(b"\x1e" + t.encode())
        for f in sorted(snap.tables.get(t, [])):
            if f not in skip:
                h.update(b"\x1f" + f.encode())
    return h.hexdigest()


def _members_frame(events: pl.DataFrame, episode_frames: list[pl.DataFrame], sess: pl.DataFrame) -> pl.DataFrame:
    """Event rows and episode rows, in the ``failure_members`` column set (``sess``: session_key
    → session_id, for episodes in sessions without failure events)."""
    ev = events.with_columns(
        pl.concat_str([pl.col("family"), pl.col("event_key")], separator=":").alias("member_key"),
        pl.lit("event").alias("role"),
        pl.lit(None, pl.Int32).alias("run_length"),
        pl.lit(None, pl.String).alias("related_event_key"),
    )
    wanted = [c for c in T.MEMBERS.names if c not in ("week", "excerpt")] + ["key"]
    frames = []
    for f in [ev] + [e for e in episode_frames if e.height]:
        if "session_id" not in f.columns:
            f = f.join(sess, on="session_key", how="left")
        frames.append(f.select([pl.col(c) if c in f.columns else pl.lit(None, pl.String).alias(c) for c in wanted]))
    m = pl.concat(frames, how="diagonal_relaxed")
    ts = pl.col("ts").cast(pl.Datetime("ms", "UTC"))
    m = m.with_columns(
        ts.alias("ts"),
        ts.dt.truncate("1w").dt.date().alias("week"),
        pl.col("key").str.slice(0, C.EXCERPT_CHARS).alias("excerpt"),
    ).drop("key")
    return m.sort("ts", "source_file", "line_no", "member_key", nulls_last=True)


def compute(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(members, clusters) from the ``events``/``tool_calls``/``sessions`` views on ``con``."""
    members = compute_members(con)
    return members, _clusters(members, _n_sessions(con))


def compute_members(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The ``failure_members`` rows of the sessions the views on ``con`` hold."""
    cand = B.candidates(con)
    if cand.height:
        events = C.assign(cand)
    else:
        events = cand.with_columns(*[pl.lit(None, pl.String).alias(c) for c in ("tool_family", "key", "subkind", "fingerprint", "template", "cluster_id")])
    con.register(
        "failure_events",
        events.select(
            "source",
            "event_key",
            "tool_call_key",
            "tool_call_id",
            "session_key",
            "agent",
            "model",
            "tool_name",
            "ts",
            "source_file",
            "line_no",
            "ord",
            "status",
            "text",
            "family",
            "is_warmup",
        ).to_arrow(),
    )
    eps = C.episodes(B.loops(con), B.retry_storms(con), B.context_exhaustion(con), B.abandoned(con))
    sess = pl.DataFrame(con.sql("SELECT session_key, any_value(session_id) AS session_id FROM sessions GROUP BY 1").to_arrow_table())
    members = _members_frame(events, eps, sess)
    if members.height == 0:
        members = pl.DataFrame(T.MEMBERS.empty_table())
    return members


def _n_sessions(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(*) FROM sessions WHERE NOT coalesce(is_warmup, false)").fetchone()
    return int(row[0]) if row else 0


def _clusters(members: pl.DataFrame, n_sessions: int) -> pl.DataFrame:
    return C.summarize(members, n_sessions) if members.height else pl.DataFrame(T.CLUSTERS.empty_table())


def _to_arrow(df: pl.DataFrame, name: str) -> pa.Table:
    if df.height == 0:
        return T.SCHEMAS[name].empty_table()
    return T.cast(df.to_arrow(), name)


def failures_current(snap: Snapshot, without_events: Sequence[str] = ()) -> bool:
    """Do ``snap``'s failure tables describe its current events, tool calls and sessions (its
    events but ``without_events``, when given)?"""
    return bool(snap.tables.get(MEMBERS_TABLE)) and snap.extra.get("failures", {}).get("stamp") == _stamp(snap, without_events)


def restamp(snap: Snapshot) -> None:
    """Mark the failure tables current for ``snap``'s files after a change that moved rows
    between files without changing any (compaction)."""
    snap.extra.setdefault("failures", {})["stamp"] = _stamp(snap)


def rebuild_in_snapshot(wh: Warehouse, snap: Snapshot, batch: str) -> None:
    """Recompute the failure tables from ``snap``'s files and point ``snap`` at new parts.

    Same shape as :func:`tracelab.store.derive.rebuild`: call it with the lock held, after the
    derived tables were rebuilt, before ``wh.commit(snap)``.
    """
    con = scratch_connection()
    try:
        _register(con, wh, snap)
        members, clusters = compute(con)
    finally:
        con.close()
    _publish(wh, snap, batch, members, clusters)


def refresh_in_snapshot(wh: Warehouse, snap: Snapshot, batch: str, sessions: set[str]) -> None:
    """Update failure tables that described ``snap`` before its derived rows of ``sessions``
    were re-derived (``tracelab.store.derive.refresh``): the members of those sessions are
    computed again from their rows, the other sessions' members are kept, and every event
    member's template and cluster id is mined again over all fingerprints, so the tables equal
    :func:`rebuild_in_snapshot`'s (the Drain step depends on the set of fingerprints only)."""
    only = pa.table({"session_key": pa.array(sorted(sessions), pa.string())})
    con = scratch_connection()
    try:
        _register(con, wh, snap, only=only)
        new = compute_members(con)
        _register(con, wh, snap)
        n_sessions = _n_sessions(con)
    finally:
        con.close()
    old = pl.DataFrame(wh.read_table(MEMBERS_TABLE, snap))
    kept = old.filter(~pl.col("session_key").is_in(only.column("session_key").to_pylist()))
    members = pl.concat([kept, new.select(kept.columns).cast(kept.schema)])
    members = C.retemplate(members).sort("ts", "source_file", "line_no", "member_key", nulls_last=True)
    _publish(wh, snap, batch, members, _clusters(members, n_sessions))


def _publish(wh: Warehouse, snap: Snapshot, batch: str, members: pl.DataFrame, clusters: pl.DataFrame) -> None:
    snap.tables[MEMBERS_TABLE] = [wh.write_part(MEMBERS_TABLE, _to_arrow(members, MEMBERS_TABLE), batch)]
    snap.tables[CLUSTERS_TABLE] = [wh.write_part(CLUSTERS_TABLE, _to_arrow(clusters, CLUSTERS_TABLE), batch)]
    snap.extra["failures"] = {"stamp": _stamp(snap), "rules_version": RULES_VERSION, "members": members.height, "clusters": clusters.height}


def build(warehouse: str | os.PathLike) -> dict:
    """Recompute and commit the failure tables of ``warehouse``; returns row counts."""
    wh = Warehouse(warehouse)
    if not wh.exists:
        raise WarehouseMissing(f"no tracelab warehouse at {wh.root}", path=str(wh.root))
    with wh.lock():
        snap = wh.snapshot()
        rebuild_in_snapshot(wh, snap, wh.new_batch_id())
        wh.commit(snap)
    return dict(snap.extra["failures"])


# ------------------------------------------------------------------------------ read
@dataclass
class Failures:
    """Members, clusters and the session table of one warehouse snapshot."""

    members: pl.DataFrame
    clusters: pl.DataFrame
    sessions: pl.DataFrame
    persisted: bool
    warehouse: Warehouse
    snapshot: Snapshot


def load(warehouse: str | os.PathLike | Warehouse | Store) -> Failures:
    """The failure tables of a warehouse: persisted when current, else computed in memory.

    Given a :class:`~tracelab.store.Store`, its snapshot is used (what the rest of the command
    reads); given a path, the committed snapshot is read once."""
    if isinstance(warehouse, Store):
        wh, snap = warehouse.warehouse, warehouse.snapshot
    else:
        wh = warehouse if isinstance(warehouse, Warehouse) else Warehouse(warehouse)
        if not wh.exists:
            raise WarehouseMissing(f"no tracelab warehouse at {wh.root} (run `tracelab ingest --warehouse {wh.root}` first)", path=str(wh.root))
        snap = wh.snapshot()
    stamp = snap.extra.get("failures", {}).get("stamp")
    sess = pl.DataFrame(wh.read_table("sessions", snap, columns=["session_key", "agent", "primary_model", "models", "started_at", "is_warmup", "session_id"]))
    if stamp == _stamp(snap) and snap.tables.get(MEMBERS_TABLE) and snap.tables.get(CLUSTERS_TABLE):
        members = pl.DataFrame(wh.read_table(MEMBERS_TABLE, snap))
        clusters = pl.DataFrame(wh.read_table(CLUSTERS_TABLE, snap))
        return Failures(members, clusters, sess, True, wh, snap)
    con = scratch_connection()
    try:
        _register(con, wh, snap)
        members, clusters = compute(con)
    finally:
        con.close()
    return Failures(members, clusters, sess, False, wh, snap)


def _as_list(v: str | Sequence[str] | None) -> list[str] | None:
    if v is None:
        return None
    if isinstance(v, str):
        return [x for x in (s.strip() for s in v.split(",")) if x]
    out = [x for x in v if x]
    return out or None


def _ts(v: str | _dt.date | _dt.datetime | None) -> _dt.datetime | None:
    if v is None:
        return None
    if isinstance(v, _dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=_dt.UTC)
    if isinstance(v, _dt.date):
        return _dt.datetime(v.year, v.month, v.day, tzinfo=_dt.UTC)
    s = str(v).strip()
    d = _dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=_dt.UTC)


def check_families(family) -> list[str] | None:
    """``family`` as a list (comma lists split), or ``None``; raises :class:`FailuresError`
    naming the valid families when one is unknown."""
    fams = _as_list(family)
    bad = [x for x in fams or [] if x not in B.FAMILIES]
    if bad:
        raise FailuresError(f"unknown failure famil{'y' if len(bad) == 1 else 'ies'} {', '.join(map(repr, bad))}; valid: {', '.join(B.FAMILIES)}")
    return fams


def models_present(f: Failures) -> list[str]:
    """Every model name the warehouse's sessions or failure members mention, sorted."""
    names: set[str] = set()
    if f.sessions.height:
        names.update(x for x in f.sessions.get_column("primary_model").drop_nulls().to_list())
        names.update(x for x in f.sessions.get_column("models").explode().drop_nulls().to_list())
    if f.members.height:
        names.update(x for x in f.members.get_column("model").drop_nulls().to_list())
    return sorted(names)


def _filter(m: pl.DataFrame, agent, model, tool, family) -> pl.DataFrame:
    check_families(family)
    for col, vals in (("agent", agent), ("model", model), ("family", family)):
        vals = _as_list(vals)
        if vals:
            m = m.filter(pl.col(col).is_in(vals))
    tools = _as_list(tool)
    if tools:
        m = m.filter(pl.col("tool_name").is_in(tools) | pl.col("tool_family").is_in(tools))
    return m


def members(
    warehouse: str | os.PathLike | Warehouse | Failures,
    *,
    cluster_id: str | None = None,
    since=None,
    until=None,
    agent=None,
    model=None,
    tool=None,
    family=None,
) -> pl.DataFrame:
    """Failure members (one row per failure event / episode and cluster), filtered."""
    f = warehouse if isinstance(warehouse, Failures) else load(warehouse)
    m = _filter(f.members, agent, model, tool, family)
    if cluster_id:
        m = m.filter(pl.col("cluster_id") == cluster_id)
    s, u = _ts(since), _ts(until)
    if s is not None:
        m = m.filter(pl.col("ts") >= s)
    if u is not None:
        m = m.filter(pl.col("ts") < u)
    return m


def clusters(
    warehouse: str | os.PathLike | Warehouse | Failures,
    *,
    since=None,
    until=None,
    agent=None,
    model=None,
    tool=None,
    family=None,
    merge: bool = False,
    merge_threshold: float | None = None,
) -> pl.DataFrame:
    """Clusters with counts over [since, until) (all time by default) and a trend.

    The trend compares a *current* window with the *previous* window of the same length just
    before it. The current window is [since, until); without ``since`` it is the
    :data:`TREND_DAYS` days before ``until``, or, without ``until`` either, the
    :data:`TREND_DAYS` days up to the latest failure that matches the filters (the data's own
    clock, not today's date, so an archived warehouse still has a trend). ``n_current`` and
    ``n_previous`` count the cluster's events in the two windows; the ``trend`` label
    (:data:`TRENDS`) is, first match wins:

    * ``new`` — events now, none ever before the current window;
    * ``returning`` — events now, none in the previous window, but some earlier;
    * ``growing`` — ≥ :data:`MIN_GROWING` events now and ≥ :data:`GROWTH` × the previous window;
    * ``shrinking`` — events now, and the previous window had ≥ GROWTH × as many;
    * ``gone`` — none now, some in the previous window;
    * ``dormant`` — none in either window (the cluster was last seen earlier; only listed when
      the counted range reaches back further than the two windows, e.g. without ``since``);
    * ``steady`` — otherwise (events in both windows, within a factor of GROWTH).

    Every count, including "ever before", uses the same agent/model/tool/family filters.

    ``merge=True`` collapses near-duplicate templates (:mod:`tracelab.failures.merge`).
    """
    f = warehouse if isinstance(warehouse, Failures) else load(warehouse)
    m_all = _filter(f.members, agent, model, tool, family)
    if merge:
        mapping = merge_map(f.clusters, threshold=merge_threshold)
        if mapping.height:
            m_all = (
                m_all.join(mapping, on="cluster_id", how="left").with_columns(pl.coalesce("merged_into", "cluster_id").alias("cluster_id")).drop("merged_into")
            )
    s, u = _ts(since), _ts(until)
    win = m_all
    if s is not None:
        win = win.filter(pl.col("ts") >= s)
    if u is not None:
        win = win.filter(pl.col("ts") < u)
    if win.height == 0:
        return _empty_clusters()
    latest = m_all.get_column("ts").max()
    if u is not None:
        t_until = u
    elif isinstance(latest, _dt.datetime):
        t_until = latest + _dt.timedelta(milliseconds=1)
    else:
        t_until = _dt.datetime.now(_dt.UTC)
    t_since = s or (t_until - _dt.timedelta(days=TREND_DAYS))
    span = t_until - t_since
    t_prev = t_since - span
    cur = m_all.filter((pl.col("ts") >= t_since) & (pl.col("ts") < t_until)).group_by("cluster_id").agg(pl.len().alias("n_current"))
    prev = m_all.filter((pl.col("ts") >= t_prev) & (pl.col("ts") < t_since)).group_by("cluster_id").agg(pl.len().alias("n_previous"))
    before = m_all.filter(pl.col("ts") < t_since).group_by("cluster_id").agg(pl.len().alias("_n_before"))
    n_sessions = _session_count(f.sessions, agent, model, s, u)
    summary = C.summarize(win, n_sessions)
    meta = f.clusters.select("cluster_id", "name") if f.clusters.height else pl.DataFrame(schema={"cluster_id": pl.String, "name": pl.String})
    out = (
        summary.drop("name")
        .join(meta, on="cluster_id", how="left")
        .with_columns(pl.coalesce("name", pl.col("template").str.slice(0, 160)).alias("name"))
        .join(cur, on="cluster_id", how="left")
        .join(prev, on="cluster_id", how="left")
        .join(before, on="cluster_id", how="left")
        .with_columns(pl.col("n_current").fill_null(0).cast(pl.Int64), pl.col("n_previous").fill_null(0).cast(pl.Int64), pl.col("_n_before").fill_null(0))
    )
    nc, np_, before_ = pl.col("n_current"), pl.col("n_previous"), pl.col("_n_before")
    out = out.with_columns(
        pl.when((nc > 0) & (before_ == 0))
        .then(pl.lit("new"))
        .when((nc > 0) & (np_ == 0))
        .then(pl.lit("returning"))
        .when((nc >= MIN_GROWING) & (nc >= GROWTH * np_))
        .then(pl.lit("growing"))
        .when((nc > 0) & (np_ >= GROWTH * nc))
        .then(pl.lit("shrinking"))
        .when((nc == 0) & (np_ > 0))
        .then(pl.lit("gone"))
        .when((nc == 0) & (np_ == 0))
        .then(pl.lit("dormant"))
        .otherwise(pl.lit("steady"))
        .alias("trend"),
        pl.lit(t_since).alias("trend_since"),
        pl.lit(t_until).alias("trend_until"),
    ).drop("_n_before")
    order = [
        "cluster_id",
        "family",
        "role",
        "tool_family",
        "name",
        "template",
        "n_events",
        "n_sessions",
        "share_sessions",
        "n_current",
        "n_previous",
        "trend",
        "agents",
        "models",
        "tools",
        "first_seen",
        "last_seen",
        "weekly",
        "exemplars",
        "n_fingerprints",
        "trend_since",
        "trend_until",
    ]
    return out.select([c for c in order if c in out.columns]).sort(["n_events", "cluster_id"], descending=[True, False])


def _empty_clusters() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "cluster_id": pl.String,
            "family": pl.String,
            "role": pl.String,
            "tool_family": pl.String,
            "name": pl.String,
            "template": pl.String,
            "n_events": pl.Int64,
            "n_sessions": pl.Int64,
            "share_sessions": pl.Float64,
            "n_current": pl.Int64,
            "n_previous": pl.Int64,
            "trend": pl.String,
        }
    )


def _session_count(sess: pl.DataFrame, agent, model, since, until) -> int:
    s = sess.filter(~pl.col("is_warmup").fill_null(False))
    agents = _as_list(agent)
    if agents:
        s = s.filter(pl.col("agent").is_in(agents))
    models = _as_list(model)
    if models:
        s = s.filter(pl.col("primary_model").is_in(models) | pl.col("models").list.eval(pl.element().is_in(models)).list.any())
    if since is not None:
        s = s.filter(pl.col("started_at") >= since)
    if until is not None:
        s = s.filter(pl.col("started_at") < until)
    return s.height


def show(warehouse: str | os.PathLike | Warehouse | Failures, cluster_id: str, *, exemplars: int = 3, before: int = 3, after: int = 3) -> dict:
    """One cluster with its exemplars, each with the events around it in its session.

    Returns ``{"cluster": dict, "exemplars": [{"member": dict, "context": pl.DataFrame}, …]}``.
    ``cluster_id`` may be a unique prefix.
    """
    f = warehouse if isinstance(warehouse, Failures) else load(warehouse)
    ids = f.clusters.get_column("cluster_id") if f.clusters.height else pl.Series([], dtype=pl.String)
    hits = ids.filter(ids.str.starts_with(cluster_id)).to_list()
    if cluster_id in hits:
        hits = [cluster_id]
    if not hits:
        raise FailuresError(f"no failure cluster {cluster_id!r}")
    if len(hits) > 1:
        raise FailuresError(f"cluster id prefix {cluster_id!r} is ambiguous: {', '.join(sorted(hits)[:5])}")
    cid = hits[0]
    row = f.clusters.filter(pl.col("cluster_id") == cid).to_dicts()[0]
    mem = f.members.filter(pl.col("cluster_id") == cid).sort("ts", "source_file", "line_no", "event_key", nulls_last=True)
    picks = mem.unique(subset=["session_key"], keep="first", maintain_order=True).head(exemplars)
    out = []
    con = scratch_connection()
    try:
        _register(con, f.warehouse, f.snapshot)
        q = sql_text("failures_context_window")
        for m in picks.to_dicts():
            ctx = pl.DataFrame(
                con.sql(q, params={"session_key": m["session_key"], "event_key": m["event_key"], "before": before, "after": after}).to_arrow_table()
            )
            out.append({"member": m, "context": ctx})
    finally:
        con.close()
    return {"cluster": row, "exemplars": out}


def failure_events(warehouse: str | os.PathLike | Warehouse | Failures) -> pl.DataFrame:
    """Event-family members only (one row per failure event) — the unit the ARI is measured on."""
    f = warehouse if isinstance(warehouse, Failures) else load(warehouse)
    return f.members.filter(pl.col("role") == "event")
