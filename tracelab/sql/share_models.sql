-- name: share_models
-- description: LLM calls (not synthetic, as sessions.n_llm_calls counts them) and tokens per session
--   and model: the per-model statistics of a share
-- returns session_key VARCHAR: tracelab's session key
-- returns model VARCHAR: model ('unknown' when the agent did not say)
-- returns calls BIGINT: LLM calls
-- returns input_tokens BIGINT: uncached input tokens
-- returns output_tokens BIGINT: output tokens
-- returns cache_read_tokens BIGINT: cache read tokens
-- returns cache_write_tokens BIGINT: cache write tokens
SELECT
    session_key,
    coalesce(model, 'unknown') AS model,
    count(*) AS calls,
    coalesce(sum(input_tokens), 0) AS input_tokens,
    coalesce(sum(output_tokens), 0) AS output_tokens,
    coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
    coalesce(sum(cache_write_tokens), 0) AS cache_write_tokens
FROM llm_calls
WHERE NOT is_synthetic
GROUP BY ALL
ORDER BY session_key, model
