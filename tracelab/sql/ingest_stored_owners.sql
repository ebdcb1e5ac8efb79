-- name: ingest_stored_owners
-- description: Stored files that hold rows of a line whose key a file parsed in this ingest
--   repeats (dedup rule 2 in data/README.md), with the file that repeats it: the caller
--   parses again, in the same ingest, those that may come later in dedup order (earliest
--   session first, then path) than the file repeating them, so that dedup order, not arrival
--   order, decides which copy owns the line. Inputs: `new_keys` (path, line_no, line_key,
--   has_rows of the files parsed now), `stored` (line_key, source_file, ts of every stored
--   event) and `parsing` (path of every file whose stored rows go in this ingest; a file only
--   appended to keeps its stored rows and may be returned).
-- returns source_file VARCHAR: a stored file holding rows of a repeated line
-- returns path VARCHAR: the file parsed now that repeats one of its lines
-- returns stored_first_ts BIGINT: epoch ms of the stored file's earliest row (its place in dedup order when the manifest does not record one)
WITH owners AS (
    SELECT DISTINCT s.source_file, k.path
    FROM stored s
    JOIN new_keys k ON s.line_key = k.line_key
    WHERE s.line_key IS NOT NULL
      AND s.source_file <> k.path
      AND s.source_file NOT IN (SELECT path FROM parsing)
),
owner_first AS (
    SELECT source_file, epoch_ms(min(ts)) AS stored_first_ts
    FROM stored
    WHERE source_file IN (SELECT source_file FROM owners)
    GROUP BY source_file
)
SELECT o.source_file, o.path, f.stored_first_ts
FROM owners o
JOIN owner_first f USING (source_file)
ORDER BY 1, 2
