-- name: report_model_comparison
-- description: One row per agent x model for one window: sample sizes, tool error rate with
--   its Wilson 95% interval, LLM latency median/p95, tokens and cost per call. Descriptive
--   only: traces are not a representative sample of any model's behaviour (see `note`).
-- param since TIMESTAMP: window start (inclusive, UTC)
-- param until TIMESTAMP: window end (exclusive, UTC)
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model
-- returns agent VARCHAR: agent
-- returns model VARCHAR: model
-- returns sessions BIGINT: sessions with at least one call of this model
-- returns llm_calls BIGINT: non-synthetic LLM calls
-- returns tool_calls BIGINT: tool calls the model issued
-- returns completed BIGINT: ok + error tool calls
-- returns errors BIGINT: failed tool calls
-- returns error_rate DOUBLE: errors / completed
-- returns ci_low DOUBLE: Wilson 95% lower bound of error_rate
-- returns ci_high DOUBLE: Wilson 95% upper bound of error_rate
-- returns latency_n BIGINT: LLM calls with a known latency
-- returns p50_ms DOUBLE: median LLM call latency
-- returns p95_ms DOUBLE: 95th percentile LLM call latency
-- returns tokens_per_call DOUBLE: mean total tokens per LLM call
-- returns output_tokens_per_call DOUBLE: mean output tokens per LLM call
-- returns cost_usd DOUBLE: estimated cost (USD) of the priced calls
-- returns cost_per_call DOUBLE: cost_usd / priced calls (NULL when none priced)
-- returns note VARCHAR: the representativeness caveat
WITH l AS (
    SELECT agent, model,
           count(DISTINCT session_key) AS sessions,
           count(*) AS llm_calls,
           count(latency_ms) AS latency_n,
           quantile_cont(latency_ms, 0.5) AS p50_ms,
           quantile_cont(latency_ms, 0.95) AS p95_ms,
           avg(total_tokens) AS tokens_per_call,
           avg(output_tokens) AS output_tokens_per_call,
           sum(cost_usd) AS cost_usd,
           sum(cost_usd) / nullif(count(cost_usd), 0) AS cost_per_call
    FROM tl_llm_calls($since, $until, $agent, $model, NULL, TRUE)
    WHERE NOT coalesce(is_synthetic, false) AND model IS NOT NULL
    GROUP BY ALL
),
t AS (
    SELECT agent, model,
           count(*) AS tool_calls,
           count(*) FILTER (WHERE status IN ('ok', 'error')) AS completed,
           count(*) FILTER (WHERE status = 'error') AS errors
    FROM tl_tool_calls($since, $until, $agent, $model, NULL, NULL, TRUE)
    WHERE model IS NOT NULL
    GROUP BY ALL
)
SELECT
    l.agent, l.model, l.sessions, l.llm_calls,
    coalesce(t.tool_calls, 0) AS tool_calls,
    coalesce(t.completed, 0) AS completed,
    coalesce(t.errors, 0) AS errors,
    t.errors / nullif(t.completed, 0) AS error_rate,
    tl_wilson_lo(t.errors, t.completed) AS ci_low,
    tl_wilson_hi(t.errors, t.completed) AS ci_high,
    l.latency_n, l.p50_ms, l.p95_ms, l.tokens_per_call, l.output_tokens_per_call,
    l.cost_usd, l.cost_per_call,
    tl_sample_note() AS note
FROM l
LEFT JOIN t ON t.agent = l.agent AND t.model = l.model
ORDER BY l.llm_calls DESC, l.agent, l.model
