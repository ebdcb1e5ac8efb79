-- name: info_entries
-- description: Manifest entries that are not plain parsed files, by status and reason:
--   `missing` (ingested before, no longer found; rows kept), `skipped` (not a readable file)
--   and `unrecognised` (no known agent format). See `files.status` in data/README.md.
-- returns status VARCHAR: missing, skipped or unrecognised
-- returns reason VARCHAR: why (null for missing files)
-- returns files BIGINT: entries
SELECT status, CASE WHEN status = 'missing' THEN NULL ELSE reason END AS reason, count(*) AS files
FROM files
WHERE coalesce(status, 'ok') <> 'ok'
GROUP BY ALL
ORDER BY files DESC, status, reason
