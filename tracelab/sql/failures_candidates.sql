-- name: failures_candidates
-- description: Every failure *event*, before classification into families: tool calls whose
--   status is error / user_rejected / interrupted (one row per call, located at its result
--   line), model API errors, user interrupts, hook errors and blocks, and usage-limit notices.
--   `source` says where the row came from (tool | api | interrupt | hook | system); `ord` is
--   the event's position in its session (ts, then file, then line order).
--   Parameters: $limit_re (regex for usage/rate-limit notices in system lines).
WITH ordered AS (
    SELECT
        e.*,
        row_number() OVER (PARTITION BY e.session_key ORDER BY e.ts NULLS LAST, e.source_file, e.seq) AS ord
    FROM events e
),
results AS (
    SELECT * EXCLUDE (rn) FROM (
        SELECT
            o.*,
            row_number() OVER (PARTITION BY o.session_key, o.tool_call_id ORDER BY o.seq, o.source_file) AS rn
        FROM ordered o
        WHERE o.kind = 'tool_result' AND o.tool_call_id IS NOT NULL
    ) WHERE rn = 1
),
tool_fail AS (
    SELECT
        'tool' AS source,
        coalesce(r.event_key, t.tool_call_key) AS event_key,
        t.tool_call_key,
        t.tool_call_id,
        t.session_key,
        t.agent,
        t.model,
        t.tool_name,
        coalesce(r.ts, t.ended_at, t.started_at) AS ts,
        coalesce(r.source_file, t.source_file) AS source_file,
        coalesce(r.line_no, t.result_line_no, t.call_line_no) AS line_no,
        r.ord,
        t.status,
        coalesce(r.text, t.output_text, t.error_text, '') AS text,
        r.native_type
    FROM tool_calls t
    LEFT JOIN results r USING (session_key, tool_call_id)
    WHERE t.status IN ('error', 'user_rejected', 'interrupted')
),
event_fail AS (
    SELECT
        CASE o.kind WHEN 'api_error' THEN 'api' WHEN 'interrupt' THEN 'interrupt' WHEN 'hook' THEN 'hook' ELSE 'system' END AS source,
        o.event_key,
        NULL::VARCHAR AS tool_call_key,
        o.tool_call_id,
        o.session_key,
        o.agent,
        CASE WHEN o.model = '<synthetic>' THEN NULL ELSE o.model END AS model,
        o.tool_name,
        o.ts,
        o.source_file,
        o.line_no,
        o.ord,
        coalesce(o.status, o.stop_reason) AS status,
        coalesce(o.text, o.extra, '') AS text,
        o.native_type
    FROM ordered o
    WHERE o.kind IN ('api_error', 'interrupt')
       OR (o.kind = 'hook' AND (
              o.native_type IN ('attachment/hook_blocking_error', 'attachment/hook_non_blocking_error')
           OR (o.native_type = 'system/stop_hook_summary'
               AND (regexp_matches(coalesce(o.text, ''), '"preventedContinuation"\s*:\s*true')
                    OR regexp_matches(coalesce(o.text, ''), '"hookErrors"\s*:\s*\[\s*[^\]\s]')))))
       OR (o.kind = 'system' AND regexp_matches(coalesce(o.text, ''), $limit_re))
),
fails AS (
    SELECT * FROM tool_fail
    UNION ALL
    SELECT * FROM event_fail
)
SELECT
    f.* EXCLUDE (model),
    coalesce(f.model, s.primary_model) AS model,
    s.session_id,
    coalesce(s.is_warmup, false) AS is_warmup
FROM fails f
LEFT JOIN sessions s USING (session_key)
ORDER BY f.session_key, f.ord NULLS LAST, f.event_key
