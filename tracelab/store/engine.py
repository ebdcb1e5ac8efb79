"""The DuckDB module a connection is made with: the ``duckdb`` package, or its compiled engine alone.

``import duckdb`` loads the package's Python layer as well as the engine: its relation API,
expression builders, value classes and a version lookup through ``importlib.metadata`` (with
the standard-library modules they pull in, ~0.1 s of CPU, most of a short command's start-up).
The engine is the compiled extension the package re-exports (``_duckdb`` since duckdb 1.4):
``connect``, ``execute``, ``fetchall``, ``description`` and the exception classes, the same
objects the package names (``_duckdb.Error is duckdb.Error``), in ~0.02 s.

:func:`module` gives the package unless the caller asks for the ``bare`` engine, which it gets
only when the package is not imported yet and the extension is there (an older duckdb has none:
then the package). A connection made by the bare engine lacks what the package adds to the
connection class in Python (``con.sql``, ``con.table``, Arrow results, …) until something
imports ``duckdb``, which adds them to that connection too. So the bare engine is for code that
only executes SQL and fetches Python rows, and keeps its connection to itself
(:func:`tracelab.session` on the command line).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

__all__ = ["catalog_exception", "connect", "error", "module"]

#: the compiled engine's module name (duckdb >= 1.4; before, it sat inside the package)
ENGINE = "_duckdb"


def module(*, bare: bool = False) -> ModuleType:
    """``duckdb``, or with ``bare`` its compiled engine alone while the package is not imported."""
    if bare and "duckdb" not in sys.modules:
        try:
            import _duckdb
        except ImportError:
            pass
        else:
            if callable(getattr(_duckdb, "connect", None)) and isinstance(getattr(_duckdb, "Error", None), type):
                return _duckdb
    import duckdb

    return duckdb


def connect(database: str = ":memory:", *, bare: bool = False) -> Any:
    """A new DuckDB connection to ``database``, made by :func:`module` (``bare``: see there). The
    one place tracelab opens DuckDB (``tests/test_architecture.py``): :class:`~tracelab.store.Store`
    and :func:`~tracelab.store.scratch_connection` come here."""
    duckdb = module(bare=bare)
    return duckdb.connect(database)


def error() -> Any:
    """``duckdb.Error`` (every DuckDB error), without importing the package where it is not."""
    return module(bare=True).Error


def catalog_exception() -> Any:
    """``duckdb.CatalogException`` (an unknown table, view or function), the same way."""
    return module(bare=True).CatalogException
