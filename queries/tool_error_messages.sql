-- name: tool_error_messages
-- description: The most frequent error messages per tool. Each failed, rejected or
--   interrupted call's error text is reduced to a template (tool_calls.error_message, stored
--   by the derive step with tl_error_template: first line, numbers -> N, long hex ids -> H,
--   quoted strings -> '…'), then counted per agent x tool.
-- param since TIMESTAMP = NULL: window start on started_at, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model
-- param project VARCHAR = NULL: only sessions of this project
-- param tool VARCHAR = NULL: only this tool
-- param include_subagents BOOLEAN = TRUE: FALSE drops calls made in subagent sessions
-- param top INTEGER = 10 (>= 1): messages kept per agent x tool
-- returns agent VARCHAR: agent
-- returns tool_name VARCHAR: tool
-- returns rank BIGINT: 1 = most frequent message of this tool
-- returns status VARCHAR: error, user_rejected or interrupted
-- returns message VARCHAR: message template
-- returns n BIGINT: calls with this message
-- returns share DOUBLE: n / all non-ok outcomes (error, rejection, interruption) of this agent x tool
-- returns sessions BIGINT: distinct sessions in which it occurred
-- returns example VARCHAR: one raw message (first 300 characters)
WITH e AS (
    SELECT agent, tool_name, status, session_key, started_at, error_text,
           error_message AS message
    FROM tl_tool_calls($since, $until, $agent, $model, $project, $tool, $include_subagents)
    WHERE status IN ('error', 'user_rejected', 'interrupted')
),
g AS (
    SELECT agent, tool_name, status, message,
           count(*) AS n,
           count(DISTINCT session_key) AS sessions,
           left(arg_min(error_text, started_at), 300) AS example
    FROM e
    GROUP BY ALL
),
r AS (
    SELECT *,
           row_number() OVER (PARTITION BY agent, tool_name ORDER BY n DESC, status, message) AS rank,
           n / sum(n) OVER (PARTITION BY agent, tool_name) AS share
    FROM g
)
SELECT agent, tool_name, rank, status, message, n, share, sessions, example
FROM r
WHERE rank <= $top
ORDER BY agent, tool_name, rank
