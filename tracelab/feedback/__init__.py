"""Feedback: labels on sessions, events, tool calls and failure clusters (see ``README.md``).

Public API::

    add(warehouse, "cluster:te-fdd5", "should-install-tool", score=0, note="…")   -> feedback_id
    add_many(warehouse, records) / import_file(warehouse, "labels.csv")           -> AddResult
    load(warehouse, target_type=…, label=…, since=…, until=…)                      -> polars.DataFrame
    labelled_clusters(warehouse, failures=…)      failure clusters with their labels (reports)

The table is stored in the warehouse snapshot as ``feedback`` (a view in
``tracelab.connect``), written under the warehouse lock, and carried over by every ingest.
"""

from __future__ import annotations

from typing import Any

#: public name -> the module that defines it, imported on first use: every catalog connection
#: reads the table schema (``tracelab.feedback.table``) and must not import polars for it
_EXPORTS = {
    **{n: "tracelab.feedback.api" for n in (
        "AddResult", "FeedbackError", "add", "add_many", "add_row", "default_author", "for_targets", "import_file",
        "labelled_clusters", "load")},
    **{n: "tracelab.feedback.table" for n in ("FEEDBACK", "SOURCES", "TABLE", "TARGET_TYPES", "Feedback", "feedback_id")},
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tracelab.feedback' has no attribute {name!r}")


__all__ = [
    "FEEDBACK",
    "SOURCES",
    "TABLE",
    "TARGET_TYPES",
    "AddResult",
    "Feedback",
    "FeedbackError",
    "add",
    "add_many",
    "add_row",
    "default_author",
    "feedback_id",
    "for_targets",
    "import_file",
    "labelled_clusters",
    "load",
]
