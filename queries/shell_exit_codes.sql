-- name: shell_exit_codes
-- description: Exit-code distribution of shell tools (Bash, bash, shell, exec_command, ...;
--   see tl_is_shell). Calls whose result carries no exit code form the row exit_code = NULL.
-- param since TIMESTAMP = NULL: window start on started_at, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model
-- param project VARCHAR = NULL: only sessions of this project
-- param tool VARCHAR = NULL: only this tool
-- param include_subagents BOOLEAN = TRUE: FALSE drops calls made in subagent sessions
-- returns agent VARCHAR: agent
-- returns tool_name VARCHAR: shell tool
-- returns exit_code INTEGER: exit code (NULL = not reported)
-- returns calls BIGINT: calls with this exit code
-- returns share DOUBLE: calls / all calls of this agent x tool
-- returns error_status_calls BIGINT: of these, calls classified as status error
WITH g AS (
    SELECT agent, tool_name, exit_code, count(*) AS calls,
           count(*) FILTER (WHERE status = 'error') AS error_status_calls
    FROM tl_tool_calls($since, $until, $agent, $model, $project, $tool, $include_subagents)
    WHERE tl_is_shell(tool_name)
    GROUP BY ALL
)
SELECT agent, tool_name, exit_code, calls,
       calls / sum(calls) OVER (PARTITION BY agent, tool_name) AS share,
       error_status_calls
FROM g
ORDER BY agent, tool_name, calls DESC, exit_code NULLS LAST
