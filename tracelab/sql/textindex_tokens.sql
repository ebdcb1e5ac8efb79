-- name: textindex_tokens
-- description: The distinct tokens of the search index that match one lookup
--   (tracelab/textindex/plan.py): those the search's own regular expression (`tl_search_rx`)
--   matches, with `before` / `after` anchoring it to a token's start / end. Reads only the
--   vocabulary rows of the segments (`block` = -1: each token of a part once; the other row
--   groups are skipped by their `block` range).
-- param files VARCHAR[] = NULL: the index segments to read
-- param word VARCHAR = NULL: the token run looked up
-- param case_sensitive BOOLEAN = FALSE: match case exactly
-- param before VARCHAR = '': '^' when the token must start with `word`
-- param after VARCHAR = '': '$' when the token must end with it
-- returns token VARCHAR: a matching token

SELECT DISTINCT token
FROM read_parquet($files)
WHERE block = -1
  AND regexp_matches(token, tl_search_rx($word, false, $case_sensitive, $before, $after))
