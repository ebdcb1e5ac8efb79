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
-- param limit INTEGER = NULL: at most this many sessions, newest first (NULL = all)
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
WITH s AS (
    SELECT * FROM tl_sessions($since, $until, $agent, $model, $project, $include_subagents)
),
loops AS (
    SELECT r.session_key, count(*) FILTER (WHERE r.repeats >= 3) AS loops, bool_or(r.any_interrupted) AS tool_interrupted
    FROM tl_tool_runs(NULL, NULL, $agent, NULL, NULL, NULL) r SEMI JOIN s ON s.session_key = r.session_key
    GROUP BY r.session_key
),
last_ev AS (
    SELECT e.session_key,
           arg_max(e.kind, (e.ts, e.seq)) AS last_event_kind,
           arg_max(e.kind = 'api_error'
                   OR (e.kind = 'tool_result' AND (e.status = 'error' OR (coalesce(e.status, 'ok') = 'ok' AND coalesce(e.exit_code, 0) <> 0)
                                                  OR (e.status IS NULL AND coalesce(e.is_error, false)))),
                   (e.ts, e.seq)) AS ends_in_error
    FROM events e SEMI JOIN s ON s.session_key = e.session_key
    WHERE e.ts IS NOT NULL
      AND e.kind IN ('user_prompt', 'assistant_text', 'thinking', 'tool_call', 'tool_result', 'api_error', 'interrupt')
    GROUP BY e.session_key
),
cost AS (
    SELECT l.session_key, sum(l.cost_usd) AS cost_usd, count(*) FILTER (WHERE l.cost_usd IS NULL) AS unpriced_calls
    FROM tl_llm_calls(NULL, NULL, $agent, NULL, NULL, NULL) l SEMI JOIN s ON s.session_key = l.session_key
    WHERE NOT l.is_synthetic
    GROUP BY l.session_key
)
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
    coalesce(lp.loops, 0) AS loops,
    s.n_interrupts > 0 OR coalesce(lp.tool_interrupted, false) AS interrupted,
    coalesce(le.ends_in_error, false) AS abandoned,
    le.last_event_kind,
    (s.input_tokens + s.output_tokens + s.cache_read_tokens + s.cache_write_tokens)::BIGINT AS total_tokens,
    c.cost_usd,
    coalesce(c.unpriced_calls, 0) AS unpriced_calls
FROM s
LEFT JOIN loops lp USING (session_key)
LEFT JOIN last_ev le USING (session_key)
LEFT JOIN cost c USING (session_key)
ORDER BY s.started_at DESC NULLS LAST, s.session_key
LIMIT $limit
