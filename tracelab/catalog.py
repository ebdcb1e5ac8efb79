"""Open a warehouse as a DuckDB connection with one view per table: ``tracelab.connect``.

A thin public wrapper over :class:`tracelab.store.Store`, which owns every connection to a
warehouse (settings, views, macros, read-only mode, snapshot isolation); see there.
"""

from __future__ import annotations

import os

import duckdb

from tracelab.errors import WarehouseError
from tracelab.store.connection import Store, default_warehouse, known_schemas
from tracelab.store.snapshot import WarehouseFiles

__all__ = ["CatalogError", "connect", "default_warehouse", "known_schemas"]

#: The error of a warehouse that cannot be opened (missing, corrupt); kept as a name for callers
#: of earlier versions: it is :class:`tracelab.errors.WarehouseError`.
CatalogError = WarehouseError


def connect(warehouse: str | os.PathLike | WarehouseFiles | None = None, *, read_only: bool = True, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with views ``sessions``, ``events``, ``llm_calls``, ``tool_calls``,
    ``rejects``, ``files``, the failure and feedback tables (and any extra tables the snapshot
    lists) over ``warehouse`` (default: ``$TRACELAB_WAREHOUSE``, else ``./warehouse``).

    Read-only by default: the connection reads the snapshot's Parquet files and nothing else,
    writes no file (``COPY … TO``, ``EXPORT``, ``ATTACH`` of a file are refused) and its
    configuration is locked. ``read_only=False`` gives a plain DuckDB connection (still with
    the views). It keeps reading the snapshot it opened, across later ingests, until closed.
    """
    return Store(warehouse, read_only=read_only, database=database).con
