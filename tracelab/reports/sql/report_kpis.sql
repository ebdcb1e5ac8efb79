-- name: report_kpis
-- description: Headline numbers of the report week and the week before, one row per week.
--   sessions: main sessions (not subagent, not warm-up) started in the week; tool-error rate
--   = errors / completed (ok + error) tool calls; latency and tokens over non-synthetic LLM
--   calls; cost from the price table (calls of unpriced models counted in unpriced_calls).
-- param previous_since TIMESTAMP: start of the previous week (inclusive, UTC)
-- param since TIMESTAMP: start of the report week (inclusive, UTC)
-- param until TIMESTAMP: end of the report week (exclusive, UTC)
-- returns week VARCHAR: current | previous
-- returns sessions BIGINT: main sessions started
-- returns subagent_sessions BIGINT: subagent sessions started (warm-ups excluded)
-- returns tool_calls BIGINT: tool calls started
-- returns tool_completed BIGINT: tool calls that ran to completion (ok + error)
-- returns tool_errors BIGINT: failed tool calls
-- returns tool_error_rate DOUBLE: tool_errors / tool_completed
-- returns llm_calls BIGINT: non-synthetic LLM calls
-- returns llm_latency_n BIGINT: non-synthetic LLM calls with a latency (the sample of the percentiles)
-- returns llm_p50_ms DOUBLE: median LLM call latency
-- returns llm_p95_ms DOUBLE: 95th percentile LLM call latency
-- returns total_tokens BIGINT: input + output + cache read + cache write tokens
-- returns output_tokens BIGINT: output tokens (reasoning included)
-- returns cost_usd DOUBLE: estimated cost of the priced calls (USD)
-- returns unpriced_calls BIGINT: non-synthetic calls whose cost is unknown
WITH weeks AS (
    SELECT * FROM (VALUES ('current'), ('previous')) AS w(week)
),
s AS (
    SELECT CASE WHEN started_at >= $since THEN 'current' ELSE 'previous' END AS week,
           count(*) FILTER (WHERE NOT coalesce(is_subagent, false) AND NOT coalesce(is_warmup, false)) AS sessions,
           count(*) FILTER (WHERE coalesce(is_subagent, false) AND NOT coalesce(is_warmup, false)) AS subagent_sessions
    FROM tl_sessions($previous_since, $until, NULL, NULL, NULL, TRUE)
    GROUP BY ALL
),
t AS (
    SELECT CASE WHEN started_at >= $since THEN 'current' ELSE 'previous' END AS week,
           count(*) AS tool_calls,
           count(*) FILTER (WHERE status IN ('ok', 'error')) AS tool_completed,
           count(*) FILTER (WHERE status = 'error') AS tool_errors
    FROM tl_tool_calls($previous_since, $until, NULL, NULL, NULL, NULL, TRUE)
    GROUP BY ALL
),
l AS (
    SELECT CASE WHEN ts >= $since THEN 'current' ELSE 'previous' END AS week,
           count(*) AS llm_calls,
           count(latency_ms) AS llm_latency_n,
           quantile_cont(latency_ms, 0.5) AS llm_p50_ms,
           quantile_cont(latency_ms, 0.95) AS llm_p95_ms,
           sum(total_tokens)::BIGINT AS total_tokens,
           sum(output_tokens)::BIGINT AS output_tokens,
           sum(cost_usd) AS cost_usd,
           count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_calls
    FROM tl_llm_calls($previous_since, $until, NULL, NULL, NULL, TRUE)
    WHERE NOT coalesce(is_synthetic, false)
    GROUP BY ALL
)
SELECT
    w.week,
    coalesce(s.sessions, 0) AS sessions,
    coalesce(s.subagent_sessions, 0) AS subagent_sessions,
    coalesce(t.tool_calls, 0) AS tool_calls,
    coalesce(t.tool_completed, 0) AS tool_completed,
    coalesce(t.tool_errors, 0) AS tool_errors,
    t.tool_errors / nullif(t.tool_completed, 0) AS tool_error_rate,
    coalesce(l.llm_calls, 0) AS llm_calls,
    coalesce(l.llm_latency_n, 0) AS llm_latency_n,
    l.llm_p50_ms,
    l.llm_p95_ms,
    coalesce(l.total_tokens, 0) AS total_tokens,
    coalesce(l.output_tokens, 0) AS output_tokens,
    l.cost_usd,
    coalesce(l.unpriced_calls, 0) AS unpriced_calls
FROM weeks w
LEFT JOIN s USING (week)
LEFT JOIN t USING (week)
LEFT JOIN l USING (week)
ORDER BY w.week
