-- name: derive_session_dims
-- description: Per-session dimensions, from `events`, materialised once per derive (temp table
--   `session_dims`) before the other derived tables: llm_calls and tool_calls carry project /
--   is_subagent (/ root_session_key) so the query filters need no join to `sessions`, and
--   derive_sessions reads the same values, so the three tables agree.
--   cwd, subagent_id, parent_session_key, forked_from: the session's first non-null value (by seq);
--   own_project: last path component of cwd (sessions.project);
--   project: own_project, else the parent's, else the grandparent's (subagents without a cwd);
--   root_session_key: the session a subagent rolls up to (two levels of nesting followed).
WITH s AS (
    SELECT
        session_key,
        arg_min(subagent_id, seq) FILTER (WHERE subagent_id IS NOT NULL) AS subagent_id,
        arg_min(parent_session_key, seq) FILTER (WHERE parent_session_key IS NOT NULL) AS parent_session_key,
        arg_min(forked_from, seq) FILTER (WHERE forked_from IS NOT NULL) AS forked_from,
        arg_min(cwd, seq) FILTER (WHERE cwd IS NOT NULL) AS cwd
    FROM events
    GROUP BY session_key
),
d AS (
    SELECT
        *,
        subagent_id IS NOT NULL OR parent_session_key IS NOT NULL AND forked_from IS NULL AS is_subagent,
        regexp_extract(cwd, '([^/\\]+)[/\\]*$', 1) AS own_project
    FROM s
)
SELECT
    d.session_key,
    d.subagent_id,
    d.parent_session_key,
    d.forked_from,
    d.cwd,
    d.is_subagent,
    d.own_project,
    coalesce(d.own_project, p.own_project, g.own_project) AS project,
    CASE WHEN d.is_subagent THEN coalesce(CASE WHEN p.is_subagent THEN p.parent_session_key END, d.parent_session_key, d.session_key)
         ELSE d.session_key END AS root_session_key
FROM d
LEFT JOIN d p ON p.session_key = d.parent_session_key
LEFT JOIN d g ON g.session_key = p.parent_session_key
