-- name: timeline_match
-- description: Sessions a user-typed id could mean: its session key, native session id or
--   subagent id starts with `prefix` (also the key without its `agent:` tag). Exact matches
--   come first, then main sessions before subagents, newest first.
-- param prefix VARCHAR = NULL: what the user typed
-- param limit INTEGER = 20 (>= 1): at most this many candidates
-- returns session_key VARCHAR: session key
-- returns session_id VARCHAR: native session id
-- returns agent VARCHAR: agent
-- returns is_subagent BOOLEAN: a subagent session
-- returns parent_session_key VARCHAR: the session that spawned it
-- returns project VARCHAR: project
-- returns title VARCHAR: title or first prompt
-- returns started_at TIMESTAMP WITH TIME ZONE: first event
-- returns exact BOOLEAN: key, id or key without its agent tag equals prefix
SELECT session_key, session_id, agent, coalesce(is_subagent, false) AS is_subagent, parent_session_key, project, title, started_at,
       (session_key = $prefix OR (session_id = $prefix AND NOT coalesce(is_subagent, false))
        OR substr(session_key, strpos(session_key, ':') + 1) = $prefix) AS exact
FROM sessions
WHERE $prefix IS NOT NULL AND $prefix <> ''
  AND (starts_with(session_key, $prefix) OR starts_with(session_id, $prefix)
       OR starts_with(substr(session_key, strpos(session_key, ':') + 1), $prefix)
       OR starts_with(subagent_id, $prefix) OR starts_with('agent-' || subagent_id, $prefix))
ORDER BY exact DESC, coalesce(is_subagent, false), started_at DESC NULLS LAST, session_key
LIMIT $limit
