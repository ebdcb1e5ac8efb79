-- name: textindex_order
-- description: An events part's rows in the order `tracelab search` lists matches, newest
--   first (the ORDER BY of search_events.sql): the search index numbers its documents this
--   way (tracelab/textindex/segments.py), so a part's newest matches are its smallest numbers.
-- param part VARCHAR = NULL: the events part (a Parquet file)
-- returns row_no UINTEGER: the row's number in the file (0-based)
-- returns ts_ms BIGINT: its time in epoch milliseconds (NULL: no time; those come last)

SELECT CAST(file_row_number AS UINTEGER) AS row_no, epoch_ms(ts) AS ts_ms
FROM read_parquet($part, file_row_number = true)
ORDER BY ts DESC NULLS LAST, source_file, seq, event_key
