-- name: export_sts_events
-- description: The events of the sessions to export in the Hugging Face Hub's Session Trace
--   Simple format (STS), in conversation order: time (rows without one first, as written),
--   then file and position. Only the kinds STS carries: prompts and injected context, model
--   text, thinking and tool calls, tool results, system messages and errors. Used by
--   `tracelab export sts` (tracelab/ingest/sts/write.py), which groups a response's rows
--   (one llm_call_key) into one assistant message.
-- param session_keys VARCHAR[] = NULL: only these sessions (NULL: every session)
-- param agent VARCHAR = NULL: only sessions of this agent
-- returns session_key VARCHAR: session
-- returns agent VARCHAR: agent (the STS harness)
-- returns title VARCHAR: the session's title (STS name)
-- returns kind VARCHAR: event kind
-- returns ts TIMESTAMP WITH TIME ZONE: event time
-- returns llm_call_key VARCHAR: response the row belongs to (assistant rows)
-- returns source_file VARCHAR: file the row came from
-- returns line_no INTEGER: line (or unit) in that file
-- returns text VARCHAR: text as stored (capped at 32 KiB)
-- returns tool_call_id VARCHAR: tool call id (calls and results)
-- returns tool_name VARCHAR: tool name (calls)
-- returns tool_input VARCHAR: tool input JSON (calls)
-- returns model VARCHAR: model of the response
SELECT
    e.session_key,
    e.agent,
    s.title,
    e.kind,
    e.ts,
    e.llm_call_key,
    e.source_file,
    e.line_no,
    e.text,
    e.tool_call_id,
    e.tool_name,
    e.tool_input,
    e.model
FROM events e
LEFT JOIN sessions s USING (session_key)
WHERE ($session_keys IS NULL OR list_contains($session_keys, e.session_key))
  AND ($agent IS NULL OR e.agent = $agent)
  AND e.kind IN ('user_prompt', 'user_context', 'compaction_summary', 'assistant_text', 'thinking', 'tool_call', 'tool_result', 'system', 'api_error')
ORDER BY e.session_key, e.ts NULLS FIRST, e.source_file, e.seq
