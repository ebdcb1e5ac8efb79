-- name: textindex_docs
-- description: The order rows of search index segments (tracelab/textindex/segments.py): the
--   file row numbers of blocks of documents of their events parts. Order rows are the last
--   row groups of a segment, pruned by `block`.
-- param files VARCHAR[] = NULL: the index segments to read
-- param blocks INTEGER[] = NULL: the blocks wanted (in every file given)
-- returns index_file VARCHAR: the segment (as given in `files`)
-- returns block INTEGER: the block: documents block × ORDER_BLOCK onwards
-- returns rows UINTEGER[]: their file row numbers, in document order

SELECT filename AS index_file, block, rows
FROM read_parquet($files, filename = true)
WHERE block IN (SELECT unnest($blocks))
