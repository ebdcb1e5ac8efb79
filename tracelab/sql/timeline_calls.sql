-- name: timeline_calls
-- description: The LLM calls of some sessions in order (by finish time), numbered per session,
--   with the context size each one carried (input + cache read + cache write tokens), its
--   latency: the data of the session page's chart. Reads the temp table
--   tl_timeline_llm_calls (see timeline_steps). No cost: tracelab.session.timeline prices
--   each call with tracelab.pricing.cost_usd (the twin of tl_cost over tl_price_ranges in
--   queries/_macros.sql, the same arithmetic), so the store makes no price table for a session.
--   `tracelab session` numbers them in Python the same way (tracelab/session/steps.py,
--   checked against this query by tests/test_session_steps.py).
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
SELECT session_key,
       row_number() OVER (PARTITION BY session_key ORDER BY ts NULLS LAST, line_no, llm_call_key) AS call_no,
       llm_call_key, ts, model, is_synthetic, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
       (coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0))::BIGINT AS context_tokens,
       latency_ms
FROM tl_timeline_llm_calls
ORDER BY session_key, call_no
