-- name: failures_first_calls
-- description: The first call row of each (session, tool_call_id): its event key and its line
--   order (`seq`). An aggregate, not a window over every call event. Installed as the temp view
--   `first_calls` on failure connections; the loop and retry-storm queries order calls by it.
SELECT
    e.session_key, e.tool_call_id,
    arg_min(e.event_key, {'seq': e.seq, 'file': e.source_file}) AS call_event_key,
    min(e.seq) AS call_seq
FROM events e
WHERE e.kind = 'tool_call' AND e.tool_call_id IS NOT NULL
GROUP BY ALL
