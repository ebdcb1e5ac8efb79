-- Every tool call of the sessions $session_keys (VARCHAR[]), in session order
-- (start time, then file and line), with its outcome.
SELECT
    t.session_key, t.tool_call_key, t.tool_call_id, t.tool_name, t.input_json, t.status,
    t.error_text, left(t.output_text, 4000) AS output_text, t.exit_code, t.started_at,
    t.source_file, t.call_line_no, t.result_line_no
FROM tool_calls t
WHERE t.session_key IN (SELECT unnest($session_keys::VARCHAR[]))
ORDER BY t.session_key, t.started_at NULLS LAST, t.source_file, t.call_line_no
