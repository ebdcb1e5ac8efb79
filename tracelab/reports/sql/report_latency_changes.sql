-- name: report_latency_changes
-- description: Latency percentiles of the report week per agent x model (metric llm) or agent
--   x tool (metric tool), beside the previous week's median and p95, with a Mann-Whitney U test
--   of "the two weeks' latencies come from the same distribution" (normal approximation, no tie
--   correction, which errs conservative). Rows where both weeks have min_samples observations
--   are tested; p-values are adjusted over the tested rows like the error-rate changes. A
--   tested row is a regression when its median or p95 rose by at least min_increase_pct and
--   the adjusted p-value is below alpha. Percentiles are exact (quantile_cont).
-- param previous_since TIMESTAMP: start of the previous week (inclusive, UTC)
-- param since TIMESTAMP: start of the report week (inclusive, UTC)
-- param until TIMESTAMP: end of the report week (exclusive, UTC)
-- param metric VARCHAR = 'llm' {llm|tool}: llm = model response latency, tool = tool call latency
-- param min_increase_pct DOUBLE = 25.0: smallest relative increase of p50 or p95 that counts
-- param min_samples INTEGER = 30: observations each week needs
-- param alpha DOUBLE = 0.05: significance level
-- param correction VARCHAR = 'bh' {bh|holm|none}: multiple-testing adjustment over the tested rows
-- returns agent VARCHAR: agent
-- returns group_key VARCHAR: model (metric llm) or tool (metric tool)
-- returns n BIGINT: observations in the report week
-- returns p05_ms DOUBLE: 5th percentile
-- returns p25_ms DOUBLE: 25th percentile
-- returns p50_ms DOUBLE: median
-- returns p75_ms DOUBLE: 75th percentile
-- returns p90_ms DOUBLE: 90th percentile
-- returns p95_ms DOUBLE: 95th percentile
-- returns p99_ms DOUBLE: 99th percentile
-- returns previous_n BIGINT: observations in the previous week
-- returns previous_p50_ms DOUBLE: previous week's median
-- returns previous_p95_ms DOUBLE: previous week's 95th percentile
-- returns p50_change_pct DOUBLE: relative change of the median, percent
-- returns p95_change_pct DOUBLE: relative change of p95, percent
-- returns p_value DOUBLE: two-sided Mann-Whitney p-value (NULL when a week has no data)
-- returns tested BOOLEAN: both weeks have min_samples observations
-- returns p_adjusted DOUBLE: p_value adjusted over the tested rows (NULL when not tested)
-- returns regression BOOLEAN: tested, p50 or p95 rose by min_increase_pct, p_adjusted < alpha
WITH s AS (
    SELECT agent, CASE WHEN $metric = 'tool' THEN tool_name ELSE model END AS group_key,
           ts >= $since AS cur, value_ms
    FROM tl_latency_samples($metric, $previous_since, $until, NULL, NULL, NULL, NULL, TRUE)
),
ranked AS (
    -- mid-ranks over both weeks of a group: ties share the mean of their ranks
    SELECT *, rank() OVER g + (count(*) OVER (PARTITION BY agent, group_key, value_ms) - 1) / 2.0 AS r
    FROM s
    WINDOW g AS (PARTITION BY agent, group_key ORDER BY value_ms)
),
g AS (
    SELECT agent, group_key,
           count(*) FILTER (WHERE cur) AS n,
           count(*) FILTER (WHERE NOT cur) AS previous_n,
           quantile_cont(value_ms, [0.05, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]) FILTER (WHERE cur) AS q,
           quantile_cont(value_ms, 0.5) FILTER (WHERE NOT cur) AS previous_p50_ms,
           quantile_cont(value_ms, 0.95) FILTER (WHERE NOT cur) AS previous_p95_ms,
           sum(r) FILTER (WHERE cur) AS rank_sum
    FROM ranked
    GROUP BY ALL
),
t AS (
    SELECT agent, group_key, n,
           q[1] AS p05_ms, q[2] AS p25_ms, q[3] AS p50_ms, q[4] AS p75_ms, q[5] AS p90_ms, q[6] AS p95_ms, q[7] AS p99_ms,
           previous_n, previous_p50_ms, previous_p95_ms,
           100 * (q[3] / nullif(previous_p50_ms, 0) - 1) AS p50_change_pct,
           100 * (q[6] / nullif(previous_p95_ms, 0) - 1) AS p95_change_pct,
           tl_p_two_sided(
               (rank_sum - n * (n + 1) / 2.0 - n * previous_n / 2.0)
               / nullif(sqrt(n * previous_n * (n + previous_n + 1) / 12.0), 0)) AS p_value
    FROM g
    WHERE n > 0
),
p AS (
    SELECT *, coalesce(n >= $min_samples AND previous_n >= $min_samples AND p_value IS NOT NULL, false) AS tested
    FROM t
),
rk AS (
    SELECT *,
           row_number() OVER (PARTITION BY tested ORDER BY p_value, agent, group_key) AS i,
           count(*) OVER (PARTITION BY tested) AS m
    FROM p
),
adj AS (
    SELECT *,
           least(1.0, min(p_value * m / i) OVER (PARTITION BY tested ORDER BY i DESC ROWS UNBOUNDED PRECEDING)) AS p_bh,
           max(least(1.0, (m - i + 1) * p_value)) OVER (PARTITION BY tested ORDER BY i ROWS UNBOUNDED PRECEDING) AS p_holm
    FROM rk
),
f AS (
    SELECT *, CASE WHEN tested THEN CASE $correction WHEN 'bh' THEN p_bh WHEN 'holm' THEN p_holm ELSE p_value END END AS p_adjusted
    FROM adj
)
SELECT
    agent, group_key, n, p05_ms, p25_ms, p50_ms, p75_ms, p90_ms, p95_ms, p99_ms,
    previous_n, previous_p50_ms, previous_p95_ms, p50_change_pct, p95_change_pct,
    p_value, tested, p_adjusted,
    coalesce(tested AND (p50_change_pct >= $min_increase_pct OR p95_change_pct >= $min_increase_pct) AND p_adjusted < $alpha, false) AS regression
FROM f
ORDER BY regression DESC, n DESC, agent, group_key
