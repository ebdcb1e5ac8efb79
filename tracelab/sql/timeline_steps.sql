-- name: timeline_steps
-- description: The timeline rows of some sessions, in order: one row per step (a prompt,
--   injected context, model text, thinking block, tool call joined to its result, compaction,
--   API error, interrupt, hook, model change, image, system or unknown line). A tool call
--   and its result are one step, placed at the call (at the result when the call is not in
--   the trace). Each row carries the LLM call that issued it, the tool call's outcome and the
--   failure clusters it belongs to. Rows without a time take the time of the previous line
--   of their file (`ts_order`) so that they stay in file order. Reads the rows of the sessions
--   asked for, which tracelab.session.timeline.gather copied into the temp tables
--   tl_timeline_events, tl_timeline_tool_calls, tl_timeline_llm_calls and
--   tl_timeline_failure_members (one equality scan per session and table: DuckDB pushes an
--   equality into the Parquet scans, a list or IN test it does not).
--   `tracelab session` computes the same rows in Python (tracelab/session/steps.py, which
--   tests/test_session_steps.py checks against this query on every sample session).
-- returns session_key VARCHAR: session
-- returns event_key VARCHAR: the step's event (the call for a tool step)
-- returns ts TIMESTAMP WITH TIME ZONE: the event's time
-- returns ts_order TIMESTAMP WITH TIME ZONE: time used for ordering (ts, else the previous line's)
-- returns source_file VARCHAR: file
-- returns line_no INTEGER: line in the file
-- returns seq BIGINT: order within the file
-- returns kind VARCHAR: event kind (tool_call for a tool step, tool_result for a result without its call)
-- returns native_type VARCHAR: the agent's own type
-- returns is_meta BOOLEAN: injected meta content
-- returns branch VARCHAR: Pi branch (active or abandoned)
-- returns text VARCHAR: the event's text (capped at 32 KiB)
-- returns text_bytes BIGINT: full size of the text
-- returns is_error BOOLEAN: the agent flagged the item as an error
-- returns tool_call_id VARCHAR: tool call id
-- returns tool_name VARCHAR: tool name
-- returns tool_kind VARCHAR: builtin, mcp, subagent, server
-- returns input_json VARCHAR: tool input (capped)
-- returns input_bytes BIGINT: full size of the tool input
-- returns output_text VARCHAR: tool result (capped)
-- returns output_bytes BIGINT: full size of the tool result
-- returns status VARCHAR: tool status: ok, error, user_rejected, interrupted, no_result
-- returns exit_code INTEGER: exit code
-- returns tool_latency_ms DOUBLE: call -> result, ms
-- returns subagent_session_key VARCHAR: the subagent a Task/Agent/spawn call started
-- returns tool_call_key VARCHAR: tool_calls key
-- returns llm_call_key VARCHAR: the response that holds the step
-- returns model VARCHAR: model of that response
-- returns is_synthetic BOOLEAN: that response is a local stand-in
-- returns call_input_tokens BIGINT: its uncached input
-- returns call_output_tokens BIGINT: its output
-- returns call_cache_read_tokens BIGINT: its cache reads
-- returns call_cache_write_tokens BIGINT: its cache writes
-- returns call_latency_ms DOUBLE: its latency, ms
-- returns clusters VARCHAR[]: failure clusters of the step, as family:cluster_id
WITH ev AS (
    SELECT e.session_key, e.event_key, e.ts, e.source_file, e.line_no, e.seq, e.kind, e.native_type, e.is_meta, e.branch,
           e.text, e.text_bytes, e.is_error, e.tool_call_id, e.tool_name, e.tool_input, e.status, e.exit_code,
           e.llm_call_key, e.model, e.spawned_session_key,
           last_value(e.ts IGNORE NULLS) OVER (PARTITION BY e.session_key, e.source_file ORDER BY e.seq ROWS UNBOUNDED PRECEDING) AS ts_fill
    FROM tl_timeline_events e
    WHERE tl_is_step_kind(e.kind)
),
steps AS (
    SELECT * FROM ev
    -- one step per tool call id: the call, else the first result
    QUALIFY tool_call_id IS NULL OR kind NOT IN ('tool_call', 'tool_result')
        OR row_number() OVER (PARTITION BY session_key, tool_call_id, kind IN ('tool_call', 'tool_result')
                              ORDER BY kind = 'tool_call' DESC, ts_fill NULLS FIRST, source_file, seq) = 1
),
tc AS (
    SELECT t.session_key, t.tool_call_id, t.tool_call_key, t.tool_kind, t.input_json, t.input_bytes, t.output_text, t.output_bytes,
           t.status, t.exit_code, t.latency_ms, t.subagent_session_key, t.llm_call_key
    FROM tl_timeline_tool_calls t
),
lc AS (
    SELECT l.llm_call_key, l.model, l.is_synthetic, l.input_tokens, l.output_tokens, l.cache_read_tokens, l.cache_write_tokens, l.latency_ms
    FROM tl_timeline_llm_calls l
),
fm AS (
    SELECT event_key, tool_call_key, list(DISTINCT family || ':' || cluster_id ORDER BY family || ':' || cluster_id) AS clusters
    FROM tl_timeline_failure_members
    GROUP BY ALL
)
SELECT s.session_key, s.event_key, s.ts, coalesce(s.ts_fill, s.ts) AS ts_order, s.source_file, s.line_no, s.seq, s.kind, s.native_type,
       s.is_meta, s.branch, s.text, s.text_bytes, s.is_error, s.tool_call_id, s.tool_name, tc.tool_kind,
       coalesce(tc.input_json, s.tool_input) AS input_json, tc.input_bytes,
       coalesce(tc.output_text, CASE WHEN s.kind = 'tool_result' THEN s.text END) AS output_text, tc.output_bytes,
       coalesce(tc.status, s.status) AS status, coalesce(tc.exit_code, s.exit_code) AS exit_code, tc.latency_ms AS tool_latency_ms,
       coalesce(tc.subagent_session_key, s.spawned_session_key) AS subagent_session_key, tc.tool_call_key,
       coalesce(s.llm_call_key, tc.llm_call_key) AS llm_call_key, coalesce(lc.model, s.model) AS model, lc.is_synthetic,
       lc.input_tokens AS call_input_tokens, lc.output_tokens AS call_output_tokens,
       lc.cache_read_tokens AS call_cache_read_tokens, lc.cache_write_tokens AS call_cache_write_tokens, lc.latency_ms AS call_latency_ms,
       list_distinct(flatten([coalesce(fe.clusters, []), coalesce(ft.clusters, [])])) AS clusters
FROM steps s
LEFT JOIN tc ON tc.session_key = s.session_key AND tc.tool_call_id = s.tool_call_id AND s.kind IN ('tool_call', 'tool_result')
LEFT JOIN lc ON lc.llm_call_key = coalesce(s.llm_call_key, tc.llm_call_key)
LEFT JOIN fm fe ON fe.event_key = s.event_key AND fe.tool_call_key IS NULL
LEFT JOIN fm ft ON ft.tool_call_key = tc.tool_call_key
ORDER BY s.session_key, ts_order NULLS FIRST, s.source_file, s.seq
