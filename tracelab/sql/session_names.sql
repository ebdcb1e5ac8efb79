-- name: session_names
-- description: Every session's names a user can type to open it (`tracelab session ID`): its key,
--   native id and subagent id. `tracelab sessions` picks from them the shortest id that opens
--   exactly that session in the whole warehouse (tracelab/session/ids.py).
-- param heads VARCHAR[] = NULL: only sessions one of whose names starts with one of these (NULL: all)
-- returns session_key VARCHAR: session key (`agent:id`)
-- returns session_id VARCHAR: native session id
-- returns is_subagent BOOLEAN: a subagent session
-- returns subagent_id VARCHAR: the subagent's own id (NULL for a main session)
SELECT session_key, session_id, coalesce(is_subagent, false) AS is_subagent, subagent_id
FROM sessions
WHERE $heads IS NULL
   OR len(list_filter($heads, lambda h: starts_with(session_key, h) OR starts_with(substr(session_key, strpos(session_key, ':') + 1), h)
                                   OR starts_with(session_id, h) OR starts_with(subagent_id, h) OR starts_with('agent-' || subagent_id, h))) > 0
ORDER BY session_key
