-- name: failures_context_window
-- description: The events around one failure, for `tracelab failures show`: the $before
--   events before and $after events after $event_key in its session (bookkeeping, hook
--   progress and token reports left out), with `offset` 0 at the failure itself.
--   Parameters: $session_key, $event_key, $before, $after.
-- param session_key VARCHAR: the session
-- param event_key VARCHAR: the failure event
-- param before INTEGER: events shown before it
-- param after INTEGER: events shown after it
WITH s AS (
    SELECT
        e.event_key, e.ts, e.kind, e.tool_name, e.status, e.source_file, e.line_no, e.text, e.tool_input,
        row_number() OVER (ORDER BY e.ts NULLS LAST, e.source_file, e.seq) AS rn
    FROM events e
    WHERE e.session_key = $session_key
      AND (e.kind NOT IN ('bookkeeping', 'token_usage', 'hook', 'tool_event') OR e.event_key = $event_key)
),
anchor AS (
    SELECT rn FROM s WHERE event_key = $event_key
)
SELECT
    s.rn - anchor.rn AS "offset",
    s.ts, s.kind, s.tool_name, s.status, s.source_file, s.line_no,
    coalesce(s.text, s.tool_input) AS text
FROM s, anchor
WHERE s.rn BETWEEN anchor.rn - $before AND anchor.rn + $after
ORDER BY s.rn
