-- name: derive_links
-- description: Pairs of sessions whose derived rows read each other's events, from `events`.
--   An incremental derive (tracelab/store/derive.py::refresh) re-derives the sessions an
--   ingest added events to together with every session connected to them through these
--   pairs, so each re-derived row sees all the events it depends on:
--   parent_session_key (session_dims: project and root from parent and grandparent; sessions:
--   n_subagents), forked_from, spawned_session_key (sessions.parent_tool_call_id of the child),
--   and an llm_call_key seen in more than one session (one llm_calls row picks its last row
--   among all of them, e.g. Claude's inline agent_progress copies and the subagent's own file).
WITH shared AS (
    SELECT llm_call_key, min(session_key) AS first_session
    FROM events
    WHERE llm_call_key IS NOT NULL
    GROUP BY llm_call_key
    HAVING min(session_key) <> max(session_key)
)
SELECT session_key AS a, parent_session_key AS b FROM events WHERE parent_session_key IS NOT NULL
UNION
SELECT session_key, forked_from FROM events WHERE forked_from IS NOT NULL
UNION
SELECT session_key, spawned_session_key FROM events WHERE spawned_session_key IS NOT NULL
UNION
SELECT e.session_key, s.first_session
FROM events e
JOIN shared s USING (llm_call_key)
WHERE e.session_key <> s.first_session
