-- name: latency_histogram
-- description: Latency histogram per agent x the chosen dimensions. All groups share one set
--   of bins spanning the filtered data, so groups can be overlaid; log scale (default) puts
--   the bin edges evenly on log10(ms) (values below 1 ms fall in the first bin). Empty bins
--   are not returned.
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
-- param bins INTEGER = 30 (>= 1): number of bins
-- param log_scale BOOLEAN = TRUE: bins even in log10(ms) instead of ms
-- returns metric VARCHAR: the metric
-- returns agent VARCHAR: agent
-- returns model VARCHAR: model (NULL unless grouped by model)
-- returns tool_name VARCHAR: tool (NULL unless grouped by tool)
-- returns project VARCHAR: project (NULL unless grouped by project)
-- returns bin INTEGER: bin number, 0-based
-- returns bin_lo_ms DOUBLE: lower edge (inclusive)
-- returns bin_hi_ms DOUBLE: upper edge (exclusive; the last bin includes it)
-- returns n BIGINT: observations in the bin
-- returns share DOUBLE: n / observations of the group
WITH s AS (
    SELECT metric, agent, tl_by($by, 'model', model) AS model, tl_by($by, 'tool', tool_name) AS tool_name, tl_by($by, 'project', project) AS project,
           CASE WHEN $log_scale THEN log10(greatest(value_ms, 1.0)) ELSE value_ms END AS x
    FROM tl_latency_samples($metric, $since, $until, $agent, $model, $project, $tool, $include_subagents)
),
r AS (
    SELECT min(x) AS lo, max(x) AS hi FROM s
),
b AS (
    SELECT s.metric, s.agent, s.model, s.tool_name, s.project,
           CASE WHEN r.hi = r.lo THEN 0
                ELSE least(CAST(floor((s.x - r.lo) / (r.hi - r.lo) * $bins) AS INTEGER), $bins - 1) END AS bin,
           r.lo, r.hi
    FROM s, r
),
g AS (
    SELECT metric, agent, model, tool_name, project, bin, any_value(lo) AS lo, any_value(hi) AS hi, count(*) AS n
    FROM b
    GROUP BY ALL
)
SELECT metric, agent, model, tool_name, project, bin,
       CASE WHEN $log_scale THEN pow(10, lo + (hi - lo) * bin / $bins) ELSE lo + (hi - lo) * bin / $bins END AS bin_lo_ms,
       CASE WHEN $log_scale THEN pow(10, lo + (hi - lo) * (bin + 1) / $bins) ELSE lo + (hi - lo) * (bin + 1) / $bins END AS bin_hi_ms,
       n,
       n / sum(n) OVER (PARTITION BY metric, agent, model, tool_name, project) AS share
FROM g
ORDER BY agent, model NULLS LAST, tool_name NULLS LAST, project NULLS LAST, bin
