-- name: timeline_tree
-- description: A session and every session it spawned (subagents, child threads, down to
--   `max_depth` levels): one row per session, the root first (depth 0). Reads two columns of
--   `sessions`; the facts a session page shows come from timeline_facts.
-- param key VARCHAR = NULL: the root session's key
-- param max_depth INTEGER = 8 (>= 0): levels of subagents to follow
-- returns session_key VARCHAR: session key
-- returns depth INTEGER: 0 for the root, 1 for its subagents, ...
WITH RECURSIVE tree(session_key, depth) AS (
    SELECT session_key, 0 FROM sessions WHERE session_key = $key
    UNION ALL
    SELECT s.session_key, tree.depth + 1
    FROM sessions s JOIN tree ON s.parent_session_key = tree.session_key
    WHERE tree.depth < $max_depth AND s.session_key <> tree.session_key
)
SELECT session_key, CAST(min(depth) AS INTEGER) AS depth
FROM tree
GROUP BY session_key
ORDER BY depth, session_key
