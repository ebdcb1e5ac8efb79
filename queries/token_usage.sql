-- name: token_usage
-- description: Token totals and cost by period x agent x model. Synthetic stand-in responses
--   are excluded. Cost comes from the packaged price table (tracelab/pricing/prices.toml,
--   date-effective); calls of unpriced models count in unpriced_calls and add nothing to
--   cost_usd, which is NULL when no call of the group could be priced.
-- param since TIMESTAMP = NULL: window start on the response time, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model
-- param project VARCHAR = NULL: only sessions of this project
-- param include_subagents BOOLEAN = TRUE: FALSE drops calls made in subagent sessions
-- param period VARCHAR = 'day' {day|week|month|all}: time bucket (weeks start Monday; all = one bucket)
-- returns period_start DATE: first day of the bucket (NULL for period all)
-- returns agent VARCHAR: agent
-- returns model VARCHAR: model
-- returns llm_calls BIGINT: model responses
-- returns sessions BIGINT: distinct sessions
-- returns input_tokens BIGINT: uncached input tokens
-- returns output_tokens BIGINT: output tokens (reasoning included)
-- returns cache_read_tokens BIGINT: tokens read from the prompt cache
-- returns cache_write_tokens BIGINT: tokens written to the prompt cache
-- returns reasoning_tokens BIGINT: reasoning tokens (a subset of output_tokens)
-- returns total_tokens BIGINT: input + output + cache_read + cache_write
-- returns cache_hit_ratio DOUBLE: cache_read / (input + cache_read + cache_write)
-- returns cost_usd DOUBLE: cost of the priced calls (USD)
-- returns cost_usd_reported DOUBLE: cost the agent itself logged, where it did
-- returns unpriced_calls BIGINT: calls the price table could not price (cost unknown)

WITH per_session AS (
    SELECT * FROM tl_session_usage($period, $since, $until, $agent, $model, $project, $include_subagents)
)
SELECT
    period_start,
    agent,
    model,
    sum(llm_calls)::BIGINT AS llm_calls,
    count(*) AS sessions,
    sum(input_tokens)::BIGINT AS input_tokens,
    sum(output_tokens)::BIGINT AS output_tokens,
    sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
    sum(cache_write_tokens)::BIGINT AS cache_write_tokens,
    sum(reasoning_tokens)::BIGINT AS reasoning_tokens,
    sum(total_tokens)::BIGINT AS total_tokens,
    sum(cache_read_tokens) / nullif(sum(input_tokens) + sum(cache_read_tokens) + sum(cache_write_tokens), 0) AS cache_hit_ratio,
    sum(cost_usd) AS cost_usd,
    sum(cost_usd_reported) AS cost_usd_reported,
    sum(unpriced_calls)::BIGINT AS unpriced_calls
FROM per_session
GROUP BY period_start, agent, model
ORDER BY period_start NULLS FIRST, agent, total_tokens DESC, model NULLS LAST
