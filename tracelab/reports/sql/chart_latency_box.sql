-- name: chart_latency_box
-- description: Five latency percentiles (p5, p25, p50, p75, p95) per agent x model, or per
--   agent x tool for metric tool: the input of a box plot. Exact percentiles (quantile_cont).
-- param since TIMESTAMP = NULL: window start, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model
-- param tool VARCHAR = NULL: only this tool (metric tool only)
-- param metric VARCHAR = 'llm' {llm|tool}: llm = model response latency, tool = tool call latency
-- returns agent VARCHAR: agent
-- returns model VARCHAR: model (metric llm) or tool (metric tool)
-- returns n BIGINT: observations
-- returns p05 DOUBLE: 5th percentile (ms)
-- returns p25 DOUBLE: 25th percentile (ms)
-- returns p50 DOUBLE: median (ms)
-- returns p75 DOUBLE: 75th percentile (ms)
-- returns p95 DOUBLE: 95th percentile (ms)
WITH s AS (
    SELECT agent, CASE WHEN $metric = 'tool' THEN tool_name ELSE model END AS model, value_ms
    FROM tl_latency_samples($metric, $since, $until, $agent, $model, NULL, $tool, TRUE)
)
SELECT agent, model, count(*) AS n,
       quantile_cont(value_ms, 0.05) AS p05,
       quantile_cont(value_ms, 0.25) AS p25,
       quantile_cont(value_ms, 0.5) AS p50,
       quantile_cont(value_ms, 0.75) AS p75,
       quantile_cont(value_ms, 0.95) AS p95
FROM s
GROUP BY ALL
ORDER BY p50, agent, model
