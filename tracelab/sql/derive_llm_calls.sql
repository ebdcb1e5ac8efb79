-- name: derive_llm_calls
-- description: One row per model API response, built from the `events` view.
--   Rows of one response share `llm_call_key` (Claude: message.id, split over several lines;
--   Codex: one advancing token_count; Pi: one assistant entry). Usage comes from the LAST row
--   of the group (Claude's early split lines may carry streaming snapshots); rows that came
--   from inline `agent_progress` streaming lose to rows from a real transcript file.
--   started_at = the agent-reported request start (Pi message.timestamp, Codex turn start for
--   the first request) or else the last input event (user prompt, tool result, injected
--   context) of the same session before the response; ended_at = the last row of the group.
--   project / is_subagent / root_session_key: the session's (session_dims, derive_session_dims.sql).

-- The last row is picked by its event_key inside the one aggregate over the response rows (an
-- arg_max over a sort key equal to the old window order: non-progress rows first, then ts
-- descending with NULLs last, seq descending, source_file descending); only the winning rows
-- are then read with their usage columns. No window sorts the (many) response rows.
WITH grp AS (
    SELECT
        llm_call_key,
        min(ts) AS first_ts,
        max(ts) AS last_ts,
        count(*) AS n_blocks,
        count(*) FILTER (WHERE kind = 'tool_call') AS n_tool_calls,
        bool_or(coalesce(is_synthetic, false)) AS is_synthetic,
        bool_or(kind = 'api_error' OR coalesce(is_error, false)) AS is_error,
        min(request_ts) AS request_ts,
        arg_max(event_key, {
            'not_progress': CASE WHEN native_type LIKE 'progress/agent_progress%' THEN 1 WHEN native_type IS NULL THEN 0 ELSE 2 END,
            'ts': coalesce(ts, '-infinity'::TIMESTAMPTZ),
            'seq': coalesce(seq, -9223372036854775808),
            'source_file': coalesce(source_file, '')
        }) AS last_key
    FROM events
    WHERE llm_call_key IS NOT NULL
    GROUP BY llm_call_key
),
last_row AS (
    SELECT
        e.llm_call_key, e.session_key, e.agent, e.model, e.provider, e.message_id, e.request_id, e.input_tokens,
        e.output_tokens, e.cache_read_tokens, e.cache_write_tokens, e.reasoning_tokens, e.stop_reason, e.speed,
        e.is_sidechain, e.cost_usd, e.source_file, e.line_no
    FROM events e
    JOIN grp g ON g.last_key = e.event_key AND g.llm_call_key = e.llm_call_key
    WHERE e.llm_call_key IS NOT NULL
),
inputs AS (
    SELECT session_key, ts
    FROM events
    WHERE kind IN ('user_prompt', 'tool_result', 'user_context', 'compaction_summary') AND ts IS NOT NULL
),
joined AS (
    SELECT g.*, l.session_key AS sk
    FROM grp g JOIN last_row l USING (llm_call_key)
),
with_input AS (
    SELECT j.llm_call_key, i.ts AS input_ts
    FROM joined j
    ASOF LEFT JOIN inputs i ON i.session_key = j.sk AND i.ts < j.first_ts
)
SELECT
    l.llm_call_key,
    l.session_key,
    l.agent,
    l.model,
    l.provider,
    g.last_ts AS ts,
    CAST(g.last_ts AS DATE) AS date,
    strftime(g.last_ts, '%Y-%m') AS month,
    coalesce(g.request_ts, w.input_ts) AS started_at,
    g.last_ts AS ended_at,
    CASE
        WHEN coalesce(g.request_ts, w.input_ts) IS NULL OR g.last_ts IS NULL THEN NULL
        WHEN g.last_ts < coalesce(g.request_ts, w.input_ts) THEN NULL
        ELSE epoch_ms(g.last_ts) - epoch_ms(coalesce(g.request_ts, w.input_ts))
    END::DOUBLE AS latency_ms,
    l.message_id,
    l.request_id,
    coalesce(l.input_tokens, 0) AS input_tokens,
    coalesce(l.output_tokens, 0) AS output_tokens,
    coalesce(l.cache_read_tokens, 0) AS cache_read_tokens,
    coalesce(l.cache_write_tokens, 0) AS cache_write_tokens,
    coalesce(l.reasoning_tokens, 0) AS reasoning_tokens,
    coalesce(l.input_tokens, 0) + coalesce(l.output_tokens, 0) + coalesce(l.cache_read_tokens, 0) + coalesce(l.cache_write_tokens, 0) AS total_tokens,
    l.stop_reason,
    l.speed,
    g.n_blocks::INTEGER AS n_blocks,
    g.n_tool_calls::INTEGER AS n_tool_calls,
    g.is_synthetic,
    g.is_error,
    coalesce(l.is_sidechain, false) AS is_sidechain,
    l.cost_usd AS cost_usd_reported,
    l.source_file,
    l.line_no,
    d.project,
    coalesce(d.is_subagent, false) AS is_subagent,
    coalesce(d.root_session_key, l.session_key) AS root_session_key
FROM grp g
JOIN last_row l USING (llm_call_key)
LEFT JOIN with_input w USING (llm_call_key)
LEFT JOIN session_dims d ON d.session_key = l.session_key
