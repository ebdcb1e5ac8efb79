-- name: chart_active_periods
-- description: Periods (UTC weeks starting Monday, or days) that hold any timestamped event:
--   where a count chart draws zero for "nothing happened" and where it leaves a gap (no data).
-- param since TIMESTAMP = NULL: window start, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param period VARCHAR = 'week' {week|day}: period length
-- returns period DATE: first day of a period with events
-- returns events BIGINT: timestamped events in the period
SELECT CASE WHEN $period = 'day' THEN date ELSE CAST(date_trunc('week', date) AS DATE) END AS period,
       count(*) AS events
FROM events
WHERE ts IS NOT NULL
  AND ($since IS NULL OR ts >= $since)
  AND ($until IS NULL OR ts < $until)
  AND ($agent IS NULL OR agent = $agent)
GROUP BY ALL
ORDER BY period
