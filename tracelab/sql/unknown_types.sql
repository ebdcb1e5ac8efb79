-- name: unknown_types
-- description: The line types kept without being understood (kind 'unknown': a type or shape
--   the adapter does not know, its fields kept in `extra`), counted over the view
--   `events_in_scope`: the event parts an ingest just wrote (duplicates already dropped), or
--   all events (`tracelab info`). A new type showing up after an agent update is format drift.
SELECT agent, coalesce(native_type, '(no type)') AS native_type, count(*) AS n
FROM events_in_scope
WHERE kind = 'unknown'
GROUP BY ALL
ORDER BY n DESC, agent, native_type
