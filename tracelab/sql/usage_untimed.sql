-- name: usage_untimed
-- description: LLM responses that `tracelab usage` leaves out because they have no timestamp
--   (they fall in no day, week or month; the session report leaves them out too, as ccusage
--   does), under the same agent, model, project and subagent filters; the command says how many.
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model
-- param project VARCHAR = NULL: only sessions of this project
-- param include_subagents BOOLEAN = TRUE: FALSE drops calls made in subagent sessions
-- returns llm_calls BIGINT: responses without a timestamp
-- returns total_tokens BIGINT: their tokens (input, output, cache write and cache read)
SELECT count(*) AS llm_calls, coalesce(sum(total_tokens), 0) AS total_tokens
FROM tl_llm_calls_nocost(NULL, NULL, $agent, $model, $project, $include_subagents)
WHERE ts IS NULL
