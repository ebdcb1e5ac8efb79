"""tracelab: coding-agent session traces as a lossless, deduplicated Parquet warehouse."""

__version__ = "0.1.0"
