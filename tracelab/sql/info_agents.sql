-- name: info_agents
-- description: What a warehouse holds per agent: files and their line accounting (from the
--   manifest), sessions (main and subagent), events, LLM calls, tool calls, and the time span
--   of the events. One row per agent, in agent order.
WITH f AS (
    SELECT agent, count(*) AS files, sum(size_bytes) AS bytes, sum(lines_total) AS lines_total,
           sum(lines_ingested) AS lines_ingested, sum(lines_duplicate) AS lines_duplicate,
           sum(lines_rejected) AS lines_rejected, max(ingested_at) AS last_ingested_at
    FROM files WHERE agent IS NOT NULL GROUP BY agent
),
s AS (
    SELECT agent, count(*) FILTER (WHERE NOT coalesce(is_subagent, false)) AS sessions,
           count(*) FILTER (WHERE is_subagent) AS subagent_sessions
    FROM sessions GROUP BY agent
),
e AS (
    SELECT agent, count(*) AS events, count(*) FILTER (WHERE kind = 'unknown') AS unknown_events,
           min(ts) AS first_ts, max(ts) AS last_ts
    FROM events GROUP BY agent
),
l AS (SELECT agent, count(*) AS llm_calls FROM llm_calls GROUP BY agent),
t AS (SELECT agent, count(*) AS tool_calls FROM tool_calls GROUP BY agent)
SELECT agent,
       coalesce(f.files, 0) AS files, coalesce(f.bytes, 0) AS bytes,
       coalesce(f.lines_total, 0) AS lines_total, coalesce(f.lines_ingested, 0) AS lines_ingested,
       coalesce(f.lines_duplicate, 0) AS lines_duplicate, coalesce(f.lines_rejected, 0) AS lines_rejected,
       coalesce(s.sessions, 0) AS sessions, coalesce(s.subagent_sessions, 0) AS subagent_sessions,
       coalesce(e.events, 0) AS events, coalesce(e.unknown_events, 0) AS unknown_events,
       coalesce(l.llm_calls, 0) AS llm_calls, coalesce(t.tool_calls, 0) AS tool_calls,
       e.first_ts, e.last_ts, f.last_ingested_at
FROM f
FULL JOIN s USING (agent)
FULL JOIN e USING (agent)
FULL JOIN l USING (agent)
FULL JOIN t USING (agent)
ORDER BY agent
