-- name: sessions
-- description: Session facts a case needs: ids, where it ran, which model.
-- param session_keys VARCHAR[]: the sessions
SELECT session_key, session_id, agent, cwd, project, git_branch, primary_model, title,
       is_subagent, parent_session_key, started_at
FROM sessions
WHERE session_key IN (SELECT unnest($session_keys::VARCHAR[]))
