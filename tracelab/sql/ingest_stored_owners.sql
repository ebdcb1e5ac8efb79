-- name: ingest_stored_owners
-- description: Stored files that hold rows of a line whose key a file parsed in this ingest
--   repeats (dedup rule 2 in data/README.md) and that may come later in dedup order (earliest
--   session first, then path) than that file: they are parsed again in the same ingest so
--   that dedup order, not arrival order, decides which copy owns the line. Inputs:
--   `new_keys` (path, line_no, line_key, has_rows of the files parsed now), `new_order` (path,
--   first_ts in epoch ms of the files parsed now), `stored` (line_key, source_file, ts of every
--   stored event) and `parsing` (path of every file parsed now, whose stored rows go anyway).
-- returns source_file VARCHAR: a stored file to parse again
WITH owners AS (
    SELECT DISTINCT s.source_file, k.path
    FROM stored s
    JOIN new_keys k ON s.line_key = k.line_key
    WHERE s.line_key IS NOT NULL AND s.source_file NOT IN (SELECT path FROM parsing)
),
owner_first AS (
    SELECT source_file, epoch_ms(min(ts)) AS first_ts
    FROM stored
    WHERE source_file IN (SELECT source_file FROM owners)
    GROUP BY source_file
)
SELECT DISTINCT o.source_file
FROM owners o
JOIN owner_first f USING (source_file)
JOIN new_order n ON n.path = o.path
WHERE f.first_ts IS NULL OR n.first_ts IS NULL OR f.first_ts > n.first_ts
   OR (f.first_ts = n.first_ts AND o.source_file > n.path)
ORDER BY 1
