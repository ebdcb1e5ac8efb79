-- name: session_summary
-- description: One row per session: duration, turns, calls, errors, loops, interruption,
--   abandonment, compactions, subagent fan-out, tokens and cost.
--   interrupted: the user interrupted the agent at least once (interrupt event or an
--   interrupted tool call). abandoned: the session's last conversational event (prompt,
--   text, thinking, tool call or result, API error, interrupt) is an error: an API error or a
--   failed tool result. loops: runs of >= 3 identical consecutive tool calls (tool_loops).
-- param since TIMESTAMP = NULL: window start on the session start, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only sessions that used this model
-- param project VARCHAR = NULL: only this project
-- param include_subagents BOOLEAN = TRUE: FALSE drops subagent sessions
-- param limit INTEGER = NULL (>= 1): at most this many sessions, newest first (NULL = all)
-- returns session_key VARCHAR: session
-- returns agent VARCHAR: agent
-- returns session_id VARCHAR: the agent's own session id
-- returns project VARCHAR: project
-- returns primary_model VARCHAR: most used model
-- returns is_subagent BOOLEAN: a subagent session
-- returns started_at TIMESTAMP WITH TIME ZONE: first event
-- returns duration_s DOUBLE: last event - first event, seconds
-- returns turns BIGINT: human prompts
-- returns llm_calls BIGINT: model responses
-- returns tool_calls BIGINT: tool calls
-- returns tool_errors BIGINT: failed tool calls
-- returns user_rejections BIGINT: rejected tool calls
-- returns interrupts BIGINT: interrupt events
-- returns api_errors BIGINT: API error events
-- returns compactions BIGINT: context compactions
-- returns subagents BIGINT: subagent sessions spawned (fan-out)
-- returns loops BIGINT: loop runs (>= 3 identical consecutive tool calls)
-- returns interrupted BOOLEAN: interrupted at least once
-- returns abandoned BOOLEAN: ended right after an error
-- returns last_event_kind VARCHAR: kind of the last conversational event
-- returns total_tokens BIGINT: tokens of the session's non-synthetic responses
-- returns cost_usd DOUBLE: cost of the priced responses (USD)
-- returns unpriced_calls BIGINT: responses without a price
SELECT
    s.session_key, s.agent, s.session_id, s.project, s.primary_model, s.is_subagent, s.started_at, s.duration_s,
    s.n_user_prompts AS turns,
    s.n_llm_calls AS llm_calls,
    s.n_tool_calls AS tool_calls,
    s.n_tool_errors AS tool_errors,
    s.n_user_rejections AS user_rejections,
    s.n_interrupts AS interrupts,
    s.n_api_errors AS api_errors,
    s.n_compactions AS compactions,
    s.n_subagents AS subagents,
    o.loops,
    o.interrupted,
    o.abandoned,
    o.last_event_kind,
    (s.input_tokens + s.output_tokens + s.cache_read_tokens + s.cache_write_tokens)::BIGINT AS total_tokens,
    o.cost_usd,
    o.unpriced_calls
FROM tl_sessions($since, $until, $agent, $model, $project, $include_subagents) s
JOIN tl_session_outcomes($since, $until, $agent, $model, $project, $include_subagents) o USING (session_key)
ORDER BY s.started_at DESC NULLS LAST, s.session_key
LIMIT $limit
