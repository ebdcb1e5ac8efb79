-- name: textindex_sessions
-- description: The sessions with an event whose text or tool input contains `pattern` (a
--   plain substring, any case: `tracelab sessions --search`), over the search index's
--   candidates. Reads the temporary view `tl_search_scope` (tracelab/textindex/search.py):
--   candidates marked `proven` match without their text being read.
-- param pattern VARCHAR = NULL: the substring
-- returns session_key VARCHAR: a session holding a match

SELECT DISTINCT session_key
FROM tl_search_scope
WHERE proven OR tl_search_hit(text, tool_input, $pattern, false, false)
