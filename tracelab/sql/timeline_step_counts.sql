-- name: timeline_step_counts
-- description: Steps of each session of the temp table tl_timeline_step_events (the events of
--   the subagents `tracelab session --depth` does not expand, copied by
--   tracelab.session.timeline.load): the rows their timelines would have, counted as
--   session_list counts them, so a collapsed subagent's totals hold its steps too.
-- returns session_key VARCHAR: session key
-- returns steps BIGINT: rows of its timeline
SELECT session_key,
       (count(*) FILTER (WHERE kind IN ('user_prompt', 'user_context', 'assistant_text', 'thinking', 'compaction', 'microcompaction',
                                        'compaction_summary', 'api_error', 'interrupt', 'model_change', 'hook', 'image', 'system', 'unknown')
                           OR (kind IN ('tool_call', 'tool_result') AND tool_call_id IS NULL))
        + count(DISTINCT tool_call_id) FILTER (WHERE kind IN ('tool_call', 'tool_result')))::BIGINT AS steps
FROM tl_timeline_step_events
GROUP BY session_key
ORDER BY session_key
