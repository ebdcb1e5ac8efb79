"""The warehouse store: the only package that opens DuckDB or reads a snapshot.

* :class:`Store` (``connection.py``): one warehouse opened for one command — its snapshot read
  once, a DuckDB connection with every table view, the macros and prices, read-only by default.
  ``tracelab.connect()`` is a thin wrapper over it.
* :func:`scratch_connection` (``connection.py``): an in-memory DuckDB with the same settings and
  no views, for code that builds tables.
* :class:`Snapshot` / ``WarehouseFiles`` (``snapshot.py``, no pyarrow): the directory, its
  snapshot file, the writer's lock, atomic commit and garbage collection with a grace period;
  :class:`Warehouse` (``warehouse.py``) adds reading and writing Parquet parts.
* :func:`sql_text` / :func:`load_sql` (``sql.py``): the one loader of every ``.sql`` file.
* ``needs.py``: which views, macros and price table a piece of SQL can reach, so a short command
  opens ``Store(..., needs=SQL)`` with only those (start-up).
* ``derive.py`` (derived tables from events) and ``compact.py`` (merge small parts).

``sql.py``, ``snapshot.py`` and ``warehouse.py`` load without DuckDB, so this package resolves the names that
need it (``Store``, ``connect``, ``scratch_connection`` …) on first use (PEP 562); listing or
parsing queries never imports the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tracelab.store.sql import library, sql_files, sql_text
from tracelab.store.sql import load as load_sql

if TYPE_CHECKING:  # pragma: no cover
    from tracelab.store.connection import MEMORY_LIMIT, Store, connect, default_warehouse, known_schemas, register_views, scratch_connection
    from tracelab.store.snapshot import Snapshot
    from tracelab.store.warehouse import Warehouse

__all__ = [
    "MEMORY_LIMIT",
    "Snapshot",
    "Store",
    "Warehouse",
    "connect",
    "default_warehouse",
    "known_schemas",
    "library",
    "load_sql",
    "register_views",
    "scratch_connection",
    "sql_files",
    "sql_text",
]

_LAZY = {
    "MEMORY_LIMIT": "tracelab.store.connection",
    "Store": "tracelab.store.connection",
    "connect": "tracelab.store.connection",
    "default_warehouse": "tracelab.store.connection",
    "known_schemas": "tracelab.store.connection",
    "register_views": "tracelab.store.connection",
    "scratch_connection": "tracelab.store.connection",
    "Snapshot": "tracelab.store.snapshot",
    "Warehouse": "tracelab.store.warehouse",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tracelab.store' has no attribute {name!r}")
