"""``tracelab search`` through the search index: the same rows as the full scan, found from the
index's candidates.

Three steps on the command's store connection (its snapshot, its macros):

1. **candidates**: the rows of each indexed events part holding a token of every lookup of
   the pattern's :class:`~tracelab.textindex.plan.Plan` (the tokens: ``textindex_tokens.sql``,
   a scan of the segments' ``token`` column; their rows: ``textindex_rows.sql``);
2. **rank** (``search_rank.sql``): over those rows, plus every row of the parts without a
   segment, the search's own predicate and filters (the macros ``tl_search_hit`` and
   ``tl_search_keep`` of ``search_events.sql``), newest first, with the total. Candidates of a
   proven plan are known to match, so their text is not read: only the small columns the
   filters and the order need;
3. **the hits**: ``search_events.sql`` itself, unchanged, over just the ranked rows (a
   temporary ``events`` view holding them), for the snippet, the match position and the other
   columns; its ``total_matches`` is replaced by the rank's.

Every step is the search's SQL, so the rows equal the full scan's (tests compare them). When the
index cannot help (:func:`tracelab.textindex.plan.plan` returns None, no part is indexed, a
segment does not read, or the candidates are so many that the scan is as cheap),
:func:`run` returns None and the caller scans. A part whose segment is not on disk is scanned
like a part without one.
:func:`run` returns None and the caller scans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tracelab import library as q
from tracelab.errors import QueryError
from tracelab.store import sql_text
from tracelab.store.snapshot import Snapshot, sql_list
from tracelab.store.sql import load as load_sql
from tracelab.textindex.plan import Plan, plan
from tracelab.textindex.segments import IndexStatus, status

__all__ = ["MAX_CANDIDATE_SHARE", "run"]

#: candidates that still need checking, as a share of the indexed events, above which the scan
#: is used instead (checking reads the text of nearly every row group either way)
MAX_CANDIDATE_SHARE = 0.25

_SMALL = "ev.ts, ev.agent, ev.session_key, ev.session_id, ev.kind, ev.tool_name, ev.source_file, ev.seq, ev.event_key"
_READ = "filename = true, file_row_number = true, hive_partitioning = false, union_by_name = true"
_TEMP = ("TABLE tl_search_cand", "VIEW tl_search_scope", "TABLE tl_search_top", "VIEW events")


def run(con: duckdb.DuckDBPyConnection, snap: Snapshot, root: Path, params: dict[str, Any]) -> pa.Table | None:
    """The search ``params`` (those of ``search_events.sql``) over ``snap`` through its index,
    or None when the index cannot answer it (the caller scans)."""
    p = plan(params["pattern"], regex=bool(params.get("regex")), case_sensitive=bool(params.get("case_sensitive")))
    st = status(snap, present=root)
    if p is None or not st.indexed:
        return None
    try:
        n_cand = _candidates(con, p, st, root)
        if not p.proven and n_cand > MAX_CANDIDATE_SHARE * _rows(con, st, root):
            return None
        _scope(con, st, root, p.proven)
        rank_params = {k: v for k, v in params.items() if k != "context"}
        rank = q.run_arrow(load_sql("search_rank"), con, **rank_params)
        total = rank.column("total_matches")[0].as_py() if rank.num_rows else 0
        _top(con, rank, st, root)
        hits = q.run_arrow(load_sql("search_events"), con, **params)
    except (duckdb.IOException, duckdb.PermissionException, QueryError):  # e.g. a segment went missing meanwhile: the caller scans
        return None
    finally:
        _drop(con)
    if hits.num_rows != rank.num_rows:  # cannot happen: the same predicate on the same rows
        return None
    i = hits.schema.get_field_index("total_matches")
    return hits.set_column(i, hits.schema.field(i), pa.array([total] * hits.num_rows, pa.int64()))


def _abs(root: Path, rels: list[str]) -> list[str]:
    return [str(root / r) for r in rels]


def _candidates(con: duckdb.DuckDBPyConnection, p: Plan, st: IndexStatus, root: Path) -> int:
    """``tl_search_cand`` (part, row_no): rows holding a token of every lookup; their count."""
    segs = _abs(root, [seg for _, seg in st.indexed])
    con.execute(
        "CREATE OR REPLACE TEMP TABLE tl_search_seg AS SELECT unnest($segs) AS index_file, unnest($parts) AS part",
        {"segs": segs, "parts": _abs(root, [part for part, _ in st.indexed])},
    )
    rows_sql = sql_text("textindex_rows")
    for i, lk in enumerate(p.lookups):
        found = con.execute(
            sql_text("textindex_tokens"), {"files": segs, "word": lk.text, "case_sensitive": lk.case_sensitive, "before": lk.before, "after": lk.after}
        ).fetchall()
        con.execute(f"CREATE OR REPLACE TEMP TABLE tl_search_w{i} AS {rows_sql}", {"files": segs, "tokens": [t for (t,) in found]})
    both = " INTERSECT ".join(f"SELECT index_file, row_no FROM tl_search_w{i}" for i in range(len(p.lookups)))
    con.execute(f"CREATE OR REPLACE TEMP TABLE tl_search_cand AS SELECT s.part, c.row_no FROM ({both}) c JOIN tl_search_seg s USING (index_file)")
    for i in range(len(p.lookups)):
        con.execute(f"DROP TABLE IF EXISTS temp.tl_search_w{i}")
    return con.execute("SELECT count(*) FROM tl_search_cand").fetchall()[0][0]


def _rows(con: duckdb.DuckDBPyConnection, st: IndexStatus, root: Path) -> int:
    """Events in the indexed parts (from the footers)."""
    files = _abs(root, [part for part, _ in st.indexed])
    return con.execute("SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata($files)", {"files": files}).fetchall()[0][0]


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


def _top(con: duckdb.DuckDBPyConnection, rank: pa.Table, st: IndexStatus, root: Path) -> None:
    """A temporary ``events`` view holding just the ranked rows (it hides the store's view
    until :func:`_drop`)."""
    files = sorted(set(rank.column("part").to_pylist()))
    if not files:  # no match: an empty view with the parts' columns
        con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM read_parquet({sql_list(_abs(root, [p for p, _ in st.indexed]))}, {_READ}) LIMIT 0")
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE tl_search_top AS SELECT unnest($parts) AS part, unnest($rows) AS row_no",
            {"parts": rank.column("part").to_pylist(), "rows": rank.column("row_no").to_pylist()},
        )
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW events AS SELECT ev.* EXCLUDE (filename, file_row_number) "
            f"FROM read_parquet({sql_list(files)}, {_READ}) ev SEMI JOIN tl_search_top t ON t.part = ev.filename AND t.row_no = ev.file_row_number"
        )


def _drop(con: duckdb.DuckDBPyConnection) -> None:
    for obj in _TEMP + ("TABLE tl_search_seg",):
        kind, name = obj.split()
        try:
            con.execute(f"DROP {kind} IF EXISTS temp.{name}")
        except duckdb.Error:
            pass
