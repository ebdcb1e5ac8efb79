-- name: textindex_file_rows
-- description: The file row numbers of the search index's candidates (`tl_search_docs`) in
--   the given segments, all or each segment's first `k` documents (its newest), read from the
--   segments' order rows (only the blocks holding them; tracelab/textindex/segments.py).
-- param files VARCHAR[] = NULL: the segments whose candidates are wanted
-- param k INTEGER = NULL: only the first k documents of each (NULL: all)
-- param block_docs INTEGER = 4096: documents per order row (segments.ORDER_BLOCK)
-- returns part VARCHAR: the events part (relative to the warehouse)
-- returns part_file VARCHAR: the events part (absolute path, as read_parquet's `filename`)
-- returns row_no BIGINT: the event's row number in it (0-based)

WITH d AS (
    SELECT index_file, doc
    FROM tl_search_docs
    WHERE list_contains($files, index_file)
    QUALIFY $k IS NULL OR row_number() OVER (PARTITION BY index_file ORDER BY doc) <= $k
),
o AS (
    SELECT filename AS index_file, block, rows
    FROM read_parquet($files, filename = true)
    WHERE block IN (SELECT DISTINCT CAST(doc // $block_docs AS INTEGER) FROM d)
)
SELECT s.part, s.part_file, CAST(o.rows[CAST(d.doc % $block_docs AS BIGINT) + 1] AS BIGINT) AS row_no
FROM d
JOIN o ON o.index_file = d.index_file AND o.block = CAST(d.doc // $block_docs AS INTEGER)
JOIN tl_search_seg s ON s.index_file = d.index_file
