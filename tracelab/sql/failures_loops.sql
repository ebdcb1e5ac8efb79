-- name: failures_loops
-- description: Loops: the same tool called with the same input $min_run or more times in a
--   row (consecutive tool calls of one session, sidechains apart). One row per run, located
--   at the run's first call; `run_length` calls, `n_failed` of them not ok.
--   Parameters: $min_run.
WITH calls AS (
    SELECT
        t.*,
        md5(coalesce(t.tool_name, '') || chr(31) || coalesce(t.input_json, '')) AS sig,
        row_number() OVER (PARTITION BY t.session_key, t.is_sidechain ORDER BY t.started_at NULLS LAST, t.call_line_no, t.tool_call_key) AS rn
    FROM tool_calls t
),
runs AS (
    SELECT *, rn - row_number() OVER (PARTITION BY session_key, is_sidechain, sig ORDER BY rn) AS grp
    FROM calls
),
agg AS (
    SELECT
        session_key, is_sidechain, sig, grp,
        count(*) AS run_length,
        count(*) FILTER (WHERE status <> 'ok') AS n_failed,
        arg_min(tool_call_key, rn) AS first_key,
        max(started_at) AS last_ts
    FROM runs
    GROUP BY ALL
    HAVING count(*) >= $min_run
),
call_events AS (
    SELECT * EXCLUDE (rn) FROM (
        SELECT e.session_key, e.tool_call_id, e.event_key, e.line_no, e.source_file,
               row_number() OVER (PARTITION BY e.session_key, e.tool_call_id ORDER BY e.seq, e.source_file) AS rn
        FROM events e
        WHERE e.kind = 'tool_call' AND e.tool_call_id IS NOT NULL
    ) WHERE rn = 1
)
SELECT
    coalesce(ce.event_key, c.tool_call_key) AS event_key,
    c.tool_call_key,
    c.tool_call_id,
    c.session_key,
    c.agent,
    c.model,
    c.tool_name,
    c.started_at AS ts,
    coalesce(ce.source_file, c.source_file) AS source_file,
    coalesce(ce.line_no, c.call_line_no) AS line_no,
    a.run_length::INTEGER AS run_length,
    a.n_failed::INTEGER AS n_failed
FROM agg a
JOIN calls c ON c.tool_call_key = a.first_key
LEFT JOIN call_events ce ON ce.session_key = c.session_key AND ce.tool_call_id = c.tool_call_id
ORDER BY c.session_key, c.started_at, c.tool_call_key
