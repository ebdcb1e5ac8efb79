-- name: demo_tool_errors
-- description: tool-error rate by tool (status error over all calls), demo summary
SELECT
    tool_name AS tool,
    count(*) AS calls,
    count(*) FILTER (WHERE status = 'error') AS errors,
    count(*) FILTER (WHERE status = 'user_rejected') AS rejected,
    printf('%.1f%%', 100.0 * count(*) FILTER (WHERE status = 'error') / count(*)) AS error_rate
FROM tool_calls
GROUP BY tool_name
ORDER BY calls DESC, tool
LIMIT 12
