"""Feedback: labels on sessions, events, tool calls and failure clusters (see ``README.md``).

Public API::

    add(warehouse, "cluster:te-fdd5", "should-install-tool", score=0, note="…")   -> feedback_id
    add_many(warehouse, records) / import_file(warehouse, "labels.csv")           -> AddResult
    load(warehouse, target_type=…, label=…, since=…, until=…)                      -> polars.DataFrame
    labelled_clusters(warehouse, failures=…)      failure clusters with their labels (reports)

The table is stored in the warehouse snapshot as ``feedback`` (a view in
``tracelab.connect``), written under the warehouse lock, and carried over by every ingest.
"""

from tracelab.feedback.api import (
    AddResult,
    FeedbackError,
    add,
    add_many,
    add_row,
    default_author,
    for_targets,
    import_file,
    labelled_clusters,
    load,
)
from tracelab.feedback.table import FEEDBACK, SOURCES, TABLE, TARGET_TYPES, Feedback, feedback_id

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
