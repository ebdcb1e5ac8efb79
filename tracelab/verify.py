"""The incremental invariant, checked: a warehouse built by any number of incremental ingests
must equal, row for row, the warehouse of one clean ingest of the same inputs (every table,
every column except the ingest timestamps), or differ only by a rule documented in
``data/README.md`` ("Incremental guarantees").

:func:`compare` takes two warehouses and returns their differences; :func:`against_clean`
ingests the inputs again into a temporary warehouse and compares. ``tracelab verify
--against-clean`` runs the latter.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from tracelab.catalog import connect, known_schemas
from tracelab.pipeline import ingest
from tracelab.store.snapshot import LAYOUT_TABLES
from tracelab.store.warehouse import Warehouse, sql_list

__all__ = ["VOLATILE", "TableDiff", "against_clean", "compare"]

#: columns that record when an ingest ran, not what it read
VOLATILE: dict[str, frozenset[str]] = {"files": frozenset({"ingested_at"}), "feedback": frozenset({"created_at"})}


@dataclass
class TableDiff:
    """How one table differs: rows only in the first warehouse, rows only in the second."""

    table: str
    only_in_first: int
    only_in_second: int
    #: a few differing rows of each side (column -> value), for the report
    first_examples: list[dict] = field(default_factory=list)
    second_examples: list[dict] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.table}: {self.only_in_first} rows only in the first warehouse, {self.only_in_second} only in the second"


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {relation}").fetchall()]


def compare(first: str | os.PathLike, second: str | os.PathLike, tables: Iterable[str] | None = None, examples: int = 3) -> list[TableDiff]:
    """The tables in which two warehouses differ (as multisets of rows, ingest timestamps
    left out); empty when they are equal."""
    con = connect(first, read_only=False)  # reads the second warehouse too (outside the first)
    try:
        other = Warehouse(second)
        snap = other.snapshot()
        every = set(known_schemas()) | set(snap.tables) | set(Warehouse(first).snapshot().tables)
        names = sorted(set(tables) if tables is not None else every - LAYOUT_TABLES)  # the search index maps row numbers of parts
        con.execute("CREATE SCHEMA second")
        out: list[TableDiff] = []
        for name in names:
            files = [str(p) for p in other.files_of(name, snap)]
            schema = known_schemas().get(name)
            if files:
                con.execute(f'CREATE VIEW second."{name}" AS SELECT * FROM read_parquet({sql_list(files)}, hive_partitioning = false, union_by_name = true)')
            elif schema is not None:
                con.register(f"_second_empty_{name}", schema.empty_table())
                con.execute(f'CREATE VIEW second."{name}" AS SELECT * FROM "_second_empty_{name}"')
            else:
                continue
            skip = VOLATILE.get(name, frozenset())
            cols_a, cols_b = _columns(con, f'"{name}"'), _columns(con, f'second."{name}"')
            cols = [c for c in cols_a if c in cols_b and c not in skip]
            sel = ", ".join(f'"{c}"' for c in cols)
            a_only = f'SELECT {sel} FROM "{name}" EXCEPT ALL SELECT {sel} FROM second."{name}"'
            b_only = f'SELECT {sel} FROM second."{name}" EXCEPT ALL SELECT {sel} FROM "{name}"'
            n_a = con.execute(f"SELECT count(*) FROM ({a_only})").fetchall()[0][0]
            n_b = con.execute(f"SELECT count(*) FROM ({b_only})").fetchall()[0][0]
            if n_a or n_b:
                ex_a = [dict(zip(cols, r)) for r in con.execute(f"{a_only} LIMIT {int(examples)}").fetchall()]
                ex_b = [dict(zip(cols, r)) for r in con.execute(f"{b_only} LIMIT {int(examples)}").fetchall()]
                out.append(TableDiff(name, n_a, n_b, ex_a, ex_b))
        return out
    finally:
        con.close()


def against_clean(
    warehouse: str | os.PathLike, paths: Iterable[str] = (), *, agent: str | None = None, jobs: int | None = None, keep: str | None = None
) -> list[TableDiff]:
    """Ingest ``paths`` once, cleanly, into a temporary warehouse (or ``keep``) and compare
    ``warehouse`` with it. Files the warehouse keeps as ``missing`` make a documented
    difference: compare after ``tracelab ingest --prune``."""
    tmp = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="tracelab-clean-"))
    try:
        ingest(list(paths), tmp, agent=agent, jobs=jobs, use_cache=False)
        return compare(warehouse, tmp)
    finally:
        if keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
