-- name: failures_retry_storms
-- description: Retry storms: $min_run or more failed attempts in a row at the same thing.
--   Tool storms: consecutive calls of one tool in a session that all end in `error`
--   (inputs may differ). API storms: consecutive model API errors (families api_error /
--   rate_limit from `failure_events`) with no successful model output between them.
--   One row per storm, located at its first failure; `run_length` failures.
--   Parameters: $min_run.
-- param min_run INTEGER: fewest failures that make a storm
WITH calls AS (
    SELECT
        t.tool_call_key, t.tool_call_id, t.session_key, t.tool_name, t.status, t.is_sidechain,
        cs.call_event_key,
        t.status = 'error' AS failed,
        coalesce(t.tool_name, '') || chr(31) || CAST(t.status = 'error' AS VARCHAR) AS sig,
        row_number() OVER (
            PARTITION BY t.session_key, t.is_sidechain
            ORDER BY t.started_at NULLS LAST, t.source_file, cs.call_seq NULLS LAST, t.call_line_no, t.tool_call_key
        ) AS rn
    FROM tool_calls t
    LEFT JOIN first_calls cs USING (session_key, tool_call_id)
),
tool_runs AS (
    SELECT *, rn - row_number() OVER (PARTITION BY session_key, is_sidechain, sig ORDER BY rn) AS grp
    FROM calls
),
tool_storms AS (
    SELECT session_key, is_sidechain, sig, grp, count(*) AS run_length, arg_min(tool_call_key, rn) AS first_key
    FROM tool_runs
    WHERE failed
    GROUP BY ALL
    HAVING count(*) >= $min_run
),
model_seq AS (
    SELECT session_key, event_key, 'E' AS k, ts, source_file, line_no, agent, model, ord
    FROM failure_events
    WHERE family IN ('api_error', 'rate_limit') AND source = 'api'
    UNION ALL
    SELECT e.session_key, e.event_key, 'S' AS k, e.ts, e.source_file, e.line_no, e.agent, e.model, NULL AS ord
    FROM events e
    WHERE e.kind IN ('assistant_text', 'tool_call', 'thinking') AND NOT coalesce(e.is_synthetic, false)
      AND e.session_key IN (SELECT session_key FROM failure_events WHERE family IN ('api_error', 'rate_limit'))
),
model_ord AS (
    SELECT *, row_number() OVER (PARTITION BY session_key ORDER BY ts NULLS LAST, source_file, line_no, k) AS rn
    FROM model_seq
),
api_runs AS (
    SELECT *, rn - row_number() OVER (PARTITION BY session_key, k ORDER BY rn) AS grp
    FROM model_ord
),
api_storms AS (
    SELECT session_key, grp, count(*) AS run_length, arg_min(event_key, rn) AS first_key
    FROM api_runs
    WHERE k = 'E'
    GROUP BY ALL
    HAVING count(*) >= $min_run
)
SELECT
    'tool' AS storm_kind,
    f.event_key, f.tool_call_key, f.tool_call_id, f.session_key, f.agent, f.model, f.tool_name, f.ts,
    f.source_file, f.line_no, s.run_length::INTEGER AS run_length
FROM tool_storms s
JOIN failure_events f ON f.tool_call_key = s.first_key
UNION ALL
SELECT
    'api' AS storm_kind,
    f.event_key, f.tool_call_key, f.tool_call_id, f.session_key, f.agent, f.model, f.tool_name, f.ts,
    f.source_file, f.line_no, s.run_length::INTEGER AS run_length
FROM api_storms s
JOIN failure_events f ON f.event_key = s.first_key
ORDER BY session_key, ts, event_key
