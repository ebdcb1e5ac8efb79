-- name: timeline_event_refs
-- description: Where some events sit, to find the timeline step that shows each: its session,
--   tool call id and time (the previous line's time when it has none).
-- param events VARCHAR[] = NULL: event keys
-- returns event_key VARCHAR: event
-- returns session_key VARCHAR: its session
-- returns tool_call_id VARCHAR: its tool call id
-- returns ts TIMESTAMP WITH TIME ZONE: its time
SELECT event_key, session_key, tool_call_id, ts
FROM events
WHERE list_contains($events, event_key)
