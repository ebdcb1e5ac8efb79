-- name: failures_abandoned
-- description: Abandoned sessions: the session's last conversational event (user prompt,
--   assistant text, tool call or result, API error, interrupt) is a failure event, i.e. the
--   session ended right after an error with no further model output or user prompt. Warmup
--   sidechains are skipped. One row per session, located at that last failure.
WITH conv AS (
    SELECT
        e.session_key, e.event_key,
        row_number() OVER (PARTITION BY e.session_key ORDER BY e.ts DESC NULLS LAST, e.source_file DESC, e.seq DESC) AS rd
    FROM events e
    WHERE e.kind IN ('user_prompt', 'assistant_text', 'tool_call', 'tool_result', 'api_error', 'interrupt')
)
SELECT
    f.event_key, f.tool_call_key, f.tool_call_id, f.session_key, f.agent, f.model, f.tool_name, f.ts,
    f.source_file, f.line_no, f.family AS followed_by
FROM conv c
JOIN failure_events f USING (session_key, event_key)
WHERE c.rd = 1 AND NOT f.is_warmup
ORDER BY f.session_key, f.event_key
