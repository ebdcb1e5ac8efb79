-- name: failures_abandoned
-- description: Abandoned sessions: the session's last conversational event (user prompt,
--   assistant text, tool call or result, API error, interrupt) is a failure event, i.e. the
--   session ended right after an error with no further model output or user prompt. Warmup
--   sidechains are skipped. One row per session, located at that last failure.
WITH last_conv AS (
    -- the last conversational event per session (latest ts, undated events before dated ones,
    -- then file and line order): an aggregate, not a window over every event
    SELECT
        e.session_key,
        arg_max(e.event_key, {'dated': e.ts IS NOT NULL, 'ts': e.ts, 'file': e.source_file, 'seq': e.seq}) AS event_key
    FROM events e
    WHERE e.kind IN ('user_prompt', 'assistant_text', 'tool_call', 'tool_result', 'api_error', 'interrupt')
    GROUP BY 1
)
SELECT
    f.event_key, f.tool_call_key, f.tool_call_id, f.session_key, f.agent, f.model, f.tool_name, f.ts,
    f.source_file, f.line_no, f.family AS followed_by
FROM last_conv c
JOIN failure_events f USING (session_key, event_key)
WHERE NOT f.is_warmup
ORDER BY f.session_key, f.event_key
