-- name: textindex_counts
-- description: Per indexed events part, how many of the search index's candidates
--   (`tl_search_docs`: index_file, doc) it holds, and how many of them have a time (documents
--   below the segment's `timed`). Reads the temporary tables of tracelab/textindex/search.py.
-- returns part VARCHAR: the events part (relative to the warehouse)
-- returns n BIGINT: candidates
-- returns n_timed BIGINT: candidates with a time

SELECT s.part, count(d.doc) AS n, count(d.doc) FILTER (WHERE d.doc < s.timed) AS n_timed
FROM tl_search_seg s
LEFT JOIN tl_search_docs d USING (index_file)
GROUP BY s.part
