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
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["scan"]


def scan(table: str, warehouse: str | os.PathLike | None = None) -> pl.LazyFrame:
    """A lazy Polars scan of one warehouse table (exactly the files of the committed snapshot)."""
    import polars as pl

    from tracelab import schema as S
    from tracelab.catalog import CatalogError, default_warehouse
    from tracelab.store.warehouse import Warehouse

    wh = Warehouse(warehouse if warehouse is not None else default_warehouse())
    if not wh.exists:
        raise CatalogError(f"no tracelab warehouse at {wh.root}")
    files = [str(p) for p in wh.files_of(table)]
    if not files:
        if table not in S.TABLES:
            raise CatalogError(f"no table {table!r} in {wh.root}")
        return pl.DataFrame(S.TABLES[table].empty_table()).lazy()
    return pl.scan_parquet(files, hive_partitioning=False)
