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
WITH c AS (
    SELECT agent, model, tool_name, status,
           lead(status) OVER w AS next_status,
           hash(input_json) AS input_hash,
           lead(hash(input_json)) OVER w AS next_input_hash,
           lead(tool_call_key) OVER w AS next_key
    FROM tl_tool_calls($since, $until, $agent, NULL, $project, $tool, $include_subagents)
    WINDOW w AS (PARTITION BY session_num, tool_name ORDER BY started_at, call_line_no, tool_call_id)
),
g AS (
    SELECT agent, model, tool_name,
           count(*) AS errors,
           count(next_key) AS retried,
           count(*) FILTER (WHERE next_key IS NOT NULL AND next_input_hash = input_hash) AS same_input_retries,
           count(*) FILTER (WHERE next_status = 'ok') AS retry_ok
    FROM c
    WHERE status = 'error' AND tl_match(model, $model)
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
