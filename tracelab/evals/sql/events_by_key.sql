-- name: events_by_key
-- description: Events by key ($event_keys VARCHAR[]): where they are and what they say.
-- param event_keys VARCHAR[]: the event keys
SELECT event_key, session_key, ts, source_file, line_no, seq, kind, tool_call_id, tool_name,
       status, text, tool_input
FROM events
WHERE event_key IN (SELECT unnest($event_keys::VARCHAR[]))
