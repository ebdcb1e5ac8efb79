"""``tracelab search`` through the search index: the same rows as the full scan, found from the
index's candidates.

On the command's store connection (its snapshot, its macros):

1. **candidates** (:func:`candidates`): per indexed events part, the documents (the part's
   events numbered newest first, :mod:`tracelab.textindex.segments`) holding a token of every
   lookup of the pattern's :class:`~tracelab.textindex.plan.Plan` (the tokens:
   ``textindex_tokens.sql``, a scan of the segments' ``token`` column; their postings:
   ``textindex_rows.sql``);
2. **the newest matches**, when the plan is *proven* (every candidate matches), no filter is
   given and every part is indexed: the total is the number of candidates, and the newest
   ``limit`` are among the first ``limit`` documents of the parts whose times can reach them
   (the segments' footers give each part's newest and oldest time). Only those events are read
   (by row number, ``textindex_docs.sql``), and ``search_events.sql`` itself runs over them;
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

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from tracelab import library as q
from tracelab.errors import QueryError
from tracelab.store import sql_text
from tracelab.store.snapshot import Snapshot, sql_list
from tracelab.store.sql import load as load_sql
from tracelab.textindex.plan import Plan, plan
from tracelab.textindex.segments import FORMAT_VERSION, META_KEY, ORDER_BLOCK, IndexStatus, SegmentMeta, parse_meta, status

__all__ = ["MAX_CANDIDATE_SHARE", "Candidates", "candidates", "file_rows", "matching_sessions", "run"]

#: candidates that still need checking, as a share of the indexed events, above which the scan
#: is used instead (checking reads the text of nearly every row group either way)
MAX_CANDIDATE_SHARE = 0.25

_SMALL = "ev.ts, ev.agent, ev.session_key, ev.session_id, ev.kind, ev.tool_name, ev.source_file, ev.seq, ev.event_key"
_READ = "filename = true, file_row_number = true, hive_partitioning = false, union_by_name = true"
_TEMP = ("TABLE tl_search_cand", "VIEW tl_search_scope", "VIEW events", "TABLE tl_search_rows")
#: the events columns search_events.sql reads
_HIT_COLUMNS = "ts, agent, session_key, session_id, kind, tool_name, model, text, tool_input, text_bytes, source_file, line_no, seq, event_key"
#: search parameters that filter (any of them set: the ranked path)
_FILTERS = ("since", "until", "agent", "project", "session", "kinds", "tool")


class Candidates:
    """The index's answer for one plan: per indexed part (its path relative to the warehouse),
    the sorted document numbers of the candidates, with the segments' footer facts."""

    def __init__(self, st: IndexStatus, root: Path, metas: dict[str, SegmentMeta], docs: dict[str, np.ndarray]):
        self.st, self.root, self.metas, self.docs = st, root, metas, docs

    @property
    def total(self) -> int:
        return int(sum(len(d) for d in self.docs.values()))

    @property
    def indexed_rows(self) -> int:
        return sum(m.events_rows for m in self.metas.values())


def run(con: duckdb.DuckDBPyConnection, snap: Snapshot, root: Path, params: dict[str, Any]) -> pa.Table | None:
    """The search ``params`` (those of ``search_events.sql``) over ``snap`` through its index,
    or None when the index cannot answer it (the caller scans)."""
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
            return _newest(con, cand, params)
        return _ranked(con, cand, p.proven, params)
    except (
        duckdb.IOException,
        duckdb.PermissionException,
        QueryError,
        OSError,
        ValueError,
        pa.ArrowException,
    ):  # e.g. a segment went missing meanwhile: the caller scans
        return None
    finally:
        _drop(con)


def _np(arr: pa.Array) -> np.ndarray:
    """A primitive Arrow array without nulls as NumPy, zero-copy (``Array.to_numpy`` imports
    pandas, ~0.5 s of a command's start-up)."""
    dtype = np.dtype(arr.type.to_pandas_dtype())
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize)


def _with_total(hits: pa.Table, total: int) -> pa.Table:
    """``hits`` with ``total_matches`` set to ``total`` (built from a buffer: ``pa.array`` and
    ``pa.scalar`` import pandas)."""
    i = hits.schema.get_field_index("total_matches")
    col = pa.Array.from_buffers(pa.int64(), hits.num_rows, [None, pa.py_buffer(np.full(hits.num_rows, total, np.int64).tobytes())])
    return hits.set_column(i, hits.schema.field(i), col)


def _abs(root: Path, rels: list[str]) -> list[str]:
    return [str(root / r) for r in rels]


def candidates(con: duckdb.DuckDBPyConnection, snap: Snapshot, root: Path, p: Plan) -> Candidates | None:
    """Per indexed part, the documents holding a token of every lookup of ``p`` (None: no
    usable segment; a segment whose footer does not describe its part makes the search scan)."""
    st = status(snap, present=root)
    if not st.indexed:
        return None
    segs = _abs(root, [seg for _, seg in st.indexed])
    part_of = dict(zip(segs, [part for part, _ in st.indexed]))
    metas = {part_of[f]: parse_meta(v) for f, v in con.execute(sql_text("textindex_meta"), {"files": segs, "key": META_KEY.decode()}).fetchall()}
    if any(part not in metas or metas[part].version != FORMAT_VERSION or metas[part].events_part != part for part in part_of.values()):
        return None
    docs: dict[str, np.ndarray] | None = None
    for lk in p.lookups:
        found = con.execute(
            sql_text("textindex_tokens"), {"files": segs, "word": lk.text, "case_sensitive": lk.case_sensitive, "before": lk.before, "after": lk.after}
        ).fetchall()
        mine = {part: np.empty(0, np.uint32) for part in part_of.values()}
        if found:
            t = con.sql(sql_text("textindex_rows"), params={"files": segs, "tokens": [w for (w,) in found]}).to_arrow_table()
            lists = t.column("rows").combine_chunks()
            offsets, values = _np(lists.offsets), _np(lists.values)
            per: dict[str, list[np.ndarray]] = {}
            for i, f in enumerate(t.column("index_file").to_pylist()):
                per.setdefault(part_of[f], []).append(values[offsets[i] : offsets[i + 1]])
            for part, arrs in per.items():
                mine[part] = np.unique(np.concatenate(arrs))
        docs = mine if docs is None else {k: np.intersect1d(v, mine[k], assume_unique=True) for k, v in docs.items()}
    return Candidates(st, root, metas, docs or {})


def file_rows(con: duckdb.DuckDBPyConnection, cand: Candidates, docs: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """The file row numbers of documents (default: of all candidates), per part."""
    docs = cand.docs if docs is None else docs
    want = {part: d for part, d in docs.items() if len(d)}
    if not want:
        return {}
    seg_of = dict(cand.st.indexed)
    segs = _abs(cand.root, [seg_of[p] for p in want])
    part_of = dict(zip(segs, want))
    blocks = sorted({int(b) for d in want.values() for b in np.unique(d // ORDER_BLOCK)})
    t = con.sql(sql_text("textindex_docs"), params={"files": segs, "blocks": blocks}).to_arrow_table()
    got: dict[str, dict[int, np.ndarray]] = {p: {} for p in want}
    for f, b, rows in zip(t.column("index_file").to_pylist(), t.column("block").to_pylist(), t.column("rows")):
        got[part_of[f]][b] = _np(rows.values)
    out = {}
    for part, d in want.items():
        by_block = got[part]
        blk = d // ORDER_BLOCK
        rows = np.empty(len(d), np.int64)
        for b in np.unique(blk):
            sel = blk == b
            rows[sel] = by_block[int(b)][d[sel] - int(b) * ORDER_BLOCK]
        out[part] = rows
    return out


def _newest(con: duckdb.DuckDBPyConnection, cand: Candidates, params: dict[str, Any]) -> pa.Table:
    """A proven plan without filters: the newest ``limit`` candidates of the parts that can
    hold them, read back and run through ``search_events.sql``."""
    k = int(params["limit"])
    total = cand.total
    chosen: dict[str, np.ndarray] = {}
    n_timed, oldest = 0, None
    # parts by their newest time (parts without times last): once k timed candidates are in
    # hand and a part's newest event is older than all of them, it and the rest cannot place
    for part in sorted(cand.docs, key=lambda x: (cand.metas[x].ts_max_ms is None, -(cand.metas[x].ts_max_ms or 0))):
        d, m = cand.docs[part], cand.metas[part]
        if not len(d):
            continue
        if n_timed >= k and (m.ts_max_ms is None or (oldest is not None and oldest > m.ts_max_ms)):
            break
        chosen[part] = d[:k]
        timed = int(np.searchsorted(d, m.timed))
        n_timed += timed
        if timed and m.ts_min_ms is not None:
            oldest = m.ts_min_ms if oldest is None else min(oldest, m.ts_min_ms)
    rows = file_rows(con, cand, chosen)
    hits = _hits(con, cand, rows, params)
    return _with_total(hits, total)


def _ranked(con: duckdb.DuckDBPyConnection, cand: Candidates, proven: bool, params: dict[str, Any]) -> pa.Table | None:
    """The candidates' events (and all of the unindexed parts') through ``search_rank.sql``,
    then ``search_events.sql`` over the ranked rows."""
    rows = file_rows(con, cand)
    parts = [str(cand.root / p) for p, r in rows.items() for _ in range(len(r))]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE tl_search_cand AS SELECT unnest($parts) AS part, unnest($rows) AS row_no",
        {"parts": parts, "rows": [int(x) for r in rows.values() for x in r]},
    )
    _scope(con, cand.st, cand.root, proven)
    rank_params = {k: v for k, v in params.items() if k != "context"}
    rank = q.run_arrow(load_sql("search_rank"), con, **rank_params)
    total = rank.column("total_matches")[0].as_py() if rank.num_rows else 0
    rel = {str(cand.root / p): p for p in [p for p, _ in cand.st.indexed] + cand.st.unindexed}
    top: dict[str, list[int]] = {}
    for part, row in zip(rank.column("part").to_pylist(), rank.column("row_no").to_pylist()):
        top.setdefault(rel[part], []).append(row)
    hits = _hits(con, cand, {p: np.array(r, np.int64) for p, r in top.items()}, params)
    if hits.num_rows != rank.num_rows:  # cannot happen: the same predicate on the same rows
        return None
    return _with_total(hits, total)


def _scope(con: duckdb.DuckDBPyConnection, st: IndexStatus, root: Path, proven: bool) -> None:
    """``tl_search_scope``: the candidates of the indexed parts and every row of the others.
    File lists are data quoted into the view (a view takes no parameters), as the store's."""
    text = "NULL::VARCHAR AS text, NULL::VARCHAR AS tool_input, true AS proven" if proven else "ev.text, ev.tool_input, false AS proven"
    parts = [
        f"SELECT {_SMALL}, {text}, ev.filename AS part, ev.file_row_number AS row_no "
        f"FROM read_parquet({sql_list(_abs(root, [p for p, _ in st.indexed]))}, {_READ}) ev "
        "SEMI JOIN tl_search_cand c ON c.part = ev.filename AND c.row_no = ev.file_row_number"
    ]
    if st.unindexed:
        parts.append(
            f"SELECT {_SMALL}, ev.text, ev.tool_input, false AS proven, ev.filename AS part, ev.file_row_number AS row_no "
            f"FROM read_parquet({sql_list(_abs(root, st.unindexed))}, {_READ}) ev"
        )
    con.execute("CREATE OR REPLACE TEMP VIEW tl_search_scope AS " + " UNION ALL ".join(parts))


def _hits(con: duckdb.DuckDBPyConnection, cand: Candidates, rows: dict[str, np.ndarray], params: dict[str, Any]) -> pa.Table:
    """``search_events.sql`` over just the events at ``rows`` (file row numbers per part): a
    temporary ``events`` view holding those events hides the store's view until :func:`_drop`."""
    rows = {p: r for p, r in rows.items() if len(r)}
    if not rows:  # no match: an empty view with the parts' columns
        every = [p for p, _ in cand.st.indexed] + cand.st.unindexed
        con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM read_parquet({sql_list(_abs(cand.root, every))}, {_READ}) LIMIT 0")
        return q.run_arrow(load_sql("search_events"), con, **params)
    # one scan per part, its row numbers as a literal list (DuckDB skips the row groups outside
    # them), of the columns search_events.sql reads
    con.execute(
        "CREATE OR REPLACE TEMP TABLE tl_search_rows AS "
        + " UNION ALL BY NAME ".join(
            f"SELECT {_HIT_COLUMNS} FROM read_parquet({sql_list([str(cand.root / p)])}, {_READ}) "
            f"WHERE file_row_number IN ({', '.join(str(int(x)) for x in sorted(r))})"
            for p, r in rows.items()
        )
    )
    con.execute("CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM tl_search_rows")
    return q.run_arrow(load_sql("search_events"), con, **params)


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
        rows = file_rows(con, cand)
        parts = [str(root / part) for part, r in rows.items() for _ in range(len(r))]
        con.execute(
            "CREATE OR REPLACE TEMP TABLE tl_search_cand AS SELECT unnest($parts) AS part, unnest($rows) AS row_no",
            {"parts": parts, "rows": [int(x) for r in rows.values() for x in r]},
        )
        _scope(con, cand.st, root, p.proven)
        keys = con.execute(sql_text("textindex_sessions"), {"pattern": pattern}).fetchall()
        return sorted(k for (k,) in keys if k is not None)
    except (duckdb.IOException, duckdb.PermissionException, QueryError, OSError, ValueError, pa.ArrowException):
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
