-- name: calls_by_key
-- description: The sessions of tool calls given by key ($tool_call_keys VARCHAR[]).
-- param tool_call_keys VARCHAR[]: the tool call keys
SELECT tool_call_key, session_key
FROM tool_calls
WHERE tool_call_key IN (SELECT unnest($tool_call_keys::VARCHAR[]))
