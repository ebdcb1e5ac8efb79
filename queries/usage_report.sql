-- name: usage_report
-- description: ccusage-style usage rows, one per bucket x model, that `tracelab usage
--   daily|weekly|monthly|session` turns into ccusage's JSON shape. Buckets: the local date
--   (daily), the local date of the week's first day (weekly), YYYY-MM (monthly), or the root
--   session id (session; subagent sessions roll up into the session that spawned them).
--   Synthetic stand-in responses are kept with model NULL (ccusage counts them in totals but
--   in no model breakdown). cost_mode: calculate = price table; display = the cost the agent
--   logged; auto = logged cost where present, else calculated. Unknown cost stays NULL.
--   Responses without a timestamp belong to no bucket and are left out (as in ccusage).
-- param since TIMESTAMP = NULL: window start on the response time, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only this model
-- param project VARCHAR = NULL: only sessions of this project
-- param include_subagents BOOLEAN = TRUE: FALSE drops calls made in subagent sessions
-- param period VARCHAR = 'daily' {daily|weekly|monthly|session}: report kind
-- param timezone VARCHAR = 'UTC': IANA time zone that dates are taken in
-- param start_of_week VARCHAR = 'sunday' {sunday|monday|tuesday|wednesday|thursday|friday|saturday}: first day of a week (ccusage default: sunday)
-- param cost_mode VARCHAR = 'auto' {auto|calculate|display}: where cost comes from
-- returns bucket VARCHAR: date, week start, month or session id
-- returns project VARCHAR: project of the (root) session; NULL unless period is session
-- returns model VARCHAR: model (NULL for synthetic or model-less responses)
-- returns first_activity TIMESTAMP WITH TIME ZONE: first response in the bucket for this model
-- returns last_activity TIMESTAMP WITH TIME ZONE: last response in the bucket for this model
-- returns llm_calls BIGINT: responses
-- returns input_tokens BIGINT: uncached input tokens (ccusage inputTokens)
-- returns output_tokens BIGINT: output tokens (ccusage outputTokens)
-- returns cache_creation_tokens BIGINT: cache write tokens (ccusage cacheCreationTokens)
-- returns cache_read_tokens BIGINT: cache read tokens (ccusage cacheReadTokens)
-- returns total_tokens BIGINT: sum of the four (ccusage totalTokens)
-- returns cost_usd DOUBLE: cost under cost_mode; NULL when no call of the row has a cost
-- returns unpriced_calls BIGINT: calls whose cost is unknown under cost_mode
WITH c AS (
    SELECT
        l.*,
        -- the stored `date` is the UTC day; other zones convert (slower: a calendar per row)
        CASE WHEN $timezone = 'UTC' THEN l.date ELSE CAST(timezone($timezone, l.ts) AS DATE) END AS local_day,
        CASE $cost_mode
            WHEN 'calculate' THEN l.cost_usd
            WHEN 'display' THEN l.cost_usd_reported
            ELSE coalesce(l.cost_usd_reported, l.cost_usd)
        END AS cost_m
    FROM tl_llm_calls($since, $until, $agent, $model, $project, $include_subagents) l
    WHERE l.ts IS NOT NULL
),
b AS (
    SELECT
        CASE $period
            WHEN 'daily' THEN strftime(local_day, '%Y-%m-%d')
            WHEN 'weekly' THEN strftime(local_day - CAST((dayofweek(local_day) - (list_position(
                ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'], $start_of_week) - 1) + 7) % 7 AS INTEGER), '%Y-%m-%d')
            WHEN 'monthly' THEN strftime(local_day, '%Y-%m')
            WHEN 'session' THEN coalesce(r.session_id, c.root_session_key)
            ELSE error('period must be one of daily, weekly, monthly, session; got ' || coalesce('''' || $period || '''', 'NULL'))
        END AS bucket,
        CASE WHEN $period = 'session' THEN coalesce(r.project, c.project) END AS project,
        CASE WHEN c.is_synthetic THEN NULL ELSE c.model END AS model,
        c.*  EXCLUDE (model, project)
    FROM c
    LEFT JOIN sessions r ON r.session_key = c.root_session_key
)
SELECT
    bucket,
    project,
    model,
    min(ts) AS first_activity,
    max(ts) AS last_activity,
    count(*) AS llm_calls,
    sum(input_tokens)::BIGINT AS input_tokens,
    sum(output_tokens)::BIGINT AS output_tokens,
    sum(cache_write_tokens)::BIGINT AS cache_creation_tokens,
    sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
    sum(total_tokens)::BIGINT AS total_tokens,
    sum(cost_m) AS cost_usd,
    count(*) FILTER (WHERE cost_m IS NULL AND total_tokens > 0) AS unpriced_calls
FROM b
GROUP BY bucket, project, model
ORDER BY bucket, first_activity, model NULLS LAST
