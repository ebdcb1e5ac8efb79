-- name: search_rank
-- description: The search over the search index's candidates (tracelab/textindex/search.py):
--   which events match, newest first, and how many in all, with the predicate and filters of
--   search_events (macros tl_search_hit and tl_search_keep). Reads the temporary view
--   `tl_search_scope`: the events the index found (`proven` when the index alone shows they
--   match; their text is not read) and every event of parts without an index segment.
-- param pattern VARCHAR = NULL: what to find (required: NULL or '' matches nothing)
-- param regex BOOLEAN = FALSE: read pattern as an RE2 regular expression
-- param case_sensitive BOOLEAN = FALSE: match case exactly
-- param since TIMESTAMP = NULL: window start on the event's time, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param project VARCHAR = NULL: only sessions of this project
-- param session VARCHAR = NULL: only this session (its session_key or native session id)
-- param kinds VARCHAR[] = NULL: only events of these kinds (e.g. user_prompt, tool_result)
-- param tool VARCHAR = NULL: only tool calls and results of this tool
-- param include_subagents BOOLEAN = TRUE: FALSE leaves out subagent sessions
-- param limit INTEGER = 100 (>= 1): at most this many events (newest first)
-- returns part VARCHAR: the events part (file name as read)
-- returns row_no BIGINT: the event's row number in it
-- returns total_matches BIGINT: events matching in all

WITH s AS (
    SELECT session_key, project, is_subagent FROM tl_session_dims()
),
e AS (
    SELECT ev.part, ev.row_no, ev.ts, ev.source_file, ev.seq, ev.event_key
    FROM tl_search_scope ev
    LEFT JOIN s USING (session_key)
    WHERE coalesce($pattern, '') <> ''
      AND (ev.proven OR tl_search_hit(ev.text, ev.tool_input, $pattern, $regex, $case_sensitive))
      AND tl_search_keep(ev.ts, ev.agent, s.project, ev.tool_name, ev.session_key, ev.session_id, ev.kind, s.is_subagent,
                         $since, $until, $agent, $project, $tool, $session, $kinds, $include_subagents)
)
SELECT part, CAST(row_no AS BIGINT) AS row_no, count(*) OVER () AS total_matches
FROM e
ORDER BY ts DESC NULLS LAST, source_file, seq, event_key
LIMIT $limit
