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
-- returns cache_write_tokens BIGINT: cache write tokens (ccusage cacheCreationTokens)
-- returns cache_read_tokens BIGINT: cache read tokens (ccusage cacheReadTokens)
-- returns total_tokens BIGINT: sum of the four (ccusage totalTokens)
-- returns cost_usd DOUBLE: cost under cost_mode; NULL when no call of the row has a cost
-- returns unpriced_calls BIGINT: calls whose cost is unknown under cost_mode
-- returns unpriced_tokens BIGINT: tokens of those calls

-- c is read by two branches (NOT MATERIALIZED: each streams it), only one of which yields rows:
-- the calendar reports key their rows by the first day of the bucket (a DATE, formatted once per
-- group at the end), the session report by the session id; only the session report joins
-- sessions, so the others never read root_session_key. One aggregate serves both.
WITH c AS NOT MATERIALIZED (
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
calendar AS (
    SELECT
        CASE $period
            WHEN 'daily' THEN local_day
            WHEN 'weekly' THEN local_day - CAST((dayofweek(local_day) - (list_position(
                ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'], $start_of_week) - 1) + 7) % 7 AS INTEGER)
            WHEN 'monthly' THEN CAST(date_trunc('month', local_day) AS DATE)
            ELSE error('period must be one of daily, weekly, monthly, session; got ' || coalesce('''' || $period || '''', 'NULL'))
        END AS bucket_day,
        NULL::VARCHAR AS session_bucket,
        NULL::VARCHAR AS project,
        CASE WHEN is_synthetic THEN NULL ELSE model END AS model,
        ts, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, total_tokens, cost_m
    FROM c
    WHERE $period IS DISTINCT FROM 'session'
),
sessions_b AS (
    SELECT
        NULL::DATE AS bucket_day,
        coalesce(r.session_id, c.root_session_key) AS session_bucket,
        coalesce(r.project, c.project) AS project,
        CASE WHEN c.is_synthetic THEN NULL ELSE c.model END AS model,
        c.ts, c.input_tokens, c.output_tokens, c.cache_write_tokens, c.cache_read_tokens, c.total_tokens, c.cost_m
    FROM c
    LEFT JOIN sessions r ON r.session_key = c.root_session_key
    WHERE $period = 'session'
),
g AS (
    SELECT
        coalesce(
            session_bucket,
            CASE $period WHEN 'monthly' THEN strftime(bucket_day, '%Y-%m') ELSE strftime(bucket_day, '%Y-%m-%d') END
        ) AS bucket,
        project,
        model,
        min(ts) AS first_activity,
        max(ts) AS last_activity,
        count(*) AS llm_calls,
        sum(input_tokens)::BIGINT AS input_tokens,
        sum(output_tokens)::BIGINT AS output_tokens,
        sum(cache_write_tokens)::BIGINT AS cache_write_tokens,
        sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
        sum(total_tokens)::BIGINT AS total_tokens,
        sum(cost_m) AS cost_usd,
        count(*) FILTER (WHERE cost_m IS NULL AND total_tokens > 0) AS unpriced_calls,
        coalesce(sum(total_tokens) FILTER (WHERE cost_m IS NULL AND total_tokens > 0), 0)::BIGINT AS unpriced_tokens
    FROM (SELECT * FROM calendar UNION ALL SELECT * FROM sessions_b)
    GROUP BY bucket_day, session_bucket, project, model
)
SELECT * FROM g
ORDER BY bucket, first_activity, model NULLS LAST
