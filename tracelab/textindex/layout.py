"""Where and how the search index is laid out: its folder, format version, chunk and row-group
sizes and the segment path of an events part (:mod:`tracelab.textindex.segments` describes the
format; the builder and the reader both take their constants from here)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "BUILD_THREADS",
    "CHUNK_ROWS",
    "COLUMNS",
    "FORMAT_VERSION",
    "META_KEY",
    "ORDER_BLOCK",
    "ORDER_ROWS_PER_GROUP",
    "ROW_GROUP_POSTINGS",
    "ROW_GROUP_TOKENS",
    "TABLE",
    "VOCABULARY",
    "VOCABULARY_ROWS_PER_GROUP",
    "segment_of",
]

#: the snapshot table listing the segments
TABLE = "search_index"
#: bumped when tokens or layout change: segments of another version are not used (and rebuilt)
FORMAT_VERSION = 2
#: file rows tokenized at a time (bounds the memory of a build)
CHUNK_ROWS = 256 * 1024
#: posting rows per row group (row groups are pruned by their token range)
ROW_GROUP_TOKENS = 4 * 1024
#: documents per row group of posting rows (beyond its first row)
ROW_GROUP_POSTINGS = 128 * 1024
#: ``block`` of the vocabulary rows, and vocabulary rows per row group
VOCABULARY = -1
VOCABULARY_ROWS_PER_GROUP = 256 * 1024
#: documents per order row, and order rows per row group
ORDER_BLOCK = 4 * 1024
ORDER_ROWS_PER_GROUP = 32
#: segments built at once by :func:`sync`
BUILD_THREADS = max(1, min(2, os.cpu_count() or 1))
META_KEY = b"tracelab.search_index"
#: the text columns indexed, as searched
COLUMNS = ("text", "tool_input")


def segment_of(events_rel: str) -> str:
    """The segment path (relative to the warehouse) of the events part ``events_rel``."""
    rel = Path(events_rel)
    tail = rel.relative_to("events") if rel.parts and rel.parts[0] == "events" else rel
    return (Path(TABLE) / f"v{FORMAT_VERSION}" / tail).as_posix()
