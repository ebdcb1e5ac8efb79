-- Main sessions by the agent's own session id ($session_ids VARCHAR[]).
SELECT session_id, session_key
FROM sessions
WHERE session_id IN (SELECT unnest($session_ids::VARCHAR[])) AND NOT coalesce(is_subagent, false)
ORDER BY session_id, started_at
