-- name: demo_sessions
-- description: sessions, subagents, LLM calls and tool calls per agent (demo summary)
SELECT
    agent,
    count(*) FILTER (WHERE NOT is_subagent) AS sessions,
    count(*) FILTER (WHERE is_subagent AND NOT is_warmup) AS subagents,
    sum(n_llm_calls) AS llm_calls,
    sum(n_tool_calls) AS tool_calls,
    min(started_at)::DATE AS first_day,
    max(ended_at)::DATE AS last_day
FROM sessions
GROUP BY agent
ORDER BY agent
