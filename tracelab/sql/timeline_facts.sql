-- name: timeline_facts
-- description: The facts a session page shows, one row per session of the temp table
--   tl_timeline_sessions (the `sessions` rows tracelab.session.timeline.gather copied, one
--   equality lookup per session: a join on the keys would decode every session's row).
--   Cost comes from timeline_calls.
--   `tracelab session` reads the same rows in Python (tracelab/session/steps.py, checked
--   against this query by tests/test_session_steps.py).
-- returns session_key VARCHAR: session key
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
-- returns n_interrupted_tools BIGINT: interrupted tool calls
-- returns n_api_errors BIGINT: API errors
-- returns n_compactions BIGINT: compactions
-- returns n_subagents BIGINT: subagents spawned (not warm-ups)
-- returns input_tokens BIGINT: uncached input
-- returns output_tokens BIGINT: output
-- returns cache_read_tokens BIGINT: cache reads
-- returns cache_write_tokens BIGINT: cache writes
-- returns reasoning_tokens BIGINT: reasoning (part of output)
SELECT session_key, parent_session_key, parent_tool_call_id, session_id, subagent_id, agent, agent_version, project, cwd,
       git_branch, title, forked_from, coalesce(is_subagent, false) AS is_subagent, coalesce(is_warmup, false) AS is_warmup,
       started_at, ended_at, duration_s, models, source_files, n_events, n_user_prompts, n_llm_calls, n_tool_calls,
       n_tool_errors, n_user_rejections, n_interrupts, n_interrupted_tools, n_api_errors, n_compactions, n_subagents, input_tokens, output_tokens,
       cache_read_tokens, cache_write_tokens, reasoning_tokens
FROM tl_timeline_sessions
ORDER BY started_at NULLS LAST, session_key
