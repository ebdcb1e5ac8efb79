-- name: info_part_files
-- description: Per Parquet part of the manifest `files` and agent: input files and their line
--   accounting (see info_part_events; rows without an agent are not counted, as in info_agents).
-- param files VARCHAR[] = NULL: the parts
-- returns filename VARCHAR: the part
-- returns agent VARCHAR: agent
-- returns files BIGINT: manifest rows
-- returns bytes HUGEINT: input bytes
-- returns lines_total HUGEINT: lines read
-- returns lines_ingested HUGEINT: lines ingested
-- returns lines_duplicate HUGEINT: duplicate lines
-- returns lines_rejected HUGEINT: rejected lines
-- returns last_ingested_at TIMESTAMP WITH TIME ZONE: last ingest of any of them
SELECT filename, agent, count(*) AS files, sum(size_bytes) AS bytes, sum(lines_total) AS lines_total,
       sum(lines_ingested) AS lines_ingested, sum(lines_duplicate) AS lines_duplicate,
       sum(lines_rejected) AS lines_rejected, max(ingested_at) AS last_ingested_at
FROM read_parquet($files, filename = true, hive_partitioning = false, union_by_name = true)
WHERE agent IS NOT NULL
GROUP BY filename, agent
