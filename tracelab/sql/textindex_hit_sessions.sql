-- name: textindex_hit_sessions
-- description: The rows of `sessions` that tl_session_dims() reads for the sessions of the
--   search hits in the temporary table `tl_search_rows` (tracelab/textindex/search.py): those
--   sessions, their parents and their parents' parents. The search over a handful of hits
--   then joins these instead of every session's dimensions.
-- returns session_key VARCHAR: (every column of `sessions`)

WITH k AS (
    SELECT DISTINCT session_key FROM tl_search_rows
),
p AS (
    SELECT DISTINCT parent_session_key AS session_key FROM main.sessions WHERE session_key IN (SELECT session_key FROM k)
),
g AS (
    SELECT DISTINCT parent_session_key AS session_key FROM main.sessions WHERE session_key IN (SELECT session_key FROM p)
)
SELECT *
FROM main.sessions
WHERE session_key IN (SELECT session_key FROM k UNION SELECT session_key FROM p UNION SELECT session_key FROM g)
