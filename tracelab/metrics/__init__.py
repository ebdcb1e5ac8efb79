"""Metrics as Polars functions (and ibis expressions in :mod:`tracelab.metrics.ibis_core`).

The named SQL in ``queries/`` is the main implementation of every metric; these functions
exist for notebooks that want to compose on DataFrames (filter, join, re-group) without
writing SQL. They take the warehouse tables as Polars frames (:func:`scan` gives them) and
return DataFrames; they do no I/O. Wherever a metric exists both as SQL and as a function
here, ``tests/test_metrics.py`` runs both on the same warehouse and asserts equal results.

Modules: :mod:`~tracelab.metrics.tool_errors`, :mod:`~tracelab.metrics.latency`,
:mod:`~tracelab.metrics.tokens`, :mod:`~tracelab.metrics.sessions`,
:mod:`~tracelab.metrics.compare` (cross-model comparison), :mod:`~tracelab.metrics.stats`.
"""

from __future__ import annotations

import os

import polars as pl

from tracelab import schema as S
from tracelab.errors import NotFound, WarehouseMissing
from tracelab.store.warehouse import Warehouse, default_warehouse

__all__ = ["scan"]


def scan(table: str, warehouse: str | os.PathLike | None = None) -> pl.LazyFrame:
    """A lazy Polars scan of one warehouse table (exactly the files of the committed snapshot)."""
    wh = Warehouse(warehouse if warehouse is not None else default_warehouse())
    if not wh.exists:
        raise WarehouseMissing(f"no tracelab warehouse at {wh.root}", path=str(wh.root))
    files = [str(p) for p in wh.files_of(table)]
    if not files:
        if table not in S.TABLES:
            raise NotFound(f"no table {table!r} in {wh.root}", table=table, path=str(wh.root))
        return pl.DataFrame(S.TABLES[table].empty_table()).lazy()
    return pl.scan_parquet(files, hive_partitioning=False)
