"""The canonical warehouse schema, declared once.

Every table tracelab writes is cast to the pyarrow schema declared here (never inferred), and
``data/README.md`` documents every column; ``tests/test_schema_doc.py`` fails when the two disagree.
The columns are declared with the pyarrow-free types of :mod:`tracelab.schema_types`
(:data:`SCHEMAS`: names, columns, DuckDB types), and the Arrow schemas (``EVENTS``, ``TABLES`` …)
are built from them on first use, so opening a warehouse does not import pyarrow.

Bump :data:`SCHEMA_VERSION` whenever a column is added, removed, renamed or changes meaning; the
manifest records the version each file was parsed with, and an ingest into a warehouse written
with another version re-parses everything.

Conventions shared by all tables:

* timestamps are ``timestamp[ms, tz=UTC]``; ``date`` is the UTC calendar day of ``ts``;
  ``month`` (``YYYY-MM``) is the Hive partition key of the partitioned tables;
* token columns follow one meaning for every agent: ``input_tokens`` is *uncached* input,
  ``cache_read_tokens`` / ``cache_write_tokens`` are separate, ``output_tokens`` includes
  reasoning, with ``reasoning_tokens`` beside it (a subset of output);
* ``*_key`` columns are tracelab surrogate keys (strings, unique in their table); native ids
  keep their native names (``uuid``, ``message_id``, ``tool_call_id`` …).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracelab import schema_types as ct

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

SCHEMA_VERSION = 1

TS = ct.timestamp("ms", tz="UTC")
STR = ct.string()
I64 = ct.int64()
I32 = ct.int32()
F64 = ct.float64()
BOOL = ct.bool_()

#: Event kinds, the canonical vocabulary of ``events.kind``.
EVENT_KINDS = (
    "session_start",  # header / session_meta / first line identity
    "user_prompt",  # a message typed by the human
    "user_context",  # injected user-role content: meta caveats, command output, env context, skills
    "assistant_text",  # model text output
    "thinking",  # model reasoning / thinking block (possibly redacted/encrypted)
    "tool_call",  # model requests a tool
    "tool_result",  # the result of a tool call
    "tool_event",  # runtime record about a tool call (exec end, patch apply, progress)
    "compaction",  # the context was summarised (compact boundary, compacted, compaction entry)
    "microcompaction",  # old tool results were cleared from context
    "compaction_summary",  # the summary text injected after a compaction
    "api_error",  # the model API failed (error stand-in message, retry line, error event)
    "interrupt",  # the user interrupted the agent
    "model_change",  # the model or thinking level changed
    "turn_start",  # a turn started (Codex task_started)
    "turn_end",  # a turn ended (turn_duration, task_complete, turn_aborted)
    "token_usage",  # a usage report that is not attached to content (Codex token_count)
    "hook",  # hook execution records and hook summaries
    "summary",  # session title / branch summary
    "image",  # an image block (kept by size, data not stored)
    "system",  # other system/informational lines
    "bookkeeping",  # snapshots, queue operations, mode/state records, titles, links
    "unknown",  # a line of a type tracelab does not know; raw fields kept in ``extra``
)

#: ``tool_calls.status`` vocabulary.
TOOL_STATUSES = ("ok", "error", "user_rejected", "interrupted", "no_result")


def _schema(fields: list[tuple[str, ct.ColumnType]], table: str) -> ct.TableSchema:
    return ct.TableSchema(table, tuple(fields), (("tracelab_table", table), ("tracelab_schema_version", str(SCHEMA_VERSION))))


def _analysis_schema(fields: list[tuple[str, ct.ColumnType]], table: str) -> ct.TableSchema:
    return ct.TableSchema(table, tuple(fields), (("tracelab_table", table),))


_EVENTS = _schema(
    [
        ("event_key", STR),
        ("session_key", STR),
        ("agent", STR),
        ("ts", TS),
        ("date", ct.date32()),
        ("month", STR),
        ("source_file", STR),
        ("line_no", I32),
        ("block_index", I32),
        ("seq", I64),
        ("kind", STR),
        ("native_type", STR),
        ("role", STR),
        ("uuid", STR),
        ("parent_uuid", STR),
        ("line_key", STR),
        ("session_id", STR),
        ("subagent_id", STR),
        ("is_sidechain", BOOL),
        ("is_meta", BOOL),
        ("is_synthetic", BOOL),
        ("branch", STR),
        ("agent_version", STR),
        ("cwd", STR),
        ("git_branch", STR),
        ("model", STR),
        ("provider", STR),
        ("message_id", STR),
        ("request_id", STR),
        ("llm_call_key", STR),
        ("tool_call_id", STR),
        ("tool_name", STR),
        ("tool_input", STR),
        ("text", STR),
        ("text_bytes", I64),
        ("is_error", BOOL),
        ("status", STR),
        ("exit_code", I32),
        ("duration_ms", F64),
        ("input_tokens", I64),
        ("output_tokens", I64),
        ("cache_read_tokens", I64),
        ("cache_write_tokens", I64),
        ("reasoning_tokens", I64),
        ("stop_reason", STR),
        ("speed", STR),
        ("cost_usd", F64),
        ("request_ts", TS),
        ("parent_tool_call_id", STR),
        ("parent_session_key", STR),
        ("spawned_session_key", STR),
        ("forked_from", STR),
        ("title", STR),
        ("extra", STR),
        ("line_bytes", I64),
    ],
    "events",
)

_LLM_CALLS = _schema(
    [
        ("llm_call_key", STR),
        ("session_key", STR),
        ("agent", STR),
        ("model", STR),
        ("provider", STR),
        ("ts", TS),
        ("date", ct.date32()),
        ("month", STR),
        ("started_at", TS),
        ("ended_at", TS),
        ("latency_ms", F64),
        ("message_id", STR),
        ("request_id", STR),
        ("input_tokens", I64),
        ("output_tokens", I64),
        ("cache_read_tokens", I64),
        ("cache_write_tokens", I64),
        ("reasoning_tokens", I64),
        ("total_tokens", I64),
        ("stop_reason", STR),
        ("speed", STR),
        ("n_blocks", I32),
        ("n_tool_calls", I32),
        ("is_synthetic", BOOL),
        ("is_error", BOOL),
        ("is_sidechain", BOOL),
        ("cost_usd_reported", F64),
        ("source_file", STR),
        ("line_no", I32),
        # the session's dimensions, so call queries filter without joining sessions
        ("project", STR),
        ("is_subagent", BOOL),
        ("root_session_key", STR),
    ],
    "llm_calls",
)

_TOOL_CALLS = _schema(
    [
        ("tool_call_key", STR),
        ("session_key", STR),
        ("agent", STR),
        ("model", STR),
        ("llm_call_key", STR),
        ("tool_call_id", STR),
        ("tool_name", STR),
        ("tool_kind", STR),
        ("mcp_server", STR),
        ("input_json", STR),
        ("input_bytes", I64),
        ("output_text", STR),
        ("output_bytes", I64),
        ("status", STR),
        ("is_error", BOOL),
        ("error_text", STR),
        ("error_message", STR),
        ("exit_code", I32),
        ("started_at", TS),
        ("ended_at", TS),
        ("latency_ms", F64),
        ("duration_ms_reported", F64),
        ("date", ct.date32()),
        ("month", STR),
        ("is_sidechain", BOOL),
        ("subagent_session_key", STR),
        ("source_file", STR),
        ("call_line_no", I32),
        ("result_line_no", I32),
        # per-call sequence facts (session call order: started_at, call_line_no, tool_call_id)
        ("input_hash", ct.uint64()),
        ("call_no", I32),
        ("next_same_tool_at", TS),
        ("next_same_tool_status", STR),
        ("next_same_tool_same_input", BOOL),
        ("repeat_run_no", I32),
        ("run_input_preview", STR),
        # the session's dimensions, so call queries filter without joining sessions
        ("project", STR),
        ("is_subagent", BOOL),
    ],
    "tool_calls",
)

#: One human turn of a session (``sessions.turns``): a prompt and the agent activity until the next.
_TURN = ct.struct(
    [
        ("turn_no", I64),
        ("started_at", TS),
        ("ended_at", TS),
        ("model", STR),
        ("n_tool_calls", I64),
        ("interrupted", BOOL),
        ("duration_ms", F64),
        ("human_wait_ms", F64),
    ]
)

_SESSIONS = _schema(
    [
        ("session_key", STR),
        ("agent", STR),
        ("session_id", STR),
        ("subagent_id", STR),
        ("is_subagent", BOOL),
        ("is_warmup", BOOL),
        ("parent_session_key", STR),
        ("parent_tool_call_id", STR),
        ("forked_from", STR),
        ("agent_version", STR),
        ("cwd", STR),
        ("project", STR),
        ("project_root", STR),
        ("worktree", STR),
        ("repository", STR),
        ("git_branch", STR),
        ("title", STR),
        ("started_at", TS),
        ("ended_at", TS),
        ("duration_s", F64),
        ("date", ct.date32()),
        ("models", ct.list_(STR)),
        ("primary_model", STR),
        ("n_events", I64),
        ("n_user_prompts", I64),
        ("n_llm_calls", I64),
        ("n_tool_calls", I64),
        ("n_tool_errors", I64),
        ("n_user_rejections", I64),
        ("n_interrupts", I64),
        ("n_api_errors", I64),
        ("n_compactions", I64),
        ("n_subagents", I64),
        ("input_tokens", I64),
        ("output_tokens", I64),
        ("cache_read_tokens", I64),
        ("cache_write_tokens", I64),
        ("reasoning_tokens", I64),
        ("source_files", ct.list_(STR)),
        ("source", STR),
        # outcomes and turns, computed once at derive time
        ("n_interrupted_tools", I64),
        ("n_loops", I64),
        ("last_event_kind", STR),
        ("is_abandoned", BOOL),
        ("turns", ct.list_(_TURN)),
    ],
    "sessions",
)

_REJECTS = _schema(
    [
        ("source_file", STR),
        ("line_no", I32),
        ("byte_offset", I64),
        ("agent", STR),
        ("reason", STR),
        ("raw_text", STR),
        ("raw_bytes", I64),
    ],
    "rejects",
)

_FILES = _schema(
    [
        ("path", STR),
        ("agent", STR),
        ("size_bytes", I64),
        ("mtime_ns", I64),
        ("fingerprint", STR),
        ("bytes_ingested", I64),
        ("lines_total", I64),
        ("lines_ingested", I64),
        ("lines_duplicate", I64),
        ("lines_rejected", I64),
        ("parser_version", STR),
        ("schema_version", I32),
        ("redaction_policy", STR),
        ("parser_state", STR),
        ("ingested_at", TS),
        ("session_keys", ct.list_(STR)),
        ("status", STR),
        ("reason", STR),
    ],
    "files",
)

TABLE_SCHEMAS: dict[str, ct.TableSchema] = {
    "sessions": _SESSIONS,
    "events": _EVENTS,
    "llm_calls": _LLM_CALLS,
    "tool_calls": _TOOL_CALLS,
    "rejects": _REJECTS,
    "files": _FILES,
}

# ---------------------------------------------------------------- analysis tables
# Written by failure clustering (``tracelab.failures``) and labelling (``tracelab.feedback``);
# declared here, beside the core tables, so that a catalog connection can create their views
# without importing those packages (and the polars stack behind them).

_FAILURE_MEMBERS = _analysis_schema(
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
        ("week", ct.date32()),
        ("source_file", STR),
        ("line_no", ct.int32()),
        ("subkind", STR),
        ("fingerprint", STR),
        ("template", STR),
        ("excerpt", STR),
        ("run_length", ct.int32()),
        ("related_event_key", STR),
    ],
    "failure_members",
)

_FAILURE_EXEMPLAR = ct.struct(
    [
        ("session_id", STR),
        ("session_key", STR),
        ("source_file", STR),
        ("line_no", ct.int32()),
        ("event_key", STR),
        ("tool_call_id", STR),
    ]
)

_FAILURE_CLUSTERS = _analysis_schema(
    [
        ("cluster_id", STR),
        ("family", STR),
        ("role", STR),
        ("tool_family", STR),
        ("name", STR),
        ("template", STR),
        ("n_events", ct.int64()),
        ("n_sessions", ct.int64()),
        ("share_sessions", ct.float64()),
        ("agents", ct.list_(STR)),
        ("models", ct.list_(STR)),
        ("tools", ct.list_(STR)),
        ("first_seen", TS),
        ("last_seen", TS),
        ("weekly", ct.list_(ct.struct([("week", ct.date32()), ("n", ct.int64())]))),
        ("exemplars", ct.list_(_FAILURE_EXEMPLAR)),
        ("n_fingerprints", ct.int32()),
        ("rules_version", STR),
    ],
    "failure_clusters",
)

_FEEDBACK = _analysis_schema(
    [
        ("feedback_id", STR),
        ("target_type", STR),
        ("target_key", STR),
        ("label", STR),
        ("score", ct.float64()),
        ("note", STR),
        ("author", STR),
        ("source", STR),
        ("created_at", TS),
    ],
    "feedback",
)

ANALYSIS_TABLE_SCHEMAS: dict[str, ct.TableSchema] = {
    "failure_members": _FAILURE_MEMBERS,
    "failure_clusters": _FAILURE_CLUSTERS,
    "feedback": _FEEDBACK,
}

#: Tables written as Hive partitions ``month=YYYY-MM`` so date-bounded queries prune files.
PARTITIONED = ("events", "llm_calls", "tool_calls")

#: Caps applied at ingest. Full byte counts are kept beside every capped field.
TEXT_CAP = 32 * 1024
TOOL_INPUT_CAP = 32 * 1024
RAW_REJECT_CAP = 4 * 1024


#: Every declared table (core, then analysis): names, columns and DuckDB types without pyarrow.
SCHEMAS: dict[str, ct.TableSchema] = {**TABLE_SCHEMAS, **ANALYSIS_TABLE_SCHEMAS}
TABLE_NAMES: tuple[str, ...] = tuple(TABLE_SCHEMAS)
ANALYSIS_TABLE_NAMES: tuple[str, ...] = tuple(ANALYSIS_TABLE_SCHEMAS)

# ---------------------------------------------------------------- the Arrow schemas
# Built from the declarations above on first use (PEP 562), so that reading a warehouse (the
# command line opens one on every command) does not import pyarrow: ``S.EVENTS``, ``S.TABLES``
# … are pyarrow objects, the same object on every access.

if TYPE_CHECKING:  # pragma: no cover
    EVENTS: pa.Schema
    LLM_CALLS: pa.Schema
    TOOL_CALLS: pa.Schema
    SESSIONS: pa.Schema
    REJECTS: pa.Schema
    FILES: pa.Schema
    FAILURE_MEMBERS: pa.Schema
    FAILURE_CLUSTERS: pa.Schema
    FEEDBACK: pa.Schema
    TURN: pa.DataType
    FAILURE_EXEMPLAR: pa.DataType
    TABLES: dict[str, pa.Schema]
    ANALYSIS_TABLES: dict[str, pa.Schema]

_ARROW_SCHEMAS = {n.upper(): s for n, s in SCHEMAS.items()}
_ARROW_TYPES = {"TURN": _TURN, "FAILURE_EXEMPLAR": _FAILURE_EXEMPLAR}


def __getattr__(name: str) -> Any:
    if name in _ARROW_SCHEMAS:
        value: Any = _ARROW_SCHEMAS[name].arrow()
    elif name in _ARROW_TYPES:
        value = _ARROW_TYPES[name].arrow()
    elif name == "TABLES":
        value = {n: s.arrow() for n, s in TABLE_SCHEMAS.items()}
    elif name == "ANALYSIS_TABLES":
        value = {n: s.arrow() for n, s in ANALYSIS_TABLE_SCHEMAS.items()}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def cast_table(table: pa.Table, name: str) -> pa.Table:
    """Cast ``table`` to the declared schema of ``name`` (column order and types), adding
    missing columns as nulls. Raises if a column cannot be cast."""
    import pyarrow as pa  # callers hold Arrow data already: pyarrow is loaded

    schema = TABLE_SCHEMAS[name].arrow()
    cols = []
    for field in schema:
        if field.name in table.column_names:
            col = table.column(field.name)
            if col.type != field.type:
                col = col.cast(field.type)
            cols.append(col)
        else:
            cols.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(cols, schema=schema)
