-- name: textindex_rows
-- description: The documents (tracelab/textindex/segments.py: an events part's events
--   numbered newest first) holding one of the given tokens of the search index (found by
--   textindex_tokens), per segment. Posting rows are sorted by token within a chunk, so only
--   the row groups whose token range holds one are read.
-- param files VARCHAR[] = NULL: the index segments to read
-- param tokens VARCHAR[] = NULL: the tokens
-- returns index_file VARCHAR: the segment (as given in `files`)
-- returns doc UINTEGER: a document number

SELECT DISTINCT filename AS index_file, unnest(rows) AS doc
FROM read_parquet($files, filename = true)
WHERE token IN (SELECT unnest($tokens)) AND block IS NULL  -- posting rows (not the vocabulary)
