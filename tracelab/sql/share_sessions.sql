-- name: share_sessions
-- description: every session with what a share manifest records of it, and whether it matches
--   the share filters (subagents follow their parents and files their sessions in Python)
-- param agent VARCHAR = NULL: only this agent
-- param project VARCHAR = NULL: only this project
-- param since TIMESTAMP = NULL: sessions started at or after (UTC)
-- param until TIMESTAMP = NULL: sessions started before (UTC)
-- param sessions VARCHAR[] = NULL: only these session ids or session keys
-- returns session_key VARCHAR: tracelab's session key
-- returns matches BOOLEAN: the session passes every filter
-- returns agent VARCHAR: agent
-- returns session_id VARCHAR: the agent's session id
-- returns is_subagent BOOLEAN: a subagent (sidechain) session
-- returns parent_session_key VARCHAR: the session that spawned it
-- returns agent_version VARCHAR: agent version
-- returns started_at TIMESTAMP: first event
-- returns ended_at TIMESTAMP: last event
-- returns n_events BIGINT: events
-- returns n_user_prompts BIGINT: human prompts
-- returns n_llm_calls BIGINT: LLM calls
-- returns n_tool_calls BIGINT: tool calls
-- returns n_tool_errors BIGINT: failed tool calls
-- returns input_tokens BIGINT: uncached input tokens
-- returns output_tokens BIGINT: output tokens (reasoning included)
-- returns cache_read_tokens BIGINT: cache read tokens
-- returns cache_write_tokens BIGINT: cache write tokens
-- returns reasoning_tokens BIGINT: reasoning tokens
-- returns source_files VARCHAR[]: the files the session's lines came from
SELECT
    session_key,
    ($agent IS NULL OR agent = $agent)
        AND ($project IS NULL OR project = $project)
        AND ($since IS NULL OR started_at >= $since)
        AND ($until IS NULL OR started_at < $until)
        AND ($sessions IS NULL OR list_contains($sessions, session_id) OR list_contains($sessions, session_key)) AS matches,
    agent,
    session_id,
    is_subagent,
    parent_session_key,
    agent_version,
    started_at,
    ended_at,
    n_events,
    n_user_prompts,
    n_llm_calls,
    n_tool_calls,
    n_tool_errors,
    input_tokens,
    output_tokens,
    cache_read_tokens,
    cache_write_tokens,
    reasoning_tokens,
    source_files
FROM sessions
ORDER BY started_at NULLS LAST, session_key
