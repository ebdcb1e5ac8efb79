-- name: textindex_rows
-- description: Rows of events parts holding one of the given tokens of the search index
--   (found by textindex_tokens). Segments are sorted by token, so only the row groups whose
--   token range holds one are read.
-- param files VARCHAR[] = NULL: the index segments to read
-- param tokens VARCHAR[] = NULL: the tokens
-- returns index_file VARCHAR: the segment (as given in `files`)
-- returns row_no UINTEGER: the row number in that segment's events part

SELECT DISTINCT filename AS index_file, unnest(rows) AS row_no
FROM read_parquet($files, filename = true)
WHERE token IN (SELECT unnest($tokens))
