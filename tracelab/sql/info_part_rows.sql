-- name: info_part_rows
-- description: Per Parquet part (of `llm_calls` or `tool_calls`) and agent: rows (see
--   info_part_events).
-- param files VARCHAR[] = NULL: the parts
-- returns filename VARCHAR: the part
-- returns agent VARCHAR: agent
-- returns n BIGINT: rows
SELECT filename, agent, count(*) AS n
FROM read_parquet($files, filename = true, hive_partitioning = false, union_by_name = true)
GROUP BY filename, agent
