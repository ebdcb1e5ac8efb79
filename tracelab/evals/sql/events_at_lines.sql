-- name: events_at_lines
-- description: The events on given physical lines: $files and $lines are parallel lists (file i, line i).
--   Several blocks of one line come back in block order; the caller picks one.
-- param files VARCHAR[]: source files, parallel to lines
-- param lines INTEGER[]: line numbers, parallel to files
WITH want AS (
    SELECT unnest($files::VARCHAR[]) AS source_file, unnest($lines::INTEGER[]) AS line_no
)
SELECT e.event_key, e.session_key, e.ts, e.source_file, e.line_no, e.seq, e.kind, e.tool_call_id,
       e.tool_name
FROM events e JOIN want w ON e.source_file = w.source_file AND e.line_no = w.line_no
ORDER BY e.source_file, e.line_no, e.seq
