-- name: locate_steps
-- description: The step of `tracelab session KEY` that shows each of some events: the step of
--   the event itself, else of its tool call (a result or progress record), else the last step
--   at or before its time (the first step when it has no time or no step is earlier). Events
--   of a session without steps are left out. The steps are those of timeline_steps (same
--   kinds, one step per tool call id, same order; tests compare them on every sample session),
--   numbered from 1 in each session, over tl_locate_events, which
--   tracelab.session.locate.locate_steps fills with the events' sessions (one scan of the events
--   view, the session keys pushed into it). Only the events asked for are returned.
-- param events VARCHAR[] = NULL: event keys
-- returns event_key VARCHAR: event
-- returns session_key VARCHAR: its session
-- returns step BIGINT: the step that shows it (1 = first step of the session)
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
),
numbered AS (
    SELECT session_key, event_key, tool_call_id, coalesce(ts_fill, ts) AS ts_order,
           row_number() OVER (PARTITION BY session_key ORDER BY coalesce(ts_fill, ts) NULLS FIRST, source_file, seq) AS step
    FROM steps
),
refs AS (
    SELECT e.event_key, e.session_key, e.tool_call_id, e.ts
    FROM tl_locate_events e
    WHERE list_contains($events, e.event_key) AND e.session_key IN (SELECT session_key FROM numbered)
),
by_call AS (
    -- a call id's first step (a tool step carries the id of its call)
    SELECT session_key, tool_call_id, min(step) AS step
    FROM numbered
    WHERE tool_call_id <> ''
    GROUP BY session_key, tool_call_id
),
by_time AS (
    -- step order is ts_order order: the last step at or before the event's time
    SELECT r.event_key, r.session_key, max(n.step) AS step
    FROM refs r
    JOIN numbered n ON n.session_key = r.session_key AND n.ts_order <= r.ts
    GROUP BY r.event_key, r.session_key
)
SELECT r.event_key, r.session_key, coalesce(s.step, c.step, t.step, 1) AS step
FROM refs r
LEFT JOIN numbered s ON s.session_key = r.session_key AND s.event_key = r.event_key
LEFT JOIN by_call c ON c.session_key = r.session_key AND c.tool_call_id = r.tool_call_id
LEFT JOIN by_time t ON t.session_key = r.session_key AND t.event_key = r.event_key
ORDER BY r.event_key, r.session_key
