-- name: search_events
-- description: Full-text search over every session's items: prompts, model text and
--   thinking, tool inputs and outputs, errors, summaries. One row per matching event, newest
--   first, with a snippet around the first match and the number of matches in total. The
--   pattern is a plain substring unless `regex` is TRUE (then an RE2 regular expression);
--   case-insensitive unless `case_sensitive` is TRUE. Text is searched as stored: each item's
--   text is capped at 32 KiB (`text_bytes` is its full size) and tool inputs are their stored
--   JSON. Warmup sessions are searched like any other.
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
-- param context INTEGER = 60 (>= 0): characters of snippet before and after the match
-- param limit INTEGER = 100 (>= 1): at most this many events (newest first)
-- returns ts TIMESTAMP WITH TIME ZONE: the event's time (NULL when its line has none)
-- returns agent VARCHAR: agent
-- returns session_key VARCHAR: session
-- returns session_id VARCHAR: native session id
-- returns project VARCHAR: the session's project
-- returns kind VARCHAR: event kind
-- returns tool_name VARCHAR: tool of a tool call or result
-- returns model VARCHAR: model of assistant rows
-- returns field VARCHAR: where the first match is: text or tool_input
-- returns match_at BIGINT: 1-based character position of the first match in that field
-- returns match_len BIGINT: characters of the first match
-- returns snippet VARCHAR: the match with `context` characters around it; line breaks shown as ⏎, cut ends marked …
-- returns text_bytes BIGINT: full UTF-8 size of the event's text
-- returns source_file VARCHAR: file of the line
-- returns line_no INTEGER: line in the file
-- returns event_key VARCHAR: the event's key (joins to events)
-- returns total_matches BIGINT: events matching in all (this query returns at most `limit`)
WITH s AS (
    SELECT session_key, project, is_subagent FROM tl_session_dims()
),
e AS (
    SELECT ev.ts, ev.agent, ev.session_key, ev.session_id, s.project, ev.kind, ev.tool_name, ev.model,
           ev.text, ev.tool_input, ev.text_bytes, ev.source_file, ev.line_no, ev.seq, ev.event_key,
           regexp_matches(coalesce(ev.text, ''), tl_search_rx($pattern, $regex, $case_sensitive, '', '')) AS in_text
    FROM events ev
    LEFT JOIN s USING (session_key)
    WHERE coalesce($pattern, '') <> ''  -- no pattern matches nothing (tracelab search refuses it)
      AND tl_search_hit(ev.text, ev.tool_input, $pattern, $regex, $case_sensitive)
      AND tl_search_keep(ev.ts, ev.agent, s.project, ev.tool_name, ev.session_key, ev.session_id, ev.kind, s.is_subagent,
                         $since, $until, $agent, $project, $tool, $session, $kinds, $include_subagents)
),
top AS (
    SELECT *,
           CASE WHEN in_text THEN 'text' ELSE 'tool_input' END AS field,
           CASE WHEN in_text THEN text ELSE tool_input END AS hay,
           count(*) OVER () AS total_matches
    FROM e
    ORDER BY ts DESC NULLS LAST, source_file, seq, event_key
    LIMIT $limit
),
-- the first match (tl_search_rx in _macros.sql builds the pattern): its position is the
-- length of the shortest prefix after which the pattern matches, plus one
pos AS (
    SELECT top.*,
           length(regexp_extract(hay, tl_search_rx($pattern, $regex, $case_sensitive, '^(.*?)', ''), 1)) + 1 AS match_at
    FROM top
),
cut AS (
    SELECT *,
           length(regexp_extract(substr(hay, match_at), tl_search_rx($pattern, $regex, $case_sensitive, '^', ''), 0)) AS match_len,
           greatest(match_at - $context, 1) AS lo
    FROM pos
)
SELECT ts, agent, session_key, session_id, project, kind, tool_name, model, field,
       CAST(match_at AS BIGINT) AS match_at, CAST(match_len AS BIGINT) AS match_len,
       (CASE WHEN lo > 1 THEN '…' ELSE '' END)
       || regexp_replace(substr(hay, lo, match_at - lo + match_len + $context), '\r?\n', '⏎', 'g')
       || (CASE WHEN match_at + match_len + $context <= length(hay) THEN '…' ELSE '' END) AS snippet,
       text_bytes, source_file, line_no, event_key, total_matches
FROM cut
ORDER BY ts DESC NULLS LAST, source_file, seq, event_key
