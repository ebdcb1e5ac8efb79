-- name: ingest_stored_owners
-- description: Stored files that hold rows of a line whose key a file parsed in this ingest
--   repeats (dedup rule 2 in data/README.md): they are parsed again in the same ingest so
--   that dedup order, not arrival order, decides which copy owns the line. Inputs:
--   `new_keys` (path, line_no, line_key, has_rows of the files parsed now), `stored`
--   (line_key, source_file of every stored event) and `parsing` (path of every file parsed
--   now, whose stored rows are replaced anyway).
-- returns source_file VARCHAR: a stored file to parse again
SELECT DISTINCT s.source_file
FROM stored s
JOIN new_keys k ON s.line_key = k.line_key
WHERE s.source_file NOT IN (SELECT path FROM parsing)
ORDER BY 1
