-- name: textindex_rows
-- description: The postings of the given tokens of the search index (found by
--   textindex_tokens): one row per segment row holding one (a token has a row per chunk of
--   its events part). Posting rows are sorted by token within a chunk, so only the row groups
--   whose token range holds one are read.
-- param files VARCHAR[] = NULL: the index segments to read
-- param tokens VARCHAR[] = NULL: the tokens
-- returns index_file VARCHAR: the segment (as given in `files`)
-- returns rows UINTEGER[]: document numbers (tracelab/textindex/segments.py) of events holding the token

SELECT filename AS index_file, rows
FROM read_parquet($files, filename = true)
WHERE token IN (SELECT unnest($tokens)) AND block IS NULL  -- posting rows (not the vocabulary)
