-- name: tool_error_rates
-- description: Tool outcomes by period x agent x model x tool, with Wilson 95% intervals.
--   Outcomes are kept apart: failures (status error), user rejections, interruptions and
--   calls with no result. error_rate = errors / completed, where completed = ok + errors
--   (rejected, interrupted and unanswered calls never ran to completion); failure_rate =
--   (errors + rejections + interruptions) / calls.
-- param since TIMESTAMP = NULL: window start on started_at, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent (claude, codex, pi)
-- param model VARCHAR = NULL: only this model (exact name as logged)
-- param project VARCHAR = NULL: only sessions of this project (sessions.project)
-- param tool VARCHAR = NULL: only this tool
-- param include_subagents BOOLEAN = TRUE: FALSE drops calls made in subagent sessions
-- param period VARCHAR = 'week' {day|week|month|all}: time bucket (weeks start Monday; all = one bucket)
-- returns period_start DATE: first day of the bucket (NULL for period all)
-- returns agent VARCHAR: agent
-- returns model VARCHAR: model that issued the calls
-- returns tool_name VARCHAR: tool
-- returns calls BIGINT: tool calls
-- returns ok BIGINT: calls with status ok
-- returns errors BIGINT: calls that failed (status error, incl. non-zero exit codes)
-- returns user_rejections BIGINT: calls the user rejected
-- returns interruptions BIGINT: calls interrupted by the user
-- returns no_result BIGINT: calls without any result
-- returns completed BIGINT: ok + errors
-- returns error_rate DOUBLE: errors / completed
-- returns error_rate_lo DOUBLE: Wilson 95% lower bound of error_rate
-- returns error_rate_hi DOUBLE: Wilson 95% upper bound of error_rate
-- returns failure_rate DOUBLE: (errors + user_rejections + interruptions) / calls
-- returns failure_rate_lo DOUBLE: Wilson 95% lower bound of failure_rate
-- returns failure_rate_hi DOUBLE: Wilson 95% upper bound of failure_rate
WITH g AS (
    SELECT
        tl_period_start(date, $period) AS period_start,
        agent,
        model,
        tool_name,
        count(*) AS calls,
        count(*) FILTER (WHERE status = 'ok') AS ok,
        count(*) FILTER (WHERE status = 'error') AS errors,
        count(*) FILTER (WHERE status = 'user_rejected') AS user_rejections,
        count(*) FILTER (WHERE status = 'interrupted') AS interruptions,
        count(*) FILTER (WHERE status = 'no_result') AS no_result
    FROM tl_tool_calls($since, $until, $agent, $model, $project, $tool, $include_subagents)
    GROUP BY ALL
)
SELECT
    period_start, agent, model, tool_name, calls, ok, errors, user_rejections, interruptions, no_result,
    ok + errors AS completed,
    CASE WHEN ok + errors > 0 THEN errors / (ok + errors) END AS error_rate,
    tl_wilson_lo(errors, ok + errors) AS error_rate_lo,
    tl_wilson_hi(errors, ok + errors) AS error_rate_hi,
    (errors + user_rejections + interruptions) / calls AS failure_rate,
    tl_wilson_lo(errors + user_rejections + interruptions, calls) AS failure_rate_lo,
    tl_wilson_hi(errors + user_rejections + interruptions, calls) AS failure_rate_hi
FROM g
ORDER BY period_start NULLS FIRST, agent, model NULLS LAST, calls DESC, tool_name
