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

TS = pa.timestamp("ms", tz="UTC")
STR = pa.string()

MEMBERS = pa.schema(
    [
        ("member_key", STR),
        ("role", STR),
        ("family", STR),
        ("cluster_id", STR),
        ("event_key", STR),
        ("tool_call_key", STR),
        ("tool_call_id", STR),
        ("session_key", STR),
        ("session_id", STR),
        ("agent", STR),
        ("model", STR),
        ("tool_name", STR),
        ("tool_family", STR),
        ("ts", TS),
        ("week", pa.date32()),
        ("source_file", STR),
        ("line_no", pa.int32()),
        ("subkind", STR),
        ("fingerprint", STR),
        ("template", STR),
        ("excerpt", STR),
        ("run_length", pa.int32()),
        ("related_event_key", STR),
    ],
    metadata={"tracelab_table": "failure_members"},
)

EXEMPLAR = pa.struct(
    [
        ("session_id", STR),
        ("session_key", STR),
        ("source_file", STR),
        ("line_no", pa.int32()),
        ("event_key", STR),
        ("tool_call_id", STR),
    ]
)

CLUSTERS = pa.schema(
    [
        ("cluster_id", STR),
        ("family", STR),
        ("role", STR),
        ("tool_family", STR),
        ("name", STR),
        ("template", STR),
        ("n_events", pa.int64()),
        ("n_sessions", pa.int64()),
        ("share_sessions", pa.float64()),
        ("agents", pa.list_(STR)),
        ("models", pa.list_(STR)),
        ("tools", pa.list_(STR)),
        ("first_seen", TS),
        ("last_seen", TS),
        ("weekly", pa.list_(pa.struct([("week", pa.date32()), ("n", pa.int64())]))),
        ("exemplars", pa.list_(EXEMPLAR)),
        ("n_fingerprints", pa.int32()),
        ("rules_version", STR),
    ],
    metadata={"tracelab_table": "failure_clusters"},
)

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
