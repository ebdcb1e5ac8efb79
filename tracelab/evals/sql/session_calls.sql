-- name: session_calls
-- description: Every tool call of the sessions $session_keys (VARCHAR[]), in session order: start time,
--   then file, then the position of the call block in the file (several calls can share one
--   line and one timestamp: parallel calls of one response), with its outcome.
-- param session_keys VARCHAR[]: the sessions
WITH calls AS (
    SELECT * FROM tool_calls WHERE session_key IN (SELECT unnest($session_keys::VARCHAR[]))
),
blocks AS (
    SELECT e.session_key, e.tool_call_id, min(e.seq) AS call_seq
    FROM events e
    WHERE e.kind = 'tool_call' AND e.session_key IN (SELECT unnest($session_keys::VARCHAR[]))
    GROUP BY 1, 2
)
SELECT
    t.session_key, t.tool_call_key, t.tool_call_id, t.tool_name, t.input_json, t.status,
    t.error_text, left(t.output_text, 4000) AS output_text, t.exit_code, t.started_at,
    t.source_file, t.call_line_no, t.result_line_no,
    coalesce(b.call_seq, t.call_line_no::BIGINT * 1024) AS call_seq
FROM calls t
LEFT JOIN blocks b ON b.session_key = t.session_key AND b.tool_call_id = t.tool_call_id
ORDER BY t.session_key, t.started_at NULLS LAST, t.source_file, call_seq
