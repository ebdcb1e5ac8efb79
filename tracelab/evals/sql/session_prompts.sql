-- name: session_prompts
-- description: The user prompts of the sessions $session_keys (VARCHAR[]), in session order.
-- param session_keys VARCHAR[]: the sessions
SELECT e.session_key, e.event_key, e.ts, e.source_file, e.line_no, e.seq, e.text
FROM events e
WHERE e.session_key IN (SELECT unnest($session_keys::VARCHAR[]))
  AND e.kind = 'user_prompt'
ORDER BY e.session_key, e.ts NULLS LAST, e.source_file, e.seq
