-- name: latency_percentiles
-- description: Latency percentiles (p50/p90/p95/p99, exact, linearly interpolated) per
--   agent x the chosen dimensions, for one latency metric.
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
-- returns metric VARCHAR: the metric
-- returns agent VARCHAR: agent
-- returns model VARCHAR: model (NULL unless grouped by model)
-- returns tool_name VARCHAR: tool (NULL unless grouped by tool)
-- returns project VARCHAR: project (NULL unless grouped by project)
-- returns n BIGINT: observations
-- returns mean_ms DOUBLE: mean
-- returns p50_ms DOUBLE: median
-- returns p90_ms DOUBLE: 90th percentile
-- returns p95_ms DOUBLE: 95th percentile
-- returns p99_ms DOUBLE: 99th percentile
-- returns max_ms DOUBLE: maximum
WITH g AS (
    SELECT
        metric,
        agent,
        tl_by($by, 'model', model) AS model,
        tl_by($by, 'tool', tool_name) AS tool_name,
        tl_by($by, 'project', project) AS project,
        count(*) AS n,
        avg(value_ms) AS mean_ms,
        -- one aggregate, one sort per group, for all four percentiles
        quantile_cont(value_ms, [0.5, 0.9, 0.95, 0.99]) AS q,
        max(value_ms) AS max_ms
    FROM tl_latency_samples($metric, $since, $until, $agent, $model, $project, $tool, $include_subagents)
    GROUP BY ALL
)
SELECT metric, agent, model, tool_name, project, n, mean_ms,
       q[1] AS p50_ms, q[2] AS p90_ms, q[3] AS p95_ms, q[4] AS p99_ms, max_ms
FROM g
ORDER BY agent, n DESC, model NULLS LAST, tool_name NULLS LAST, project NULLS LAST
