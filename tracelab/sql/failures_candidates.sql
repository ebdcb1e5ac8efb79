-- name: failures_candidates
-- description: Every failure *event*, before classification into families: tool calls whose
--   status is error / user_rejected / interrupted (one row per call, located at its result
--   line), model API errors, user interrupts, hook errors and blocks, and usage-limit notices.
--   `source` says where the row came from (tool | api | interrupt | hook | system); `ord` is
--   the failure's position among its session's failures in event order (the event's ts, then
--   file, then line order; rows with no event of their own last, by key). Only the failure
--   events are ranked, never the whole events table.
--   Parameters: $limit_re (regex for usage/rate-limit notices in system lines).
WITH results AS (
    SELECT * EXCLUDE (rn) FROM (
        SELECT
            e.event_key, e.session_key, e.tool_call_id, e.ts, e.source_file, e.line_no, e.text, e.native_type,
            row_number() OVER (PARTITION BY e.session_key, e.tool_call_id ORDER BY e.seq, e.source_file) AS rn
        FROM events e
        WHERE e.kind = 'tool_result' AND e.tool_call_id IS NOT NULL
          AND (e.session_key, e.tool_call_id) IN (
              SELECT (session_key, tool_call_id) FROM tool_calls WHERE status IN ('error', 'user_rejected', 'interrupted'))
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
        coalesce(o.status, o.stop_reason) AS status,
        coalesce(o.text, o.extra, '') AS text,
        o.native_type
    FROM events o
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
),
-- where each failure's own event sits (a tool failure without a result event has none)
located AS (
    SELECT f.*, e.ts AS e_ts, e.source_file AS e_file, e.seq AS e_seq, e.event_key IS NOT NULL AS has_event
    FROM fails f
    LEFT JOIN (
        SELECT session_key, event_key, ts, source_file, seq FROM events
        WHERE event_key IN (SELECT event_key FROM fails)
    ) e USING (session_key, event_key)
),
ranked AS (
    SELECT *, row_number() OVER (
        PARTITION BY session_key
        ORDER BY has_event DESC, e_ts NULLS LAST, e_file, e_seq, event_key
    ) AS ord
    FROM located
)
SELECT
    f.source, f.event_key, f.tool_call_key, f.tool_call_id, f.session_key, f.agent, f.tool_name, f.ts,
    f.source_file, f.line_no, f.ord, f.status, f.text, f.native_type,
    coalesce(f.model, s.primary_model) AS model,
    s.session_id,
    coalesce(s.is_warmup, false) AS is_warmup
FROM ranked f
LEFT JOIN sessions s USING (session_key)
ORDER BY f.session_key, f.ord, f.event_key
