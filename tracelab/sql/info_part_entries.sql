-- name: info_part_entries
-- description: Per Parquet part of the manifest `files`: entries that are not plain parsed files
--   by status and reason (info_entries, per part; see info_part_events).
-- param files VARCHAR[] = NULL: the parts
-- returns filename VARCHAR: the part
-- returns status VARCHAR: missing, skipped or unrecognised
-- returns reason VARCHAR: why (null for missing files)
-- returns files BIGINT: entries
SELECT filename, status, CASE WHEN status = 'missing' THEN NULL ELSE reason END AS reason, count(*) AS files
FROM read_parquet($files, filename = true, hive_partitioning = false, union_by_name = true)
WHERE coalesce(status, 'ok') <> 'ok'
GROUP BY ALL
