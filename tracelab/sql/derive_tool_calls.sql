-- name: derive_tool_calls
-- description: One row per tool call joined to its result (same session, same tool_call_id).
--   status: the adapter's classification of the result (ok / error / user_rejected /
--   interrupted); a result marked ok whose exit code is non-zero is an error, and so is one a
--   later runtime event reports as failed; no result at all is `no_result`. Exit code and reported duration come from the result row, else from
--   runtime tool events (Codex exec_command_end, later write_stdin polls).
--   latency_ms = result row ts - call row ts.
--   Per-call sequence columns, computed once here so queries need no window over every call
--   (session call order = started_at, call_line_no, tool_call_id; NULL times last):
--   input_hash = hash(tool_name, input_json); call_no = position in that order;
--   next_same_tool_* = the next call of the same tool in the session (tool_retries);
--   repeat_run_no = call_no of the first call of the run of identical consecutive calls
--   (same tool and input hash) the call belongs to, NULL when it repeats neither neighbour;
--   run_input_preview = the first 200 characters of the input of such a call (so listing loops
--   never reads input_json). project / is_subagent: the session's (session_dims).
--   error_message = tl_error_template(error_text) (tracelab/sql/derive_macros.sql) of a call
--   that is not ok.

-- Memory and speed: the first call / result row per (session, tool_call_id) is picked by its
-- event_key in one narrow aggregate over the tool rows; everything the windows and the
-- status need is joined in by that key from narrow projections; the wide texts (input JSON,
-- result text) are read once at the end, joined by event_key. No aggregate or window ever
-- carries a wide row.
WITH pick AS (
    SELECT
        session_key,
        tool_call_id,
        arg_min(event_key, seq) FILTER (WHERE kind = 'tool_call') AS call_key,
        arg_min(event_key, seq) FILTER (WHERE kind = 'tool_result') AS result_key,
        arg_max(exit_code, seq) FILTER (WHERE kind = 'tool_event' AND exit_code IS NOT NULL) AS m_exit,
        max(duration_ms) FILTER (WHERE kind = 'tool_event') AS m_duration,
        arg_max(status, seq) FILTER (WHERE kind = 'tool_event' AND status IS NOT NULL) AS m_status,
        arg_max(spawned_session_key, seq) FILTER (WHERE kind = 'tool_event' AND spawned_session_key IS NOT NULL) AS m_spawned,
        max(ts) FILTER (WHERE kind = 'tool_event') AS m_last_ts
    FROM events
    WHERE kind IN ('tool_call', 'tool_result', 'tool_event') AND tool_call_id IS NOT NULL
    GROUP BY ALL
    HAVING call_key IS NOT NULL
),
narrow AS (
    SELECT
        p.*,
        c.agent, c.model, c.llm_call_key, c.tool_name, c.native_type, c.ts, c.is_sidechain,
        c.spawned_session_key AS c_spawned, c.source_file, c.line_no,
        hash(c.tool_name, c.tool_input) AS input_hash,
        r.ts AS r_ts,
        r.status AS r_status,
        r.is_error AS r_is_error,
        r.exit_code AS r_exit,
        r.duration_ms AS r_duration,
        r.line_no AS r_line,
        r.spawned_session_key AS r_spawned,
        r.event_key IS NOT NULL AS has_result,
        coalesce(r.exit_code, p.m_exit) AS exit_code_final
    FROM pick p
    JOIN (
        SELECT event_key, session_key, agent, model, llm_call_key, tool_name, native_type, ts, is_sidechain,
               spawned_session_key, source_file, line_no, tool_input
        FROM events WHERE kind = 'tool_call' AND tool_call_id IS NOT NULL
    ) c ON c.event_key = p.call_key AND c.session_key = p.session_key
    LEFT JOIN (
        SELECT event_key, session_key, ts, status, is_error, exit_code, duration_ms, line_no, spawned_session_key
        FROM events WHERE kind = 'tool_result' AND tool_call_id IS NOT NULL
    ) r ON r.event_key = p.result_key AND r.session_key = p.session_key
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
    FROM narrow
),
ordered AS (
    SELECT
        *,
        row_number() OVER s AS call_no,
        coalesce(input_hash = lag(input_hash) OVER s, false) AS same_prev,
        coalesce(input_hash = lead(input_hash) OVER s, false) AS same_next,
        lead(ts) OVER t AS next_same_tool_at,
        lead(status_final) OVER t AS next_same_tool_status,
        lead(input_hash) OVER t = input_hash AS next_same_tool_same_input
    FROM classified
    WINDOW s AS (PARTITION BY session_key ORDER BY ts, line_no, tool_call_id),
           t AS (PARTITION BY session_key, tool_name ORDER BY ts, line_no, tool_call_id)
),
runs AS (
    -- run start = call_no of the first call of each run (numbered only on the few repeating calls)
    SELECT
        *,
        CASE WHEN same_prev OR same_next THEN
            max(CASE WHEN NOT same_prev THEN call_no END) OVER (PARTITION BY session_key ORDER BY call_no ROWS UNBOUNDED PRECEDING)
        END AS repeat_run_no
    FROM ordered
)
SELECT
    n.agent || ':' || n.session_key || ':' || n.tool_call_id AS tool_call_key,
    n.session_key,
    n.agent,
    n.model,
    n.llm_call_key,
    n.tool_call_id,
    n.tool_name,
    CASE
        WHEN n.tool_name LIKE 'mcp\_\_%' ESCAPE '\' THEN 'mcp'
        WHEN n.tool_name IN ('Task', 'Agent', 'spawn_agent') THEN 'subagent'
        WHEN n.native_type LIKE '%server_tool_use%' OR n.native_type LIKE '%web_search%' THEN 'server'
        ELSE 'builtin'
    END AS tool_kind,
    CASE WHEN n.tool_name LIKE 'mcp\_\_%' ESCAPE '\' THEN split_part(n.tool_name, '__', 2) END AS mcp_server,
    c.tool_input AS input_json,
    c.text_bytes AS input_bytes,
    r.text AS output_text,
    r.text_bytes AS output_bytes,
    n.status_final AS status,
    n.status_final IN ('error', 'user_rejected', 'interrupted') AS is_error,
    CASE WHEN n.status_final IN ('error', 'user_rejected', 'interrupted') THEN left(r.text, 4096) END AS error_text,
    CASE WHEN n.status_final IN ('error', 'user_rejected', 'interrupted') THEN tl_error_template(left(r.text, 4096)) END AS error_message,
    n.exit_code_final::INTEGER AS exit_code,
    n.ts AS started_at,
    coalesce(n.r_ts, n.m_last_ts) AS ended_at,
    CASE
        WHEN coalesce(n.r_ts, n.m_last_ts) IS NULL OR n.ts IS NULL OR coalesce(n.r_ts, n.m_last_ts) < n.ts THEN NULL
        ELSE epoch_ms(coalesce(n.r_ts, n.m_last_ts)) - epoch_ms(n.ts)
    END::DOUBLE AS latency_ms,
    coalesce(n.r_duration, n.m_duration) AS duration_ms_reported,
    CAST(n.ts AS DATE) AS date,
    strftime(n.ts, '%Y-%m') AS month,
    coalesce(n.is_sidechain, false) AS is_sidechain,
    coalesce(n.r_spawned, n.m_spawned, n.c_spawned) AS subagent_session_key,
    n.source_file,
    n.line_no AS call_line_no,
    n.r_line::INTEGER AS result_line_no,
    n.input_hash,
    n.call_no::INTEGER AS call_no,
    n.next_same_tool_at,
    n.next_same_tool_status,
    n.next_same_tool_same_input,
    n.repeat_run_no::INTEGER AS repeat_run_no,
    CASE WHEN n.repeat_run_no IS NOT NULL THEN left(c.tool_input, 200) END AS run_input_preview,
    d.project,
    coalesce(d.is_subagent, false) AS is_subagent
FROM runs n
JOIN (
    SELECT event_key, session_key, tool_input, text_bytes FROM events WHERE kind = 'tool_call' AND tool_call_id IS NOT NULL
) c ON c.event_key = n.call_key AND c.session_key = n.session_key
LEFT JOIN (
    SELECT event_key, session_key, text, text_bytes FROM events WHERE kind = 'tool_result' AND tool_call_id IS NOT NULL
) r ON r.event_key = n.result_key AND r.session_key = n.session_key
LEFT JOIN session_dims d ON d.session_key = n.session_key
