"""Schemas of the two failure tables tracelab persists in the warehouse snapshot.

``failure_members`` — one row per (failure event or episode, cluster). Event families give
each failure event exactly one row (``role = 'event'``); an episode (loop, retry storm,
context exhaustion, abandoned session) adds a row with ``role = 'episode'`` located at the
event it starts at.

``failure_clusters`` — one row per cluster, all time, with its template, counts, spread and
exemplars. Filtered views (``tracelab failures --since/--agent/…``) are recomputed from
``failure_members``.
"""

from __future__ import annotations

import pyarrow as pa

from tracelab.schema import FAILURE_CLUSTERS as CLUSTERS
from tracelab.schema import FAILURE_MEMBERS as MEMBERS

SCHEMAS = {"failure_members": MEMBERS, "failure_clusters": CLUSTERS}


def cast(table: pa.Table, name: str) -> pa.Table:
    """Cast to the declared schema (column order and types); missing columns become nulls."""
    schema = SCHEMAS[name]
    cols = []
    for f in schema:
        if f.name in table.column_names:
            c = table.column(f.name)
            cols.append(c.cast(f.type) if c.type != f.type else c)
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=schema)
