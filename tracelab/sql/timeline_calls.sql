-- name: timeline_calls
-- description: The LLM calls of some sessions in order (by finish time), numbered per session,
--   with the context size each one carried (input + cache read + cache write tokens), its
--   latency and cost: the data of the session page's chart. Reads the temp table
--   tl_timeline_llm_calls (see timeline_steps); prices as tl_llm_calls in queries/_macros.sql.
-- returns session_key VARCHAR: session
-- returns call_no BIGINT: 1-based position of the call in its session
-- returns llm_call_key VARCHAR: call key
-- returns ts TIMESTAMP WITH TIME ZONE: time the response finished
-- returns model VARCHAR: model
-- returns is_synthetic BOOLEAN: a local stand-in (not counted in totals)
-- returns input_tokens BIGINT: uncached input
-- returns output_tokens BIGINT: output
-- returns cache_read_tokens BIGINT: cache reads
-- returns cache_write_tokens BIGINT: cache writes
-- returns context_tokens BIGINT: input + cache read + cache write
-- returns latency_ms DOUBLE: request -> response, ms
-- returns cost_usd DOUBLE: cost (NULL when unpriced)
SELECT session_key,
       row_number() OVER (PARTITION BY session_key ORDER BY ts NULLS LAST, line_no, llm_call_key) AS call_no,
       llm_call_key, ts, model, is_synthetic, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
       (coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0))::BIGINT AS context_tokens,
       latency_ms, cost_usd
FROM (
    SELECT l.*, tl_cost(p.price_model, l.input_tokens, l.output_tokens, l.cache_read_tokens, l.cache_write_tokens,
                        p.input_per_mtok, p.output_per_mtok, p.cache_read_per_mtok, p.cache_write_per_mtok) AS cost_usd
    FROM tl_timeline_llm_calls l
    -- price keys of these calls' models only (the shared key table reads the model of every call in the warehouse)
    LEFT JOIN (SELECT DISTINCT model, tl_price_key(model) AS price_key FROM tl_timeline_llm_calls WHERE model IS NOT NULL) k ON k.model = l.model
    LEFT JOIN tl_price_ranges p
        ON p.match_key = k.price_key AND l.ts >= p.effective_from AND (p.effective_to IS NULL OR l.ts < p.effective_to)
)
ORDER BY session_key, call_no
