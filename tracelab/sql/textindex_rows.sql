-- name: textindex_rows
-- description: Rows of events parts holding a token that matches one lookup of the search
--   index (tracelab/textindex/plan.py): the tokens the search's own regular expression
--   (`tl_search_rx`) matches, with `before` / `after` anchoring it to a token's start / end.
-- param files VARCHAR[] = NULL: the index segments to read
-- param word VARCHAR = NULL: the token run looked up
-- param case_sensitive BOOLEAN = FALSE: match case exactly
-- param before VARCHAR = '': '^' when the token must start with `word`
-- param after VARCHAR = '': '$' when the token must end with it
-- returns index_file VARCHAR: the segment (as given in `files`)
-- returns row_no UINTEGER: the row number in that segment's events part

SELECT DISTINCT filename AS index_file, unnest(rows) AS row_no
FROM read_parquet($files, filename = true)
WHERE regexp_matches(token, tl_search_rx($word, false, $case_sensitive, $before, $after))
