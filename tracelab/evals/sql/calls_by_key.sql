-- The sessions of tool calls given by key ($tool_call_keys VARCHAR[]).
SELECT tool_call_key, session_key
FROM tool_calls
WHERE tool_call_key IN (SELECT unnest($tool_call_keys::VARCHAR[]))
