-- name: textindex_meta
-- description: The footer facts of search index segments (tracelab/textindex/segments.py,
--   SegmentMeta): format version, events part, its rows, how many have a time and the newest
--   and oldest time, as the JSON the segment's key-value metadata holds.
-- param files VARCHAR[] = NULL: the index segments
-- param key VARCHAR = 'tracelab.search_index': the metadata key
-- returns file_name VARCHAR: the segment (as given in `files`)
-- returns meta VARCHAR: the JSON

SELECT file_name, decode(value) AS meta
FROM parquet_kv_metadata($files)
WHERE decode(key) = $key
