-- name: failures_loops
-- description: Loops: the same tool called with the same input $min_run or more times in a
--   row (consecutive tool calls of one session, sidechains apart). One row per run, located
--   at the run's first call; `run_length` calls, `n_failed` of them not ok.
--   Parameters: $min_run.
WITH call_seq AS (
    SELECT * EXCLUDE (rn) FROM (
        SELECT e.session_key, e.tool_call_id, e.event_key AS call_event_key, e.seq AS call_seq,
               row_number() OVER (PARTITION BY e.session_key, e.tool_call_id ORDER BY e.seq, e.source_file) AS rn
        FROM events e
        WHERE e.kind = 'tool_call' AND e.tool_call_id IS NOT NULL
    ) WHERE rn = 1
),
calls AS (
    SELECT
        t.*,
        cs.call_event_key,
        md5(coalesce(t.tool_name, '') || chr(31) || coalesce(t.input_json, '')) AS sig,
        row_number() OVER (
            PARTITION BY t.session_key, t.is_sidechain
            ORDER BY t.started_at NULLS LAST, t.source_file, cs.call_seq NULLS LAST, t.call_line_no, t.tool_call_key
        ) AS rn
    FROM tool_calls t
    LEFT JOIN call_seq cs USING (session_key, tool_call_id)
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
)
SELECT
    coalesce(c.call_event_key, c.tool_call_key) AS event_key,
    c.tool_call_key,
    c.tool_call_id,
    c.session_key,
    c.agent,
    c.model,
    c.tool_name,
    c.started_at AS ts,
    c.source_file,
    c.call_line_no AS line_no,
    a.run_length::INTEGER AS run_length,
    a.n_failed::INTEGER AS n_failed
FROM agg a
JOIN calls c ON c.tool_call_key = a.first_key
ORDER BY c.session_key, c.started_at, c.tool_call_key
