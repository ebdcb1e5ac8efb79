-- name: textindex_postings
-- description: The search index's postings of one chunk of an events part: every distinct
--   token of the chunk with the (sorted, distinct) row numbers in the part of the events whose
--   text or tool input holds it. Reads `tl_tokens` (token, row_no), the tokens as split by
--   tracelab.textindex.segments; empty tokens are left out.
-- returns token VARCHAR: a token as written (see tracelab/textindex/tokens.py)
-- returns rows UINTEGER[]: row numbers (0-based, file order) in the events part

SELECT token, list(DISTINCT row_no ORDER BY row_no) AS rows
FROM tl_tokens
WHERE token <> ''
GROUP BY token
ORDER BY token
