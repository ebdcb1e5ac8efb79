-- name: derive_tool_calls
-- description: One row per tool call joined to its result (same session, same tool_call_id).
--   status: the adapter's classification of the result (ok / error / user_rejected /
--   interrupted); a result marked ok whose exit code is non-zero is an error, and so is one a
--   later runtime event reports as failed; no result at all is `no_result`. Exit code and reported duration come from the result row, else from
--   runtime tool events (Codex exec_command_end, later write_stdin polls).
--   latency_ms = result row ts - call row ts.
-- Memory: the first call / result row per (session, tool_call_id) is picked with arg_min
-- aggregates (DuckDB spills aggregate state to disk), never with a window over wide rows.
WITH calls AS (
    SELECT session_key, tool_call_id, c.*
    FROM (
        SELECT
            session_key,
            tool_call_id,
            arg_min({
                'agent': agent, 'model': model, 'llm_call_key': llm_call_key, 'tool_name': tool_name,
                'native_type': native_type, 'tool_input': tool_input, 'text_bytes': text_bytes, 'ts': ts,
                'is_sidechain': is_sidechain, 'spawned_session_key': spawned_session_key,
                'source_file': source_file, 'line_no': line_no, 'event_key': event_key
            }, seq) AS c
        FROM events
        WHERE kind = 'tool_call' AND tool_call_id IS NOT NULL
        GROUP BY ALL
    )
),
results AS (
    SELECT session_key, tool_call_id, r.*
    FROM (
        SELECT
            session_key,
            tool_call_id,
            arg_min({
                'ts': ts, 'text': text, 'text_bytes': text_bytes, 'status': status, 'is_error': is_error,
                'exit_code': exit_code, 'duration_ms': duration_ms, 'line_no': line_no,
                'spawned_session_key': spawned_session_key
            }, seq) AS r
        FROM events
        WHERE kind = 'tool_result' AND tool_call_id IS NOT NULL
        GROUP BY ALL
    )
),
meta AS (
    SELECT
        session_key,
        tool_call_id,
        arg_max(exit_code, seq) FILTER (WHERE exit_code IS NOT NULL) AS exit_code,
        max(duration_ms) AS duration_ms,
        arg_max(status, seq) FILTER (WHERE status IS NOT NULL) AS status,
        arg_max(spawned_session_key, seq) FILTER (WHERE spawned_session_key IS NOT NULL) AS spawned_session_key,
        max(ts) AS last_ts
    FROM events
    WHERE kind = 'tool_event' AND tool_call_id IS NOT NULL
    GROUP BY ALL
),
joined AS (
    SELECT
        c.*,
        r.ts AS r_ts,
        r.text AS r_text,
        r.text_bytes AS r_bytes,
        r.status AS r_status,
        r.is_error AS r_is_error,
        r.exit_code AS r_exit,
        r.duration_ms AS r_duration,
        r.line_no AS r_line,
        r.spawned_session_key AS r_spawned,
        m.exit_code AS m_exit,
        m.duration_ms AS m_duration,
        m.status AS m_status,
        m.spawned_session_key AS m_spawned,
        coalesce(r.exit_code, m.exit_code) AS exit_code_final
    FROM calls c
    LEFT JOIN results r USING (session_key, tool_call_id)
    LEFT JOIN meta m USING (session_key, tool_call_id)
),
classified AS (
    SELECT
        *,
        CASE
            WHEN r_status IS NULL AND r_ts IS NULL THEN coalesce(m_status, 'no_result')
            -- a runtime event may report a failure after the result said ok (failed patch apply)
            WHEN coalesce(r_status, 'ok') = 'ok' AND m_status IN ('error', 'user_rejected') THEN m_status
            WHEN coalesce(r_status, 'ok') = 'ok' AND coalesce(exit_code_final, 0) <> 0 THEN 'error'
            ELSE coalesce(r_status, CASE WHEN r_is_error THEN 'error' ELSE 'ok' END)
        END AS status_final
    FROM joined
)
SELECT
    agent || ':' || session_key || ':' || tool_call_id AS tool_call_key,
    session_key,
    agent,
    model,
    llm_call_key,
    tool_call_id,
    tool_name,
    CASE
        WHEN tool_name LIKE 'mcp\_\_%' ESCAPE '\' THEN 'mcp'
        WHEN tool_name IN ('Task', 'Agent', 'spawn_agent') THEN 'subagent'
        WHEN native_type LIKE '%server_tool_use%' OR native_type LIKE '%web_search%' THEN 'server'
        ELSE 'builtin'
    END AS tool_kind,
    CASE WHEN tool_name LIKE 'mcp\_\_%' ESCAPE '\' THEN split_part(tool_name, '__', 2) END AS mcp_server,
    tool_input AS input_json,
    text_bytes AS input_bytes,
    r_text AS output_text,
    r_bytes AS output_bytes,
    status_final AS status,
    status_final IN ('error', 'user_rejected', 'interrupted') AS is_error,
    CASE WHEN status_final IN ('error', 'user_rejected', 'interrupted') THEN left(r_text, 4096) END AS error_text,
    exit_code_final::INTEGER AS exit_code,
    ts AS started_at,
    coalesce(r_ts, m.last_ts) AS ended_at,
    CASE
        WHEN coalesce(r_ts, m.last_ts) IS NULL OR ts IS NULL OR coalesce(r_ts, m.last_ts) < ts THEN NULL
        ELSE epoch_ms(coalesce(r_ts, m.last_ts)) - epoch_ms(ts)
    END::DOUBLE AS latency_ms,
    coalesce(r_duration, m_duration) AS duration_ms_reported,
    CAST(ts AS DATE) AS date,
    strftime(ts, '%Y-%m') AS month,
    coalesce(is_sidechain, false) AS is_sidechain,
    coalesce(r_spawned, m_spawned, classified.spawned_session_key) AS subagent_session_key,
    classified.source_file,
    classified.line_no AS call_line_no,
    r_line::INTEGER AS result_line_no
FROM classified
LEFT JOIN meta m USING (session_key, tool_call_id)
