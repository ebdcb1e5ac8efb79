-- name: derive_session_dims
-- description: Per-session dimensions, from `session_roots` and `project_names`
--   (derive_session_roots.sql, derive_project_names.sql), materialised once per derive (temp
--   table `session_dims`) before the other derived tables: llm_calls and tool_calls carry
--   project / is_subagent (/ root_session_key) so the query filters need no join to `sessions`,
--   and derive_sessions reads the same values, so the three tables agree.
--   own_project, project_root: the session's (dir, repository) pair's, from project_names
--   (sessions.project, sessions.project_root); repository, worktree: session_roots';
--   project: own_project, else the parent's, else the grandparent's (subagents without a cwd);
--   root_session_key: the session a subagent rolls up to (two levels of nesting followed).
WITH o AS (
    SELECT s.*, n.project_root, n.project AS own_project
    FROM session_roots s
    LEFT JOIN project_names n ON n.dir IS NOT DISTINCT FROM s.dir AND n.repository IS NOT DISTINCT FROM s.repository
)
SELECT
    d.session_key,
    d.subagent_id,
    d.parent_session_key,
    d.forked_from,
    d.cwd,
    d.is_subagent,
    d.repository,
    d.project_root,
    d.worktree,
    d.own_project,
    coalesce(d.own_project, p.own_project, g.own_project) AS project,
    CASE WHEN d.is_subagent THEN coalesce(CASE WHEN p.is_subagent THEN p.parent_session_key END, d.parent_session_key, d.session_key)
         ELSE d.session_key END AS root_session_key
FROM o d
LEFT JOIN o p ON p.session_key = d.parent_session_key
LEFT JOIN o g ON g.session_key = p.parent_session_key
