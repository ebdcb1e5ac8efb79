-- name: filter_values
-- description: The values the common query filters can take in this warehouse, as
--   (dim, value): agent and project from sessions, model from llm_calls, tool from tool_calls.
--   Used to tell a user that a filter value names nothing (a typo) when a result is empty.
SELECT 'agent' AS dim, agent AS value FROM sessions WHERE agent IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'project', project FROM sessions WHERE project IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'model', model FROM llm_calls WHERE model IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'tool', tool_name FROM tool_calls WHERE tool_name IS NOT NULL GROUP BY ALL
ORDER BY dim, value
