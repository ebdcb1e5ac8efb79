-- name: tool_retries
-- description: Retry after error. For every failed call (status error), the next call of the
--   same tool in the same session (by start time, call line, call id) is its retry, if there is one. Reports how
--   often a failure is retried, how often the retry has the identical input, and how often
--   the retry succeeds, by agent x model x tool.
-- param since TIMESTAMP = NULL: window start on started_at, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model (of the failed call)
-- param project VARCHAR = NULL: only sessions of this project
-- param tool VARCHAR = NULL: only this tool
-- param include_subagents BOOLEAN = TRUE: FALSE drops calls made in subagent sessions
-- returns agent VARCHAR: agent
-- returns model VARCHAR: model of the failed call
-- returns tool_name VARCHAR: tool
-- returns errors BIGINT: failed calls
-- returns retried BIGINT: failed calls followed by another call of the same tool in the session
-- returns retry_rate DOUBLE: retried / errors
-- returns retry_rate_lo DOUBLE: Wilson 95% lower bound
-- returns retry_rate_hi DOUBLE: Wilson 95% upper bound
-- returns same_input_retries BIGINT: retries whose input is identical to the failed call's
-- returns retry_ok BIGINT: retries with status ok
-- returns retry_success_rate DOUBLE: retry_ok / retried

-- the next call of the same tool is stored per call (tool_calls.next_same_tool_*); with a
-- time window it counts only when it lies in the window too (it is the next call of the
-- filtered set exactly then: calls are ordered by start time first)
WITH c AS (
    SELECT agent, model, tool_name, status, next_same_tool_status, next_same_tool_same_input,
           next_same_tool_status IS NOT NULL AND tl_in_window(next_same_tool_at, $since, $until) AS is_retried
    FROM tl_tool_calls($since, $until, $agent, NULL, $project, $tool, $include_subagents)
    WHERE status = 'error' AND tl_match(model, $model)
),
g AS (
    SELECT agent, model, tool_name,
           count(*) AS errors,
           count(*) FILTER (WHERE is_retried) AS retried,
           count(*) FILTER (WHERE is_retried AND next_same_tool_same_input) AS same_input_retries,
           count(*) FILTER (WHERE is_retried AND next_same_tool_status = 'ok') AS retry_ok
    FROM c
    GROUP BY ALL
)
SELECT agent, model, tool_name, errors, retried,
       retried / errors AS retry_rate,
       tl_wilson_lo(retried, errors) AS retry_rate_lo,
       tl_wilson_hi(retried, errors) AS retry_rate_hi,
       same_input_retries, retry_ok,
       CASE WHEN retried > 0 THEN retry_ok / retried END AS retry_success_rate
FROM g
ORDER BY agent, model NULLS LAST, errors DESC, tool_name
