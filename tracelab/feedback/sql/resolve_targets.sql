-- name: resolve_targets
-- description: Resolve user-given keys to warehouse targets. $keys: the keys (VARCHAR[]).
--   One row per (key, match): the target type, its canonical key, the session it belongs to,
--   and a rank (1 = the key is the canonical key itself; 2 = a native id that names it:
--   a session id of a main session, a tool call id).
-- param keys VARCHAR[]: the keys a user gave
WITH k AS (SELECT DISTINCT unnest($keys::VARCHAR[]) AS key)
SELECT k.key, 'session' AS target_type, s.session_key AS target_key, s.session_key, 1 AS rank
FROM k JOIN sessions s ON s.session_key = k.key
UNION ALL
SELECT k.key, 'session', s.session_key, s.session_key, 2
FROM k JOIN sessions s ON s.session_id = k.key AND NOT coalesce(s.is_subagent, false)
UNION ALL
SELECT DISTINCT k.key, 'event', e.event_key, e.session_key, 1
FROM k JOIN events e ON e.event_key = k.key
UNION ALL
SELECT k.key, 'tool_call', t.tool_call_key, t.session_key, 1
FROM k JOIN tool_calls t ON t.tool_call_key = k.key
UNION ALL
SELECT k.key, 'tool_call', t.tool_call_key, t.session_key, 2
FROM k JOIN tool_calls t ON t.tool_call_id = k.key
ORDER BY 1, 5, 2, 3
