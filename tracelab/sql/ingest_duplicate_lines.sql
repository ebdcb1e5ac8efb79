-- name: ingest_duplicate_lines
-- description: The lines of this ingest that repeat a line already ingested (dedup rule 2 in
--   data/README.md). Inputs: `new_keys` (path, line_no, line_key, has_rows: every line of
--   the files parsed now), `file_order` (path, o: the file's position in dedup order,
--   earliest session first) and `stored_keys` (line_key of every stored event). A line is a
--   duplicate when its key is stored, or when an earlier line of this ingest (earlier file,
--   or the same file further up) has the same key; only lines that made rows are returned
--   (their rows are dropped), as (o, line_no) in order.
SELECT o, line_no
FROM (
    SELECT f.o, k.line_no, k.line_key, k.has_rows,
           row_number() OVER (PARTITION BY k.line_key ORDER BY f.o, k.line_no) AS nth
    FROM new_keys k
    JOIN file_order f USING (path)
) n
WHERE has_rows
  AND (nth > 1 OR line_key IN (SELECT line_key FROM stored_keys))
ORDER BY o, line_no
