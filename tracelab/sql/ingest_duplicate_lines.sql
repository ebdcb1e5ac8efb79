-- name: ingest_duplicate_lines
-- description: The lines of this ingest that repeat a line already ingested (dedup rule 2 in
--   data/README.md). Input `new_lines` (o: the file's position in dedup order, earliest
--   session first; line_no; line_key; has_rows) and `stored_keys` (line_key of every stored
--   event). A line is a duplicate when its key is stored, or when an earlier line of this
--   ingest (earlier file, or the same file further up) has the same key; only lines that made
--   rows are returned (their rows are dropped), as (o, line_no) in order.
SELECT o, line_no
FROM (
    SELECT o, line_no, line_key, has_rows,
           row_number() OVER (PARTITION BY line_key ORDER BY o, line_no) AS nth
    FROM new_lines
) n
WHERE has_rows
  AND (nth > 1 OR line_key IN (SELECT line_key FROM stored_keys))
ORDER BY o, line_no
