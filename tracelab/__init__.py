"""tracelab: coding-agent session traces as a lossless, deduplicated Parquet warehouse.

import tracelab
con = tracelab.connect("warehouse")            # DuckDB connection with the table views
df = tracelab.query("tool_error_rates", warehouse="warehouse", agent="claude")   # Polars
tracelab.ingest(["~/.claude/projects"], "warehouse")
hits = tracelab.search("permission denied", warehouse="warehouse")   # full-text, Polars
tracelab.sessions(warehouse="warehouse", has_errors=True)           # session list, Polars
view = tracelab.session("0ccf1a04", warehouse="warehouse")          # .steps (Polars), HTML in notebooks
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
_LAZY = {
    # a callable module: tracelab.query(name, warehouse=None, **params)
    "query": ("tracelab.query", None),
    "connect": ("tracelab.catalog", "connect"),
    "ingest": ("tracelab.pipeline", "ingest"),
    "search": ("tracelab.fulltext", "search"),
    # a callable package: tracelab.session(id, warehouse=None) -> SessionView
    "session": ("tracelab.session", None),
    "sessions": ("tracelab.session.listing", "sessions"),
}


def __getattr__(name: str) -> Any:  # lazy: `import tracelab` stays cheap for the CLI
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        module = importlib.import_module(mod)
        return module if attr is None else getattr(module, attr)
    raise AttributeError(f"module 'tracelab' has no attribute {name!r}")
