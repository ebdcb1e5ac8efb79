-- name: latency_ecdf
-- description: Empirical CDF points per agent x the chosen dimension: at most `points`
--   (value, share of observations <= value) pairs per group, taken where the ECDF crosses each
--   multiple of 1/points and always including the maximum, so plots stay small on big warehouses.
-- param since TIMESTAMP = NULL: window start, inclusive (UTC; on the call time, or the prompt time for turn metrics)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model
-- param project VARCHAR = NULL: only sessions of this project
-- param tool VARCHAR = NULL: only this tool (metric tool only; ignored by the others)
-- param include_subagents BOOLEAN = TRUE: FALSE drops observations from subagent sessions
-- param metric VARCHAR = 'llm' {llm|tool|turn|human_wait}: llm = model response latency, tool = tool call latency,
--   turn = turn duration, human_wait = human wait between turns (docs/metrics.md)
-- param by VARCHAR = 'model' {agent|model|tool|project|none}: grouping dimension inside each agent
-- param points INTEGER = 100: points kept per group
-- returns metric VARCHAR: the metric
-- returns agent VARCHAR: agent
-- returns group_key VARCHAR: value of the by dimension
-- returns value_ms DOUBLE: latency
-- returns ecdf DOUBLE: share of the group's observations <= value_ms
-- returns n BIGINT: observations in the group
WITH s AS (
    SELECT metric, agent, tl_group_key($by, agent, model, tool_name, project) AS group_key, value_ms
    FROM tl_latency_samples($metric, $since, $until, $agent, $model, $project, $tool, $include_subagents)
),
d AS (
    SELECT metric, agent, group_key, value_ms, count(*) AS c
    FROM s
    GROUP BY ALL
),
r AS (
    SELECT *,
           sum(c) OVER (PARTITION BY metric, agent, group_key ORDER BY value_ms ROWS UNBOUNDED PRECEDING) AS cum,
           sum(c) OVER (PARTITION BY metric, agent, group_key) AS n
    FROM d
)
-- keep a distinct value when its step of the ECDF crosses a multiple of 1/points
SELECT metric, agent, group_key, value_ms, cum / n AS ecdf, CAST(n AS BIGINT) AS n
FROM r
WHERE cum = n OR floor(cum * $points / n) > floor((cum - c) * $points / n)
ORDER BY agent, group_key NULLS LAST, value_ms
