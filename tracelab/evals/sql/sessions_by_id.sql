-- name: sessions_by_id
-- description: Main sessions by the agent's own session id ($session_ids VARCHAR[]).
-- param session_ids VARCHAR[]: the agents' own session ids
SELECT session_id, session_key
FROM sessions
WHERE session_id IN (SELECT unnest($session_ids::VARCHAR[])) AND NOT coalesce(is_subagent, false)
ORDER BY session_id, started_at
