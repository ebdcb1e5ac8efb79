-- name: timeline_children
-- description: The session `key` (when it exists) and the sessions it spawned directly: the
--   first level of timeline_tree in one scan of `sessions`. Most sessions spawn none; only
--   when some are listed does tracelab.session.timeline.load run the recursive timeline_tree
--   (a recursive query scans `sessions` once per level, and once more to find none).
-- param key VARCHAR = NULL: the root session's key
-- returns session_key VARCHAR: session key
-- returns is_root BOOLEAN: the session `key` itself (else a child of it)
SELECT session_key, session_key = $key AS is_root
FROM sessions
WHERE session_key = $key OR (parent_session_key = $key AND session_key <> $key)
