"""``tracelab search`` through the search index: the same rows as the full scan, found from the
index's candidates.

On the command's store connection (its snapshot, its macros), in SQL (no NumPy or pyarrow is
imported: a search is a short command, see :func:`run`'s ``rows``):

1. **candidates** (:func:`candidates`): per indexed events part, the documents (the part's
   events numbered newest first, :mod:`tracelab.textindex.segments`) holding a token of every
   lookup of the pattern's :class:`~tracelab.textindex.plan.Plan` (the tokens:
   ``textindex_tokens.sql``, a scan of the segments' vocabulary; their documents:
   ``textindex_rows.sql``), in the temporary table ``tl_search_docs``;
2. **the newest matches**, when the plan is *proven* (every candidate matches), no filter is
   given and every part is indexed: the total is the number of candidates, and the newest
   ``limit`` are among the first ``limit`` documents of the parts whose times can reach them
   (the segments' footers give each part's newest and oldest time). Only those events are read
   (by row number, ``textindex_file_rows.sql``), and ``search_events.sql`` itself runs over them;
3. otherwise **rank** (``search_rank.sql``): over the candidates' events, plus every event of
   the parts without a segment, the search's own predicate and filters (the macros
   ``tl_search_hit`` and ``tl_search_keep`` of ``search_events.sql``), newest first, with the
   total (candidates of a proven plan are known to match, so their text is not read), then
   ``search_events.sql`` over just the ranked rows.

Every step is the search's SQL, so the rows equal the full scan's (tests compare them). When the
index cannot help (:func:`tracelab.textindex.plan.plan` returns None, no part is indexed, a
segment does not read, or the candidates are so many that the scan is as cheap),
:func:`run` returns None and the caller scans. A part whose segment is not on disk is scanned
like a part without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from tracelab import library as q
from tracelab.errors import QueryError
from tracelab.store import sql_text
from tracelab.store.snapshot import Snapshot, sql_list
from tracelab.store.sql import load as load_sql
from tracelab.textindex.plan import Plan, plan
from tracelab.textindex.segments import FORMAT_VERSION, META_KEY, IndexStatus, SegmentMeta, parse_meta, status

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

__all__ = ["MAX_CANDIDATE_SHARE", "Candidates", "Rows", "candidates", "index_needs", "matching_sessions", "run"]

#: candidates that still need checking, as a share of the indexed events, above which the scan
#: is used instead (checking reads the text of nearly every row group either way)
MAX_CANDIDATE_SHARE = 0.25

_SMALL = "ev.ts, ev.agent, ev.session_key, ev.session_id, ev.kind, ev.tool_name, ev.source_file, ev.seq, ev.event_key"
_READ = "filename = true, file_row_number = true, hive_partitioning = false, union_by_name = true"
_TEMP = ("TABLE tl_search_seg", "TABLE tl_search_docs", "TABLE tl_search_cand", "VIEW tl_search_scope", "VIEW events", "TABLE tl_search_rows")
#: the events columns search_events.sql reads
_HIT_COLUMNS = "ts, agent, session_key, session_id, kind, tool_name, model, text, tool_input, text_bytes, source_file, line_no, seq, event_key"
#: search parameters that filter (any of them set: the ranked path)
_FILTERS = ("since", "until", "agent", "project", "session", "kinds", "tool")

#: a result as Python rows: (column names, rows)
Rows = tuple[list[str], list[tuple]]


def index_needs() -> list[str]:
    """The statements of the index's queries (:func:`run`, :func:`matching_sessions`), for
    ``Store(..., needs=...)`` with the caller's own (they read the segments and parts by path
    and the temporary objects made here; the views and macros they reach are the caller's)."""
    return [sql_text(n) for n in ("textindex_tokens", "textindex_rows", "textindex_counts", "textindex_file_rows", "textindex_meta", "textindex_sessions")]


@dataclass
class Candidates:
    """The index's answer for one plan (its documents are in ``tl_search_docs``): per indexed
    part (relative path), its segment (absolute path), footer facts and candidate counts
    (all, and those with a time)."""

    st: IndexStatus
    root: Path
    segs: dict[str, str]
    metas: dict[str, SegmentMeta]
    counts: dict[str, tuple[int, int]]

    @property
    def total(self) -> int:
        return sum(n for n, _ in self.counts.values())

    @property
    def indexed_rows(self) -> int:
        return sum(m.events_rows for m in self.metas.values())

    @property
    def order_block(self) -> int:
        return next(iter(self.metas.values())).order_block


def run(con: duckdb.DuckDBPyConnection, snap: Snapshot, root: Path, params: dict[str, Any], *, rows: bool = False) -> pa.Table | Rows | None:
    """The search ``params`` (those of ``search_events.sql``) over ``snap`` through its index,
    as a pyarrow Table (``rows``: as Python rows, importing no pyarrow), or None when the index
    cannot answer it (the caller scans)."""
    p = plan(params["pattern"], regex=bool(params.get("regex")), case_sensitive=bool(params.get("case_sensitive")))
    if p is None:
        return None
    try:
        cand = candidates(con, snap, root, p)
        if cand is None:
            return None
        if not p.proven and cand.total > MAX_CANDIDATE_SHARE * cand.indexed_rows:
            return None
        if p.proven and cand.st.complete and all(params.get(f) is None for f in _FILTERS) and params.get("include_subagents", True) is not False:
            return _newest(con, cand, params, rows)
        return _ranked(con, cand, p.proven, params, rows)
    except (duckdb.IOException, duckdb.PermissionException, QueryError, OSError, ValueError):  # e.g. a segment went missing meanwhile: the caller scans
        return None
    finally:
        _drop(con)


def candidates(con: duckdb.DuckDBPyConnection, snap: Snapshot, root: Path, p: Plan) -> Candidates | None:
    """Fill ``tl_search_docs`` (index_file, doc) with the documents holding a token of every
    lookup of ``p`` and count them per part (None: no usable segment; a segment whose footer
    does not describe its part makes the search scan)."""
    st = status(snap, present=root)
    if not st.indexed:
        return None
    segs = {part: str(root / seg) for part, seg in st.indexed}
    part_of = {f: part for part, f in segs.items()}
    files = list(segs.values())
    metas = {part_of[f]: parse_meta(v) for f, v in con.execute(sql_text("textindex_meta"), {"files": files, "key": META_KEY.decode()}).fetchall()}
    if any(part not in metas or metas[part].version != FORMAT_VERSION or metas[part].events_part != part for part in segs):
        return None
    if len({m.order_block for m in metas.values()}) != 1:  # one size per query (textindex_file_rows.sql)
        return None
    con.execute(
        "CREATE OR REPLACE TEMP TABLE tl_search_seg AS "
        "SELECT unnest($files) AS index_file, unnest($parts) AS part, unnest($part_files) AS part_file, unnest($timed) AS timed",
        {"files": files, "parts": list(segs), "part_files": [str(root / part) for part in segs], "timed": [metas[part].timed for part in segs]},
    )
    for i, lk in enumerate(p.lookups):
        found = con.execute(
            sql_text("textindex_tokens"), {"files": files, "word": lk.text, "case_sensitive": lk.case_sensitive, "before": lk.before, "after": lk.after}
        ).fetchall()
        con.execute(f"CREATE OR REPLACE TEMP TABLE tl_search_w{i} AS {sql_text('textindex_rows')}", {"files": files, "tokens": [w for (w,) in found]})
    both = " INTERSECT ".join(f"SELECT index_file, doc FROM tl_search_w{i}" for i in range(len(p.lookups)))
    con.execute(f"CREATE OR REPLACE TEMP TABLE tl_search_docs AS {both}")
    for i in range(len(p.lookups)):
        con.execute(f"DROP TABLE IF EXISTS temp.tl_search_w{i}")
    counts = {part: (int(n), int(t)) for part, n, t in con.execute(sql_text("textindex_counts")).fetchall()}
    return Candidates(st, root, segs, metas, counts)


def _file_rows(con: duckdb.DuckDBPyConnection, cand: Candidates, parts: list[str], k: int | None = None) -> dict[str, list[int]]:
    """The file row numbers of the candidates of ``parts`` (each part's first ``k``)."""
    out: dict[str, list[int]] = {}
    if parts:
        found = con.execute(sql_text("textindex_file_rows"), {"files": [cand.segs[p] for p in parts], "k": k, "block_docs": cand.order_block}).fetchall()
        for part, _, row in found:
            out.setdefault(part, []).append(row)
    return out


def _candidate_table(con: duckdb.DuckDBPyConnection, cand: Candidates) -> None:
    """``tl_search_cand`` (part: the file as read, row_no): every candidate's event."""
    parts = [p for p, (n, _) in cand.counts.items() if n]
    if not parts:
        con.execute("CREATE OR REPLACE TEMP TABLE tl_search_cand (part VARCHAR, row_no BIGINT)")
        return
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE tl_search_cand AS SELECT part_file AS part, row_no FROM ({sql_text('textindex_file_rows')})",
        {"files": [cand.segs[p] for p in parts], "k": None, "block_docs": cand.order_block},
    )


def _newest(con: duckdb.DuckDBPyConnection, cand: Candidates, params: dict[str, Any], rows: bool) -> pa.Table | Rows:
    """A proven plan without filters: the newest ``limit`` candidates of the parts that can
    hold them, read back and run through ``search_events.sql``."""
    k = int(params["limit"])
    chosen: list[str] = []
    n_timed, oldest = 0, None
    # parts by their newest time (parts without times last): once k timed candidates are in
    # hand and a part's newest event is older than all of them, it and the rest cannot place
    for part in sorted(cand.counts, key=lambda x: (cand.metas[x].ts_max_ms is None, -(cand.metas[x].ts_max_ms or 0))):
        (n, timed), m = cand.counts[part], cand.metas[part]
        if not n:
            continue
        if n_timed >= k and (m.ts_max_ms is None or (oldest is not None and oldest > m.ts_max_ms)):
            break
        chosen.append(part)
        n_timed += timed
        if timed and m.ts_min_ms is not None:
            oldest = m.ts_min_ms if oldest is None else min(oldest, m.ts_min_ms)
    return _hits(con, cand, _file_rows(con, cand, chosen, k), params, cand.total, rows)


def _ranked(con: duckdb.DuckDBPyConnection, cand: Candidates, proven: bool, params: dict[str, Any], rows: bool) -> pa.Table | Rows | None:
    """The candidates' events (and all of the unindexed parts') through ``search_rank.sql``,
    then ``search_events.sql`` over the ranked rows."""
    _candidate_table(con, cand)
    _scope(con, cand.st, cand.root, proven)
    _, ranked = _fetch(con, "search_rank", {k: v for k, v in params.items() if k != "context"})
    total = ranked[0][2] if ranked else 0
    rel = {str(cand.root / p): p for p in [p for p, _ in cand.st.indexed] + cand.st.unindexed}
    top: dict[str, list[int]] = {}
    for part, row, _ in ranked:
        top.setdefault(rel[part], []).append(row)
    hits = _hits(con, cand, top, params, total, rows)
    n = len(hits[1]) if isinstance(hits, tuple) else hits.num_rows
    return hits if n == len(ranked) else None  # cannot differ: the same predicate on the same rows


def _scope(con: duckdb.DuckDBPyConnection, st: IndexStatus, root: Path, proven: bool) -> None:
    """``tl_search_scope``: the candidates of the indexed parts and every row of the others.
    File lists are data quoted into the view (a view takes no parameters), as the store's."""
    text = "NULL::VARCHAR AS text, NULL::VARCHAR AS tool_input, true AS proven" if proven else "ev.text, ev.tool_input, false AS proven"
    parts = [
        f"SELECT {_SMALL}, {text}, ev.filename AS part, ev.file_row_number AS row_no "
        f"FROM read_parquet({sql_list([str(root / p) for p, _ in st.indexed])}, {_READ}) ev "
        "SEMI JOIN tl_search_cand c ON c.part = ev.filename AND c.row_no = ev.file_row_number"
    ]
    if st.unindexed:
        parts.append(
            f"SELECT {_SMALL}, ev.text, ev.tool_input, false AS proven, ev.filename AS part, ev.file_row_number AS row_no "
            f"FROM read_parquet({sql_list([str(root / p) for p in st.unindexed])}, {_READ}) ev"
        )
    con.execute("CREATE OR REPLACE TEMP VIEW tl_search_scope AS " + " UNION ALL ".join(parts))


def _hits(con: duckdb.DuckDBPyConnection, cand: Candidates, at: dict[str, list[int]], params: dict[str, Any], total: int, rows: bool) -> pa.Table | Rows:
    """``search_events.sql`` over just the events at ``at`` (file row numbers per part), its
    ``total_matches`` set to ``total``: a temporary ``events`` view holding those events hides
    the store's view until :func:`_drop`."""
    at = {p: r for p, r in at.items() if r}
    if not at:  # no match: an empty view with the parts' columns
        every = [p for p, _ in cand.st.indexed] + cand.st.unindexed
        con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM read_parquet({sql_list([str(cand.root / p) for p in every])}, {_READ}) LIMIT 0")
    else:
        # one scan per part, its row numbers as a literal list (DuckDB skips the row groups
        # outside them), of the columns search_events.sql reads
        con.execute(
            "CREATE OR REPLACE TEMP TABLE tl_search_rows AS "
            + " UNION ALL BY NAME ".join(
                f"SELECT {_HIT_COLUMNS} FROM read_parquet({sql_list([str(cand.root / p)])}, {_READ}) "
                f"WHERE file_row_number IN ({', '.join(str(int(x)) for x in sorted(r))})"
                for p, r in at.items()
            )
        )
        con.execute("CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM tl_search_rows")
    if rows:
        names, found = _fetch(con, "search_events", params)
        i = names.index("total_matches")
        return names, [(*r[:i], total, *r[i + 1 :]) for r in found]
    import pyarrow as pa  # the Python API's answer is Arrow

    hits = q.run_arrow(load_sql("search_events"), con, **params)
    i = hits.schema.get_field_index("total_matches")
    return hits.set_column(i, hits.schema.field(i), pa.array([total] * hits.num_rows, pa.int64()))


def _fetch(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> Rows:
    """A ``tracelab/sql`` query's column names and Python rows (no Arrow)."""
    query = load_sql(name)
    try:
        cur = con.execute(query.sql, q.bind(query, params))
        return [d[0] for d in cur.description], cur.fetchall()
    except duckdb.Error as exc:
        raise QueryError(f"query {name!r}: {exc}") from exc


def matching_sessions(con: duckdb.DuckDBPyConnection, snap: Snapshot, root: Path, pattern: str) -> list[str] | None:
    """The sessions with an event whose text or tool input contains ``pattern`` (a plain
    substring, any case: ``tracelab sessions --search``), from the index; None: scan."""
    p = plan(pattern, regex=False, case_sensitive=False)
    if p is None:
        return None
    try:
        cand = candidates(con, snap, root, p)
        if cand is None or (not p.proven and cand.total > MAX_CANDIDATE_SHARE * cand.indexed_rows):
            return None
        _candidate_table(con, cand)
        _scope(con, cand.st, root, p.proven)
        keys = con.execute(sql_text("textindex_sessions"), {"pattern": pattern}).fetchall()
        return sorted(k for (k,) in keys if k is not None)
    except (duckdb.IOException, duckdb.PermissionException, QueryError, OSError, ValueError):
        return None
    finally:
        _drop(con)


def _drop(con: duckdb.DuckDBPyConnection) -> None:
    for obj in _TEMP:
        kind, name = obj.split()
        try:
            con.execute(f"DROP {kind} IF EXISTS temp.{name}")
        except duckdb.Error:
            pass
