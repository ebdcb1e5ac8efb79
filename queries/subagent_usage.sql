-- name: subagent_usage
-- description: One row per subagent session: what spawned it (the parent session and the
--   Task/Agent/spawn call, with the subagent type and description the call gave), its model,
--   LLM calls, tool calls, tokens, cost and errors. Nested subagents are rows of their own
--   (parent_session_key is the direct parent, root_session_key the top session). Claude
--   start-up warm-ups are left out. errors = tool errors + rejections + API errors +
--   interrupts + interrupted tool calls (as `tracelab sessions`); tokens and cost cover the subagent's own non-synthetic responses.
-- param since TIMESTAMP = NULL: window start on the subagent's start, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only subagents that used this model
-- param project VARCHAR = NULL: only this project (the subagent's, else its parent's)
-- param parent VARCHAR = NULL: only subagents of this session (its session key, at any depth)
-- returns root_session_key VARCHAR: the top session the subagent rolls up to
-- returns parent_session_key VARCHAR: the session that spawned it
-- returns session_key VARCHAR: the subagent session
-- returns agent VARCHAR: agent
-- returns project VARCHAR: project
-- returns spawn_tool VARCHAR: the tool call that started it (Task, Agent, spawn_agent, …)
-- returns subagent_type VARCHAR: the type the call asked for (subagent_type / agent_type)
-- returns description VARCHAR: the call's description (else the subagent's title)
-- returns model VARCHAR: the subagent's most used model
-- returns started_at TIMESTAMP WITH TIME ZONE: first event
-- returns duration_s DOUBLE: seconds
-- returns llm_calls BIGINT: model responses (non-synthetic)
-- returns tool_calls BIGINT: tool calls
-- returns errors BIGINT: tool errors + rejections + API errors + interrupts + interrupted tool calls
-- returns input_tokens BIGINT: uncached input
-- returns output_tokens BIGINT: output (incl. reasoning)
-- returns cache_read_tokens BIGINT: cache reads
-- returns cache_write_tokens BIGINT: cache writes
-- returns total_tokens BIGINT: input + output + cache read + cache write
-- returns cost_usd DOUBLE: cost of the priced responses (NULL when none is priced)
-- returns unpriced_calls BIGINT: responses without a price
WITH sub AS (
    SELECT s.*, d.project AS dim_project, d.root_session_key
    FROM sessions s
    JOIN tl_session_dims() d USING (session_key)
    WHERE s.is_subagent AND NOT coalesce(s.is_warmup, false)
      AND tl_in_window(s.started_at, $since, $until)
      AND tl_match(s.agent, $agent)
      AND ($model IS NULL OR list_contains(s.models, $model))
      AND tl_match(d.project, $project)
      AND ($parent IS NULL OR s.parent_session_key = $parent OR d.root_session_key = $parent)
),
spawn AS (
    SELECT t.subagent_session_key AS session_key, any_value(t.tool_name) AS spawn_tool, any_value(t.input_json) AS input_json
    FROM tool_calls t
    WHERE t.subagent_session_key IN (SELECT session_key FROM sub)
    GROUP BY 1
),
by_call AS (
    -- subagents whose spawning call is known only from the child's side (parent_tool_call_id)
    SELECT sub.session_key, t.tool_name AS spawn_tool, t.input_json
    FROM sub
    JOIN tool_calls t ON t.session_key = sub.parent_session_key AND t.tool_call_id = sub.parent_tool_call_id
)
SELECT
    sub.root_session_key, sub.parent_session_key, sub.session_key, sub.agent, sub.dim_project AS project,
    coalesce(sp.spawn_tool, bc.spawn_tool) AS spawn_tool,
    coalesce(json_extract_string(coalesce(sp.input_json, bc.input_json), '$.subagent_type'),
             json_extract_string(coalesce(sp.input_json, bc.input_json), '$.agent_type')) AS subagent_type,
    coalesce(json_extract_string(coalesce(sp.input_json, bc.input_json), '$.description'), sub.title) AS description,
    sub.primary_model AS model, sub.started_at, sub.duration_s,
    sub.n_llm_calls AS llm_calls, sub.n_tool_calls AS tool_calls,
    (sub.n_tool_errors + sub.n_user_rejections + sub.n_api_errors + sub.n_interrupts + sub.n_interrupted_tools)::BIGINT AS errors,
    sub.input_tokens, sub.output_tokens, sub.cache_read_tokens, sub.cache_write_tokens,
    (sub.input_tokens + sub.output_tokens + sub.cache_read_tokens + sub.cache_write_tokens)::BIGINT AS total_tokens,
    c.cost_usd, coalesce(c.unpriced_calls, 0)::BIGINT AS unpriced_calls
FROM sub
LEFT JOIN spawn sp USING (session_key)
LEFT JOIN by_call bc USING (session_key)
LEFT JOIN tl_session_costs($agent) c USING (session_key)
ORDER BY sub.root_session_key, sub.started_at NULLS LAST, sub.session_key
