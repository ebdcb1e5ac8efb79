-- name: timeline_step_numbers
-- description: The step numbers of `tracelab session KEY` for some sessions, without the rest of
--   the timeline: the steps of timeline_steps (same kinds, one step per tool call id, same
--   order), numbered from 1 in each session. Reads tl_locate_events, which
--   tracelab.session.locate.locate_steps fills with the sessions' events (one equality scan
--   per session: DuckDB pushes an equality into the Parquet scans, a list or IN test it does not).
--   Must stay in step with timeline_steps (tests compare them on every sample session).
-- returns session_key VARCHAR: session
-- returns event_key VARCHAR: the step's event (the call for a tool step)
-- returns tool_call_id VARCHAR: tool call id
-- returns ts_order TIMESTAMP WITH TIME ZONE: time used for ordering (ts, else the previous line's)
-- returns step BIGINT: the step number (1 = first step of the session)
WITH ev AS (
    SELECT e.session_key, e.event_key, e.ts, e.source_file, e.seq, e.kind, e.tool_call_id,
           last_value(e.ts IGNORE NULLS) OVER (PARTITION BY e.session_key, e.source_file ORDER BY e.seq ROWS UNBOUNDED PRECEDING) AS ts_fill
    FROM tl_locate_events e
    WHERE tl_is_step_kind(e.kind)
),
steps AS (
    SELECT * FROM ev
    QUALIFY tool_call_id IS NULL OR kind NOT IN ('tool_call', 'tool_result')
        OR row_number() OVER (PARTITION BY session_key, tool_call_id, kind IN ('tool_call', 'tool_result')
                              ORDER BY kind = 'tool_call' DESC, ts_fill NULLS FIRST, source_file, seq) = 1
)
SELECT session_key, event_key, tool_call_id, coalesce(ts_fill, ts) AS ts_order,
       row_number() OVER (PARTITION BY session_key ORDER BY coalesce(ts_fill, ts) NULLS FIRST, source_file, seq) AS step
FROM steps
ORDER BY session_key, step
