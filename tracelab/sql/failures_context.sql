-- name: failures_context
-- description: Context exhaustion. (a) after_compaction: the first failure (families
--   tool_error, api_error, rate_limit, interrupt, hook_block) within the next $window
--   conversational events after a compaction, before the next user prompt; located at the
--   failure, `related_event_key` = the compaction (the nearest one when the failure follows
--   several: one episode per failure event, so member keys stay unique). (b) overflow: a model API error saying the
--   prompt no longer fits the context window ($overflow_re).
--   Parameters: $window, $overflow_re.
-- param window INTEGER: conversational events after a compaction a failure may follow it by
-- param overflow_re VARCHAR: regular expression of context-overflow errors
WITH conv AS (
    SELECT
        e.session_key, e.event_key, e.kind,
        row_number() OVER (PARTITION BY e.session_key ORDER BY e.ts NULLS LAST, e.source_file, e.seq) AS rn
    FROM events e
    WHERE e.kind IN ('compaction', 'user_prompt', 'assistant_text', 'tool_call', 'tool_result', 'api_error', 'interrupt', 'thinking')
      AND e.session_key IN (SELECT session_key FROM events WHERE kind = 'compaction')
),
marked AS (
    SELECT
        *,
        min(CASE WHEN kind = 'user_prompt' THEN rn END) OVER (
            PARTITION BY session_key ORDER BY rn ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
        ) AS next_prompt_rn
    FROM conv
),
comp AS (
    SELECT session_key, event_key AS compaction_key, rn AS c_rn, coalesce(next_prompt_rn, 9223372036854775807) AS stop_rn
    FROM marked
    WHERE kind = 'compaction'
),
fail_pos AS (
    SELECT m.rn, f.*
    FROM failure_events f
    JOIN marked m USING (session_key, event_key)
    WHERE f.family IN ('tool_error', 'api_error', 'rate_limit', 'interrupt', 'hook_block')
),
first_after AS (
    SELECT
        c.compaction_key,
        c.c_rn,
        arg_min(fp.event_key, fp.rn) AS event_key
    FROM comp c
    JOIN fail_pos fp ON fp.session_key = c.session_key AND fp.rn > c.c_rn AND fp.rn < c.stop_rn AND fp.rn <= c.c_rn + $window
    GROUP BY c.compaction_key, c.c_rn
),
-- a failure that follows several compactions in a row is one episode, tied to the nearest
after_comp AS (
    SELECT event_key, arg_max(compaction_key, c_rn) AS compaction_key
    FROM first_after
    GROUP BY event_key
)
SELECT
    'after_compaction' AS trigger,
    f.event_key, f.tool_call_key, f.tool_call_id, f.session_key, f.agent, f.model, f.tool_name, f.ts,
    f.source_file, f.line_no, f.family AS followed_by, a.compaction_key AS related_event_key
FROM after_comp a
JOIN failure_events f USING (event_key)
UNION ALL
SELECT
    'overflow' AS trigger,
    f.event_key, f.tool_call_key, f.tool_call_id, f.session_key, f.agent, f.model, f.tool_name, f.ts,
    f.source_file, f.line_no, f.family AS followed_by, NULL AS related_event_key
FROM failure_events f
WHERE f.family IN ('api_error', 'rate_limit') AND regexp_matches(f.text, $overflow_re)
ORDER BY session_key, ts, event_key
