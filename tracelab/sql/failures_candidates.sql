-- name: failures_candidates
-- description: Every failure *event*, before classification into families: tool calls whose
--   status is error / user_rejected / interrupted (one row per call, located at its result
--   line), model API errors, user interrupts, hook errors and blocks, and usage-limit notices.
--   `source` says where the row came from (tool | api | interrupt | hook | system); `ord` is
--   the failure's position among its session's failures in event order (the event's ts, then
--   file, then line order; rows with no event of their own last, by key). Only the failure
--   events are ranked, never the whole events table. The text of a tool failure is its result
--   row's text (what `tool_calls.output_text` holds); the wide event columns are read in a single
--   pass that keeps only failure rows.
--   Parameters: $limit_re (regex for usage/rate-limit notices in system lines).
-- param limit_re VARCHAR: regular expression of usage / rate-limit notices in system lines
WITH failing AS (
    SELECT tool_call_key, session_key, agent, model, tool_call_id, tool_name, started_at, ended_at,
           source_file, call_line_no, result_line_no, status
    FROM tool_calls
    WHERE status IN ('error', 'user_rejected', 'interrupted')
),
-- the one scan of the events' wide columns: result rows of failing calls, event-level failures
picked AS (
    SELECT e.event_key, e.session_key, e.agent, e.ts, e.source_file, e.line_no, e.seq, e.kind, e.native_type,
           e.model, e.tool_call_id, e.tool_name, e.text, e.status, e.stop_reason, e.extra
    FROM events e
    WHERE (e.kind = 'tool_result' AND e.tool_call_id IS NOT NULL
           AND (e.session_key, e.tool_call_id) IN (SELECT (session_key, tool_call_id) FROM failing))
       OR e.kind IN ('api_error', 'interrupt')
       OR (e.kind = 'hook' AND (
              e.native_type IN ('attachment/hook_blocking_error', 'attachment/hook_non_blocking_error')
           OR (e.native_type = 'system/stop_hook_summary'
               AND (regexp_matches(coalesce(e.text, ''), '"preventedContinuation"\s*:\s*true')
                    OR regexp_matches(coalesce(e.text, ''), '"hookErrors"\s*:\s*\[\s*[^\]\s]')))))
       OR (e.kind = 'system' AND regexp_matches(coalesce(e.text, ''), $limit_re))
),
results AS (
    SELECT * EXCLUDE (rn) FROM (
        SELECT event_key, session_key, tool_call_id, ts, source_file, line_no, seq, text, native_type,
               row_number() OVER (PARTITION BY session_key, tool_call_id ORDER BY seq, source_file) AS rn
        FROM picked
        WHERE kind = 'tool_result'
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
        coalesce(r.text, '') AS text,
        r.native_type,
        r.event_key IS NOT NULL AS has_event,
        r.ts AS e_ts,
        r.source_file AS e_file,
        r.seq AS e_seq
    FROM failing t
    LEFT JOIN results r USING (session_key, tool_call_id)
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
        o.native_type,
        true AS has_event,
        o.ts AS e_ts,
        o.source_file AS e_file,
        o.seq AS e_seq
    FROM picked o
    WHERE o.kind <> 'tool_result'
),
fails AS (
    SELECT * FROM tool_fail
    UNION ALL
    SELECT * FROM event_fail
),
ranked AS (
    SELECT *, row_number() OVER (
        PARTITION BY session_key
        ORDER BY has_event DESC, e_ts NULLS LAST, e_file, e_seq, event_key
    ) AS ord
    FROM fails
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
