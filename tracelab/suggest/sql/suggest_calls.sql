-- name: suggest_calls
-- description: Every tool call with what the suggestion miner needs: the command (shell tools)
--   or file path it acted on, its outcome, the failure cluster it belongs to (failure_members,
--   role event), its position in the session, and the output tokens of the response that
--   issued it (shared evenly among that response's calls). Ordered by session, then call_no.
-- param since TIMESTAMP = NULL: window start on started_at, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param project VARCHAR = NULL: only this project (tool_calls.project)
-- param agent VARCHAR = NULL: only this agent
-- returns tool_call_key VARCHAR: unique key
-- returns session_key VARCHAR: session
-- returns session_id VARCHAR: native session id (for `tracelab session`)
-- returns agent VARCHAR: agent
-- returns project VARCHAR: project
-- returns cwd VARCHAR: working directory of the session
-- returns tool_name VARCHAR: tool
-- returns command VARCHAR: input `command` (string, or an argv array as JSON text) or `cmd`
-- returns file_path VARCHAR: input `file_path` / `path` when given
-- returns input_preview VARCHAR: first 200 characters of the input for calls in a run of identical calls
-- returns status VARCHAR: ok, error, user_rejected, interrupted, no_result
-- returns error_line VARCHAR: when not ok, the failure's key line (failure_members.excerpt), else the first non-blank line of the error text (300 characters)
-- returns cluster_id VARCHAR: failure cluster of the call, when it failed
-- returns template VARCHAR: that cluster's template
-- returns started_at TIMESTAMP: call time
-- returns latency_ms DOUBLE: call to result
-- returns call_no INTEGER: 1-based position in the session
-- returns is_sidechain BOOLEAN: made in a sidechain
-- returns input_known BOOLEAN: the adapter recorded the call's input (false when the source, e.g. some OTel exporters, does not carry it)
-- returns input_hash UBIGINT: hash of (tool, input)
-- returns repeat_run_no INTEGER: first call_no of a run of identical calls
-- returns output_bytes BIGINT: size of the result text
-- returns llm_call_key VARCHAR: the response that issued the call
-- returns response_output_tokens DOUBLE: output tokens of that response
WITH members AS (
    SELECT tool_call_key, any_value(cluster_id) AS cluster_id, any_value(template) AS template, any_value(excerpt) AS excerpt
    FROM failure_members
    WHERE role = 'event' AND tool_call_key IS NOT NULL
    GROUP BY 1
),
calls AS (
    SELECT
        t.*,
        -- one parse of the input: command, cmd, file_path, path (NULL for a capped, cut-off input)
        CASE WHEN t.input_bytes < 32768 AND json_valid(t.input_json)
            THEN json_extract_string(t.input_json, ['$.command', '$.cmd', '$.file_path', '$.path'])
        END AS fields
    FROM tool_calls t
    WHERE ($since IS NULL OR t.started_at >= $since)
      AND ($until IS NULL OR t.started_at < $until)
      AND ($project IS NULL OR t.project = $project)
      AND ($agent IS NULL OR t.agent = $agent)
)
SELECT
    t.tool_call_key,
    t.session_key,
    s.session_id,
    t.agent,
    t.project,
    s.cwd,
    t.tool_name,
    coalesce(t.fields[1], t.fields[2]) AS command,
    coalesce(t.fields[3], t.fields[4]) AS file_path,
    t.run_input_preview AS input_preview,
    t.status,
    CASE WHEN t.status <> 'ok' THEN left(coalesce(m.excerpt, trim(regexp_extract(coalesce(t.error_text, ''), '^\s*([^\n]*)', 1))), 300) END AS error_line,
    m.cluster_id,
    m.template,
    t.started_at,
    t.latency_ms,
    t.call_no,
    t.is_sidechain,
    t.input_json IS NOT NULL AS input_known,
    t.input_hash,
    t.repeat_run_no,
    t.output_bytes,
    t.llm_call_key,
    CAST(l.output_tokens AS DOUBLE) AS response_output_tokens
FROM calls t
LEFT JOIN sessions s ON s.session_key = t.session_key
LEFT JOIN members m ON m.tool_call_key = t.tool_call_key
LEFT JOIN llm_calls l ON l.llm_call_key = t.llm_call_key
