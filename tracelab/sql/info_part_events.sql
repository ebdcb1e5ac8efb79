-- name: info_part_events
-- description: Per Parquet part of `events` and agent: events, unknown events and the time span
--   (`tracelab info`'s totals kept per part in `_part_stats.json`, see tracelab.store.part_stats;
--   merged they equal info_agents).
-- param files VARCHAR[] = NULL: the parts
-- returns filename VARCHAR: the part
-- returns agent VARCHAR: agent
-- returns events BIGINT: events
-- returns unknown_events BIGINT: events of kind 'unknown'
-- returns first_ts TIMESTAMP WITH TIME ZONE: first event
-- returns last_ts TIMESTAMP WITH TIME ZONE: last event
SELECT filename, agent, count(*) AS events, count(*) FILTER (WHERE kind = 'unknown') AS unknown_events, min(ts) AS first_ts, max(ts) AS last_ts
FROM read_parquet($files, filename = true, hive_partitioning = false, union_by_name = true)
GROUP BY filename, agent
