-- name: pricing_coverage
-- description: Which logged models the price table prices, with which entry and from which
--   date, and how many calls and tokens are left unpriced (their cost is unknown, not zero).
-- param since TIMESTAMP = NULL: window start on the response time, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model
-- param project VARCHAR = NULL: only sessions of this project
-- param include_subagents BOOLEAN = TRUE: FALSE drops calls made in subagent sessions
-- returns agent VARCHAR: agent
-- returns model VARCHAR: model as logged
-- returns price_model VARCHAR: price-table entry used (NULL = no entry matched)
-- returns first_effective_from TIMESTAMP WITH TIME ZONE: earliest price row applied
-- returns last_effective_from TIMESTAMP WITH TIME ZONE: latest price row applied
-- returns llm_calls BIGINT: non-synthetic responses
-- returns priced_calls BIGINT: calls with a cost
-- returns unpriced_calls BIGINT: calls without (unknown model, call before the first price, or an unpriced token kind)
-- returns total_tokens BIGINT: tokens of all calls
-- returns unpriced_tokens BIGINT: tokens of the unpriced calls
-- returns cost_usd DOUBLE: cost of the priced calls
SELECT
    agent,
    model,
    any_value(price_model) AS price_model,
    min(price_effective_from) AS first_effective_from,
    max(price_effective_from) AS last_effective_from,
    count(*) AS llm_calls,
    count(cost_usd) AS priced_calls,
    count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_calls,
    sum(total_tokens)::BIGINT AS total_tokens,
    coalesce(sum(total_tokens) FILTER (WHERE cost_usd IS NULL), 0)::BIGINT AS unpriced_tokens,
    sum(cost_usd) AS cost_usd
FROM tl_llm_calls($since, $until, $agent, $model, $project, $include_subagents)
WHERE NOT is_synthetic
GROUP BY agent, model
ORDER BY unpriced_tokens DESC, total_tokens DESC, agent, model NULLS LAST
