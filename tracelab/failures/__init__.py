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

from tracelab.failures.api import (
    CLUSTERS_TABLE,
    MEMBERS_TABLE,
    Failures,
    FailuresError,
    build,
    clusters,
    failure_events,
    load,
    members,
    rebuild_in_snapshot,
    show,
)
from tracelab.failures.behaviour import EPISODE_FAMILIES, EVENT_FAMILIES, FAMILIES
from tracelab.failures.cluster import assign, cluster_id
from tracelab.failures.normalize import RULES_VERSION, key_line, normalize, tool_family

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
