-- name: report_data_span
-- description: First and last UTC day that holds timestamped events; the weekly report's
--   default week is the ISO week of the last day.
-- returns first_day DATE: first day with events
-- returns last_day DATE: last day with events
SELECT min(date) AS first_day, max(date) AS last_day
FROM events
WHERE ts IS NOT NULL
