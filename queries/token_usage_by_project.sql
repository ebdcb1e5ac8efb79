-- name: token_usage_by_project
-- description: Token totals and cost by project x agent x model (synthetic responses
--   excluded; unpriced calls counted, never costed as zero).
-- param since TIMESTAMP = NULL: window start on the response time, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model
-- param project VARCHAR = NULL: only this project
-- param include_subagents BOOLEAN = TRUE: FALSE drops calls made in subagent sessions
-- returns project VARCHAR: project (sessions.project: repository owner/name or worktree-stripped root folder, see data/README.md "Projects")
-- returns agent VARCHAR: agent
-- returns model VARCHAR: model
-- returns sessions BIGINT: distinct sessions
-- returns llm_calls BIGINT: model responses
-- returns input_tokens BIGINT: uncached input tokens
-- returns output_tokens BIGINT: output tokens
-- returns cache_read_tokens BIGINT: cache read tokens
-- returns cache_write_tokens BIGINT: cache write tokens
-- returns total_tokens BIGINT: all four
-- returns cache_hit_ratio DOUBLE: cache_read / (input + cache_read + cache_write)
-- returns cost_usd DOUBLE: cost of the priced calls (USD)
-- returns unpriced_calls BIGINT: calls without a price
WITH per_session AS (
    SELECT * FROM tl_session_usage('all', $since, $until, $agent, $model, $project, $include_subagents)
)
SELECT
    project,
    agent,
    model,
    count(*) AS sessions,
    sum(llm_calls)::BIGINT AS llm_calls,
    sum(input_tokens)::BIGINT AS input_tokens,
    sum(output_tokens)::BIGINT AS output_tokens,
    sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
    sum(cache_write_tokens)::BIGINT AS cache_write_tokens,
    sum(total_tokens)::BIGINT AS total_tokens,
    sum(cache_read_tokens) / nullif(sum(input_tokens) + sum(cache_read_tokens) + sum(cache_write_tokens), 0) AS cache_hit_ratio,
    sum(cost_usd) AS cost_usd,
    sum(unpriced_calls)::BIGINT AS unpriced_calls
FROM per_session
GROUP BY project, agent, model
ORDER BY total_tokens DESC, project NULLS LAST, agent, model NULLS LAST
