-- name: timeline_tree
-- description: A session and every session it spawned (subagents, child threads, down to
--   `max_depth` levels), with the facts a session page shows: one row per session, the root
--   first (depth 0). Cost comes from timeline_calls.
-- param key VARCHAR = NULL: the root session's key
-- param max_depth INTEGER = 8 (>= 0): levels of subagents to follow
-- returns session_key VARCHAR: session key
-- returns depth INTEGER: 0 for the root, 1 for its subagents, ...
-- returns parent_session_key VARCHAR: the session that spawned it
-- returns parent_tool_call_id VARCHAR: the parent's tool call that started it
-- returns session_id VARCHAR: native session id
-- returns subagent_id VARCHAR: native subagent id
-- returns agent VARCHAR: agent
-- returns agent_version VARCHAR: agent version
-- returns project VARCHAR: project
-- returns cwd VARCHAR: working directory
-- returns git_branch VARCHAR: git branch
-- returns title VARCHAR: title or first prompt
-- returns forked_from VARCHAR: session it was forked or resumed from
-- returns is_subagent BOOLEAN: a subagent session
-- returns is_warmup BOOLEAN: a Claude warm-up sidechain
-- returns started_at TIMESTAMP WITH TIME ZONE: first event
-- returns ended_at TIMESTAMP WITH TIME ZONE: last event
-- returns duration_s DOUBLE: seconds
-- returns models VARCHAR[]: models used
-- returns source_files VARCHAR[]: files holding its events
-- returns n_events BIGINT: events
-- returns n_user_prompts BIGINT: prompts
-- returns n_llm_calls BIGINT: non-synthetic responses
-- returns n_tool_calls BIGINT: tool calls
-- returns n_tool_errors BIGINT: failed tool calls
-- returns n_user_rejections BIGINT: rejected tool calls
-- returns n_interrupts BIGINT: interrupts
-- returns n_api_errors BIGINT: API errors
-- returns n_compactions BIGINT: compactions
-- returns n_subagents BIGINT: subagents spawned (not warm-ups)
-- returns input_tokens BIGINT: uncached input
-- returns output_tokens BIGINT: output
-- returns cache_read_tokens BIGINT: cache reads
-- returns cache_write_tokens BIGINT: cache writes
-- returns reasoning_tokens BIGINT: reasoning (part of output)
WITH RECURSIVE tree(session_key, depth) AS (
    SELECT session_key, 0 FROM sessions WHERE session_key = $key
    UNION ALL
    SELECT s.session_key, tree.depth + 1
    FROM sessions s JOIN tree ON s.parent_session_key = tree.session_key
    WHERE tree.depth < $max_depth AND s.session_key <> tree.session_key
)
SELECT s.session_key, CAST(min(tree.depth) AS INTEGER) AS depth, any_value(s.parent_session_key) AS parent_session_key,
       any_value(s.parent_tool_call_id) AS parent_tool_call_id, any_value(s.session_id) AS session_id, any_value(s.subagent_id) AS subagent_id,
       any_value(s.agent) AS agent, any_value(s.agent_version) AS agent_version, any_value(s.project) AS project, any_value(s.cwd) AS cwd,
       any_value(s.git_branch) AS git_branch, any_value(s.title) AS title, any_value(s.forked_from) AS forked_from,
       coalesce(any_value(s.is_subagent), false) AS is_subagent, coalesce(any_value(s.is_warmup), false) AS is_warmup,
       any_value(s.started_at) AS started_at, any_value(s.ended_at) AS ended_at, any_value(s.duration_s) AS duration_s,
       any_value(s.models) AS models, any_value(s.source_files) AS source_files,
       any_value(s.n_events) AS n_events, any_value(s.n_user_prompts) AS n_user_prompts, any_value(s.n_llm_calls) AS n_llm_calls,
       any_value(s.n_tool_calls) AS n_tool_calls, any_value(s.n_tool_errors) AS n_tool_errors, any_value(s.n_user_rejections) AS n_user_rejections,
       any_value(s.n_interrupts) AS n_interrupts, any_value(s.n_api_errors) AS n_api_errors, any_value(s.n_compactions) AS n_compactions,
       any_value(s.n_subagents) AS n_subagents,
       any_value(s.input_tokens) AS input_tokens, any_value(s.output_tokens) AS output_tokens, any_value(s.cache_read_tokens) AS cache_read_tokens,
       any_value(s.cache_write_tokens) AS cache_write_tokens, any_value(s.reasoning_tokens) AS reasoning_tokens
FROM tree
JOIN sessions s USING (session_key)
GROUP BY s.session_key
ORDER BY depth, started_at NULLS LAST, s.session_key
