-- name: info_part_rejects
-- description: Per Parquet part of `rejects`: rejected lines by agent and reason, the reason up
--   to its first ':' or ' (' (info_rejects, per part; see info_part_events).
-- param files VARCHAR[] = NULL: the parts
-- returns filename VARCHAR: the part
-- returns agent VARCHAR: agent
-- returns reason VARCHAR: reason
-- returns lines BIGINT: lines
SELECT filename, agent, split_part(split_part(reason, ':', 1), ' (', 1) AS reason, count(*) AS lines
FROM read_parquet($files, filename = true, hive_partitioning = false, union_by_name = true)
GROUP BY ALL
