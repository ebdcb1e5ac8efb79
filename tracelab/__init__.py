"""tracelab: coding-agent session traces as a lossless, deduplicated Parquet warehouse.

import tracelab
con = tracelab.connect("warehouse")            # DuckDB connection with the table views (read-only)
df = tracelab.query("tool_error_rates", warehouse="warehouse", agent="claude")   # Polars
tracelab.ingest(["~/.claude/projects"], "warehouse")
hits = tracelab.search("permission denied", warehouse="warehouse")   # full-text, Polars
changes = tracelab.suggest("warehouse")         # suggested harness changes with evidence, Polars
tracelab.sessions(warehouse="warehouse", has_errors=True)           # session list, Polars
view = tracelab.session("0ccf1a04", warehouse="warehouse")          # .steps (Polars), HTML in notebooks

The functions are plain functions of this package. Each imports its implementation when
called, so ``import tracelab`` (and the command line's start-up) stays cheap: this is the one
deliberate place besides the CLI's subcommand loader where imports wait for first use.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

# ``tracelab.ingest`` is both the ingest package and the ingest function: the package is
# imported first (it is empty), then the name is bound to the function below, so the function
# stays the attribute however often submodules of the package are imported later.
import tracelab.ingest as _ingest_package  # noqa: F401
import tracelab.session as _session_package  # noqa: F401  (the same for tracelab.session)

# the same for ``tracelab.suggest`` (package of the miner, and the function below)
import tracelab.suggest as _suggest_package  # noqa: F401

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import polars as pl

    from tracelab.ingest.summary import IngestSummary
    from tracelab.session.view import SessionView

__version__ = "0.1.0"
__all__ = ["__version__", "connect", "ingest", "query", "search", "session", "sessions", "suggest"]


def connect(warehouse: str | os.PathLike | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per table over ``warehouse`` (default
    ``$TRACELAB_WAREHOUSE``, else ``./warehouse``); read-only unless ``read_only=False``.
    See :func:`tracelab.catalog.connect`."""
    from tracelab.catalog import connect as _connect

    return _connect(warehouse, read_only=read_only)


def query(name: str, warehouse: str | os.PathLike | None = None, **params: Any) -> pl.DataFrame:
    """Run the named query ``name`` (``queries/NAME.sql``) with ``params``, as Polars.
    See :func:`tracelab.library.query`."""
    from tracelab.library import query as _query

    return _query(name, warehouse, **params)


def ingest(paths: Sequence[str | os.PathLike] = (), warehouse: str | os.PathLike = "warehouse", **options: Any) -> IngestSummary:
    """Ingest ``paths`` (files, directories, globs; ``[]`` = the agents' default locations) into
    ``warehouse``. See :func:`tracelab.pipeline.ingest` for the options."""
    from tracelab.pipeline import ingest as _ingest

    return _ingest([os.fspath(p) for p in paths], warehouse, **options)


def search(pattern: str, warehouse: str | os.PathLike | None = None, **options: Any) -> pl.DataFrame:
    """Events whose text or tool input contains ``pattern``, newest first, as Polars.
    See :func:`tracelab.fulltext.search`."""
    from tracelab.fulltext import search as _search

    return _search(pattern, warehouse, **options)


def sessions(warehouse: str | os.PathLike | None = None, **options: Any) -> pl.DataFrame:
    """Sessions newest first, one row each, as Polars (filters: ``since``, ``until``, ``agent``,
    ``model``, ``project``, ``has_errors``, ``min_calls``, ``subagents``, ``search``, ``limit``).
    See :func:`tracelab.session.listing.sessions`."""
    from tracelab.session.listing import sessions as _sessions

    return _sessions(warehouse, **options)


def session(id: str, warehouse: str | os.PathLike | None = None, **options: Any) -> SessionView:
    """One session (``id``: its key, native id or a unique prefix) with its subagents: ``.steps``
    is a Polars DataFrame, and a notebook displays it as the HTML timeline.
    See :func:`tracelab.session.view.session`."""
    from tracelab.session.view import session as _session

    return _session(id, warehouse, **options)


def suggest(warehouse: str | os.PathLike = "warehouse", **options: Any) -> pl.DataFrame:
    """Suggested harness changes (permission rules, instruction rules, hooks, loop rules) with
    evidence, backtest and out-of-time check, as Polars. See :func:`tracelab.suggest.api.suggest`."""
    from tracelab.suggest.api import suggest as _suggest

    return _suggest(warehouse, **options)
