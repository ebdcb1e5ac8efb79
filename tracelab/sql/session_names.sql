-- name: session_names
-- description: Every session's names a user can type to open it (`tracelab session ID`): its key,
--   native id and subagent id. `tracelab sessions` picks from them the shortest id that opens
--   exactly that session in the whole warehouse (tracelab/session/ids.py).
-- returns session_key VARCHAR: session key (`agent:id`)
-- returns session_id VARCHAR: native session id
-- returns is_subagent BOOLEAN: a subagent session
-- returns subagent_id VARCHAR: the subagent's own id (NULL for a main session)
SELECT session_key, session_id, coalesce(is_subagent, false) AS is_subagent, subagent_id
FROM sessions
ORDER BY session_key
