-- name: info_part_sessions
-- description: Per Parquet part of `sessions` and agent: main and subagent sessions (see
--   info_part_events).
-- param files VARCHAR[] = NULL: the parts
-- returns filename VARCHAR: the part
-- returns agent VARCHAR: agent
-- returns sessions BIGINT: main sessions (is_subagent false or NULL)
-- returns subagent_sessions BIGINT: subagent sessions
SELECT filename, agent, count(*) FILTER (WHERE NOT coalesce(is_subagent, false)) AS sessions, count(*) FILTER (WHERE is_subagent) AS subagent_sessions
FROM read_parquet($files, filename = true, hive_partitioning = false, union_by_name = true)
GROUP BY filename, agent
