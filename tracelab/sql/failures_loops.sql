-- name: failures_loops
-- description: Loops: the same tool called with the same input $min_run or more times in a
--   row (consecutive tool calls of one session, sidechains apart). One row per run, located
--   at the run's first call; `run_length` calls, `n_failed` of them not ok.
--   Parameters: $min_run.
-- param min_run INTEGER: shortest run that counts as a loop
WITH calls AS (
    SELECT
        t.tool_call_key, t.tool_call_id, t.session_key, t.agent, t.model, t.tool_name, t.started_at, t.source_file,
        t.call_line_no, t.status, t.is_sidechain,
        cs.call_event_key,
        t.input_hash AS sig,  -- hash of (tool name, input), stored by the derive step
        row_number() OVER (
            PARTITION BY t.session_key, t.is_sidechain
            ORDER BY t.started_at NULLS LAST, t.source_file, cs.call_seq NULLS LAST, t.call_line_no, t.tool_call_key
        ) AS rn
    FROM tool_calls t
    LEFT JOIN first_calls cs USING (session_key, tool_call_id)
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
