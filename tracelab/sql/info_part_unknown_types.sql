-- name: info_part_unknown_types
-- description: Per Parquet part of `events`: the line types kept as kind 'unknown' by agent
--   (unknown_types, per part; see info_part_events).
-- param files VARCHAR[] = NULL: the parts
-- returns filename VARCHAR: the part
-- returns agent VARCHAR: agent
-- returns native_type VARCHAR: the agent's own type ('(no type)' when absent)
-- returns n BIGINT: lines
SELECT filename, agent, coalesce(native_type, '(no type)') AS native_type, count(*) AS n
FROM read_parquet($files, filename = true, hive_partitioning = false, union_by_name = true)
WHERE kind = 'unknown'
GROUP BY ALL
