-- name: tool_loops
-- description: Loops: runs of consecutive tool calls in one session (by start time) with the
--   same tool and identical input (compared by hash), at least min_repeats long. One row per run.
-- param since TIMESTAMP = NULL: window start on the call time, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model
-- param project VARCHAR = NULL: only sessions of this project
-- param tool VARCHAR = NULL: only runs of this tool
-- param include_subagents BOOLEAN = TRUE: FALSE drops calls made in subagent sessions
-- param min_repeats INTEGER = 3 (>= 2): shortest run that counts as a loop
-- returns session_key VARCHAR: session
-- returns agent VARCHAR: agent
-- returns model VARCHAR: model of the run's first call
-- returns tool_name VARCHAR: tool
-- returns input_preview VARCHAR: first 200 characters of the repeated input
-- returns repeats BIGINT: calls in the run
-- returns errors BIGINT: calls of the run with status error
-- returns first_at TIMESTAMP WITH TIME ZONE: start of the first call
-- returns last_at TIMESTAMP WITH TIME ZONE: start of the last call
SELECT r.session_key, r.agent, r.model, r.tool_name, r.input_preview,
       r.repeats, r.errors, r.first_at, r.last_at
FROM tl_tool_runs($since, $until, $agent, $model, $project, $include_subagents) r
WHERE r.repeats >= $min_repeats AND tl_match(r.tool_name, $tool)
ORDER BY r.repeats DESC, r.first_at, r.session_key
