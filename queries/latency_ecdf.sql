-- name: latency_ecdf
-- description: Empirical CDF points per agent x the chosen dimensions: at most `points`
--   (value, share of observations <= value) pairs per group, taken where the ECDF crosses each
--   multiple of 1/points and always including the maximum, so plots stay small on big warehouses.
-- param since TIMESTAMP = NULL: window start, inclusive (UTC; on the call time, or the prompt time for turn metrics)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model
-- param project VARCHAR = NULL: only sessions of this project
-- param tool VARCHAR = NULL: only this tool (metric tool only; ignored by the others)
-- param include_subagents BOOLEAN = TRUE: FALSE drops observations from subagent sessions
-- param metric VARCHAR = 'llm' {llm|tool|turn|human_wait}: llm = model response latency, tool = latency of completed tool calls,
--   turn = turn duration, human_wait = human wait between turns (docs/metrics.md)
-- param by VARCHAR = 'model': comma-separated subset of model, tool, project to group by within each agent ('none' = per agent)
-- param points INTEGER = 100 (>= 1): points kept per group
-- returns metric VARCHAR: the metric
-- returns agent VARCHAR: agent
-- returns model VARCHAR: model (NULL unless grouped by model)
-- returns tool_name VARCHAR: tool (NULL unless grouped by tool)
-- returns project VARCHAR: project (NULL unless grouped by project)
-- returns value_ms DOUBLE: latency
-- returns ecdf DOUBLE: share of the group's observations <= value_ms
-- returns n BIGINT: observations in the group
WITH s AS (
    SELECT metric, agent, tl_by($by, 'model', model) AS model, tl_by($by, 'tool', tool_name) AS tool_name, tl_by($by, 'project', project) AS project, value_ms
    FROM tl_latency_samples($metric, $since, $until, $agent, $model, $project, $tool, $include_subagents)
),
d AS (
    SELECT metric, agent, model, tool_name, project, value_ms, count(*) AS c
    FROM s
    GROUP BY ALL
),
r AS (
    SELECT *,
           sum(c) OVER (PARTITION BY metric, agent, model, tool_name, project ORDER BY value_ms ROWS UNBOUNDED PRECEDING) AS cum,
           sum(c) OVER (PARTITION BY metric, agent, model, tool_name, project) AS n
    FROM d
)
-- keep a distinct value when its step of the ECDF crosses a multiple of 1/points
SELECT metric, agent, model, tool_name, project, value_ms, cum / n AS ecdf, CAST(n AS BIGINT) AS n
FROM r
WHERE cum = n OR floor(cum * $points / n) > floor((cum - c) * $points / n)
ORDER BY agent, model NULLS LAST, tool_name NULLS LAST, project NULLS LAST, value_ms
