-- name: report_unknown_types
-- description: Line types tracelab did not recognise (events of kind 'unknown'), by agent and
--   native type: all-time count, count inside the report week, first and last day seen and
--   the agent versions that wrote them. A new row here usually means an agent release
--   changed its log format.
-- param since TIMESTAMP: report week start (inclusive, UTC)
-- param until TIMESTAMP: report week end (exclusive, UTC)
-- returns agent VARCHAR: agent
-- returns native_type VARCHAR: the agent's own line type
-- returns events BIGINT: events of this type, all time
-- returns events_in_week BIGINT: events of this type in the report week
-- returns first_day DATE: first day seen
-- returns last_day DATE: last day seen
-- returns agent_versions VARCHAR: agent versions that wrote it (comma separated)
SELECT
    agent,
    coalesce(native_type, '(none)') AS native_type,
    count(*) AS events,
    count(*) FILTER (WHERE ts >= $since AND ts < $until) AS events_in_week,
    min(date) AS first_day,
    max(date) AS last_day,
    string_agg(DISTINCT agent_version, ', ' ORDER BY agent_version) AS agent_versions
FROM events
WHERE kind = 'unknown'
GROUP BY ALL
ORDER BY events_in_week DESC, events DESC, agent, native_type
