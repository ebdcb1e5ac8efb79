-- name: demo_tokens
-- description: token totals by agent and model (non-synthetic calls), demo summary
SELECT
    agent,
    model,
    count(*) AS calls,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_read_tokens) AS cache_read,
    sum(cache_write_tokens) AS cache_write
FROM llm_calls
WHERE NOT is_synthetic
GROUP BY agent, model
ORDER BY agent, calls DESC
