"""Deterministic failure clustering with stable ids (see ``README.md`` in this package).

Public API::

    build(warehouse)                          recompute + commit failure_members / failure_clusters
    rebuild_in_snapshot(wh, snap, batch)      the same inside an ingest commit
    clusters(warehouse, since=…, until=…, agent=…, model=…, tool=…, family=…, merge=False)
    members(warehouse, cluster_id=…, …)       one row per failure event / episode
    show(warehouse, cluster_id)               a cluster with exemplars and the events around them
    load(warehouse)                           members + clusters + sessions of one snapshot
    assign(frame)                             cluster any frame of (text, family, tool_name)
    normalize(text, …) / key_line(text, …)    one message's fingerprint / informative line
"""

from __future__ import annotations

from typing import Any

#: public name -> the module that defines it; imported on first use, so that reading the
#: table schemas (``tracelab.failures.tables``, which every catalog connection does) does not
#: import the clustering stack (polars, the Drain miner)
_EXPORTS = {
    **{n: "tracelab.failures.api" for n in (
        "CLUSTERS_TABLE", "MEMBERS_TABLE", "Failures", "FailuresError", "build", "clusters", "failure_events",
        "load", "members", "rebuild_in_snapshot", "show")},
    **{n: "tracelab.failures.behaviour" for n in ("EPISODE_FAMILIES", "EVENT_FAMILIES", "FAMILIES")},
    **{n: "tracelab.failures.cluster" for n in ("assign", "cluster_id")},
    **{n: "tracelab.failures.normalize" for n in ("RULES_VERSION", "key_line", "normalize", "tool_family")},
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tracelab.failures' has no attribute {name!r}")


__all__ = [
    "CLUSTERS_TABLE",
    "MEMBERS_TABLE",
    "EPISODE_FAMILIES",
    "EVENT_FAMILIES",
    "FAMILIES",
    "RULES_VERSION",
    "Failures",
    "FailuresError",
    "assign",
    "build",
    "cluster_id",
    "clusters",
    "failure_events",
    "key_line",
    "load",
    "members",
    "normalize",
    "rebuild_in_snapshot",
    "show",
    "tool_family",
]
