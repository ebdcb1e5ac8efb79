"""tracelab: coding-agent session traces as a lossless, deduplicated Parquet warehouse."""

__version__ = "0.1.0"
from tracelab import query  # noqa: E402,F401  callable module (stdlib-only import): tracelab.query(name, warehouse=None, **params)
