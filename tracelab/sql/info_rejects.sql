-- name: info_rejects
-- description: Rejected lines by agent and reason (the reason up to its first ':' or ' (',
--   as the ingest summary groups them), most frequent first.
SELECT agent, split_part(split_part(reason, ':', 1), ' (', 1) AS reason, count(*) AS lines
FROM rejects
GROUP BY ALL
ORDER BY lines DESC, agent, reason
