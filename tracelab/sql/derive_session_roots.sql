-- name: derive_session_roots
-- description: Per-session project inputs, from `events` (temp table `session_roots`, read by
--   derive_project_names and derive_session_dims; rule in data/README.md "Projects").
--   cwd, subagent_id, parent_session_key, forked_from, git_branch: the session's first non-null value (by seq);
--   repository: the git remote the session recorded (`git.repository_url` in its session_start
--   row's extra: Codex session_meta), normalised by tl_remote_root;
--   dir: the cwd without a worktree suffix (tl_project_dir); worktree: tl_worktree (the git
--   branch cuts a worktree name that has slashes).
WITH s AS (
    SELECT
        session_key,
        arg_min(subagent_id, seq) FILTER (WHERE subagent_id IS NOT NULL) AS subagent_id,
        arg_min(parent_session_key, seq) FILTER (WHERE parent_session_key IS NOT NULL) AS parent_session_key,
        arg_min(forked_from, seq) FILTER (WHERE forked_from IS NOT NULL) AS forked_from,
        arg_min(cwd, seq) FILTER (WHERE cwd IS NOT NULL) AS cwd,
        arg_min(git_branch, seq) FILTER (WHERE git_branch IS NOT NULL AND git_branch <> '') AS git_branch
    FROM events
    GROUP BY session_key
),
-- session_start rows only: their extra is the only one read
rep AS (
    SELECT session_key, arg_min(repository, seq) FILTER (WHERE repository IS NOT NULL) AS repository
    FROM (
        SELECT session_key, seq, tl_remote_root(json_extract_string(extra, '$.git.repository_url')) AS repository
        FROM events
        WHERE kind = 'session_start' AND extra IS NOT NULL
    )
    GROUP BY session_key
)
SELECT
    s.*,
    rep.repository,
    s.subagent_id IS NOT NULL OR s.parent_session_key IS NOT NULL AND s.forked_from IS NULL AS is_subagent,
    tl_project_dir(s.cwd) AS dir,
    tl_worktree(s.cwd, s.git_branch) AS worktree
FROM s
LEFT JOIN rep USING (session_key)
