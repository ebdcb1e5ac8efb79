-- name: metric_samples
-- description: One row per observation of one metric, the input of the cross-model
--   comparison in tracelab.metrics.compare (and of ad-hoc tests and plots). kind is
--   proportion (value 0/1) or continuous.
--     llm, tool, turn, human_wait  latencies in ms (see latency_percentiles)
--     tool_error         1 if a completed tool call (ok or error) failed
--     tool_failure       1 if a tool call failed, was rejected or was interrupted (all calls)
--     user_rejection     1 if a tool call was rejected by the user (all calls)
--     output_tokens      output tokens per non-synthetic model response
--     total_tokens       total tokens per non-synthetic model response
--     call_cost_usd      cost per priced model response (unpriced responses are left out)
--     session_abandoned  1 if a session ended right after an error (per session)
--     session_interrupted 1 if a session was interrupted at least once (per session)
--     session_duration_s session duration in seconds
--     session_cost_usd   cost of a session whose responses are all priced
--   For session metrics the model is the session's primary model and tool_name is NULL.
-- param since TIMESTAMP = NULL: window start, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model
-- param project VARCHAR = NULL: only sessions of this project
-- param tool VARCHAR = NULL: only this tool (tool metrics only)
-- param include_subagents BOOLEAN = TRUE: FALSE drops observations from subagent sessions
-- param metric VARCHAR = 'tool_error' {llm|tool|turn|human_wait|tool_error|tool_failure|user_rejection|output_tokens|total_tokens|call_cost_usd|session_abandoned|session_interrupted|session_duration_s|session_cost_usd}: the metric
-- returns metric VARCHAR: the metric
-- returns kind VARCHAR: proportion or continuous
-- returns agent VARCHAR: agent
-- returns model VARCHAR: model
-- returns tool_name VARCHAR: tool (tool metrics)
-- returns project VARCHAR: project
-- returns session_key VARCHAR: session
-- returns ts TIMESTAMP WITH TIME ZONE: time of the observation
-- returns value DOUBLE: the observation
SELECT metric, 'continuous' AS kind, agent, model, tool_name, project, session_key, ts, value_ms AS value
FROM tl_latency_samples($metric, $since, $until, $agent, $model, $project, $tool, $include_subagents)
WHERE $metric IN ('llm', 'tool', 'turn', 'human_wait')
UNION ALL
SELECT $metric, 'proportion', agent, model, tool_name, project, session_key, started_at,
       CASE $metric WHEN 'tool_error' THEN (status = 'error')::DOUBLE
                    WHEN 'tool_failure' THEN (status IN ('error', 'user_rejected', 'interrupted'))::DOUBLE
                    ELSE (status = 'user_rejected')::DOUBLE END
FROM tl_tool_calls($since, $until, $agent, $model, $project, $tool, $include_subagents)
WHERE $metric IN ('tool_error', 'tool_failure', 'user_rejection')
  AND ($metric <> 'tool_error' OR status IN ('ok', 'error'))
UNION ALL
SELECT $metric, 'continuous', agent, model, NULL, project, session_key, ts,
       CASE $metric WHEN 'output_tokens' THEN output_tokens::DOUBLE WHEN 'total_tokens' THEN total_tokens::DOUBLE ELSE cost_usd END
FROM tl_llm_calls($since, $until, $agent, $model, $project, $include_subagents)
WHERE $metric IN ('output_tokens', 'total_tokens', 'call_cost_usd') AND NOT is_synthetic
  AND ($metric <> 'call_cost_usd' OR cost_usd IS NOT NULL)
UNION ALL
SELECT $metric,
       CASE WHEN $metric IN ('session_abandoned', 'session_interrupted') THEN 'proportion' ELSE 'continuous' END,
       s.agent, s.primary_model, NULL, s.project, s.session_key, s.started_at,
       CASE $metric WHEN 'session_abandoned' THEN o.abandoned::DOUBLE
                    WHEN 'session_interrupted' THEN o.interrupted::DOUBLE
                    WHEN 'session_duration_s' THEN s.duration_s
                    ELSE o.cost_usd END
FROM tl_sessions($since, $until, $agent, $model, $project, $include_subagents) s
JOIN tl_session_outcomes($since, $until, $agent, $model, $project, $include_subagents) o USING (session_key)
WHERE $metric IN ('session_abandoned', 'session_interrupted', 'session_duration_s', 'session_cost_usd')
  AND ($metric <> 'session_cost_usd' OR (o.cost_usd IS NOT NULL AND o.unpriced_calls = 0))
  AND ($metric <> 'session_duration_s' OR s.duration_s IS NOT NULL)
