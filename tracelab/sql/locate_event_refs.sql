-- name: locate_event_refs
-- description: Where some events of the sessions in tl_locate_events sit (their session, tool call
--   id and time), read from that small temp table (filled by
--   tracelab.session.locate.locate_steps), not from the events view.
-- param events VARCHAR[] = NULL: event keys
-- returns event_key VARCHAR: event
-- returns session_key VARCHAR: its session
-- returns tool_call_id VARCHAR: its tool call id
-- returns ts TIMESTAMP WITH TIME ZONE: its time
SELECT event_key, session_key, tool_call_id, ts
FROM tl_locate_events
WHERE list_contains($events, event_key)
