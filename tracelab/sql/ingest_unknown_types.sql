-- name: ingest_unknown_types
-- description: The line types an ingest kept without understanding them (kind 'unknown': a
--   type or shape the adapter does not know, its fields kept in `extra`), counted over the
--   event parts this ingest wrote (`new_events`, duplicates already dropped). A new type
--   showing up here after an agent update is format drift to look at.
SELECT agent, coalesce(native_type, '(no type)') AS native_type, count(*) AS n
FROM new_events
WHERE kind = 'unknown'
GROUP BY ALL
ORDER BY n DESC, agent, native_type
