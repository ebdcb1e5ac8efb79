-- name: report_rejects
-- description: Rejected lines of the whole warehouse by agent and reason class (the reason up
--   to its first colon or parenthesis, so "invalid JSON: <parser detail>" and "not a JSON
--   object (got int)" each count as one class), with one full reason as an example and the
--   number of files affected.
-- returns agent VARCHAR: adapter that read the file
-- returns reason VARCHAR: reason class
-- returns lines BIGINT: rejected lines
-- returns files BIGINT: files with at least one such line
-- returns bytes BIGINT: bytes of the rejected lines
-- returns example VARCHAR: one full reason (first 200 characters)
SELECT
    agent,
    trim(regexp_extract(reason, '^[^:(]*')) AS reason,
    count(*) AS lines,
    count(DISTINCT source_file) AS files,
    sum(raw_bytes)::BIGINT AS bytes,
    left(min(reason), 200) AS example
FROM rejects
GROUP BY ALL
ORDER BY lines DESC, agent, reason
