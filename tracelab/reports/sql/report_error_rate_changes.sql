-- name: report_error_rate_changes
-- description: Tool error rate of the report week against the week before, per agent x model
--   x tool (level 'tool') or over all calls (level 'all'), with Wilson 95% intervals, the
--   change in percentage points and a pooled two-proportion z-test (two-sided p-value).
--   Rows where both weeks have enough completed calls are "tested"; their p-values are
--   adjusted for testing many rows at once (Benjamini-Hochberg 'bh', Holm 'holm', or 'none').
--   A tested row is a regression when its rate rose by at least min_increase_pp and the
--   adjusted p-value is below alpha. error_rate = errors / (ok + errors).
-- param previous_since TIMESTAMP: start of the previous week (inclusive, UTC)
-- param since TIMESTAMP: start of the report week (inclusive, UTC)
-- param until TIMESTAMP: end of the report week (exclusive, UTC)
-- param level VARCHAR = 'tool' {tool|all}: tool = one row per agent x model x tool; all = one row
-- param min_increase_pp DOUBLE = 5.0: smallest increase (percentage points) that counts
-- param alpha DOUBLE = 0.05: significance level of the two-sided z-test
-- param min_calls INTEGER = 20: completed calls the report week needs
-- param min_calls_previous INTEGER = 20: completed calls the previous week needs
-- param correction VARCHAR = 'bh' {bh|holm|none}: multiple-testing adjustment over the tested rows
-- returns agent VARCHAR: agent (NULL for level all)
-- returns model VARCHAR: model (NULL for level all)
-- returns tool_name VARCHAR: tool (NULL for level all)
-- returns calls BIGINT: tool calls in the report week (any status)
-- returns completed BIGINT: ok + error calls in the report week
-- returns errors BIGINT: failed calls in the report week
-- returns error_rate DOUBLE: errors / completed in the report week
-- returns ci_low DOUBLE: Wilson 95% lower bound of error_rate
-- returns ci_high DOUBLE: Wilson 95% upper bound of error_rate
-- returns previous_completed BIGINT: ok + error calls in the previous week
-- returns previous_errors BIGINT: failed calls in the previous week
-- returns previous_error_rate DOUBLE: errors / completed in the previous week
-- returns previous_ci_low DOUBLE: Wilson 95% lower bound, previous week
-- returns previous_ci_high DOUBLE: Wilson 95% upper bound, previous week
-- returns delta_pp DOUBLE: error_rate - previous_error_rate, in percentage points
-- returns z DOUBLE: pooled two-proportion z statistic (NULL when undefined)
-- returns p_value DOUBLE: two-sided p-value of z
-- returns tested BOOLEAN: both weeks have enough completed calls and p_value is defined
-- returns p_adjusted DOUBLE: p_value adjusted over the tested rows (NULL when not tested)
-- returns regression BOOLEAN: tested, rose by at least min_increase_pp, p_adjusted < alpha
WITH c AS (
    SELECT
        CASE WHEN $level = 'all' THEN NULL ELSE agent END AS agent,
        CASE WHEN $level = 'all' THEN NULL ELSE model END AS model,
        CASE WHEN $level = 'all' THEN NULL ELSE tool_name END AS tool_name,
        count(*) FILTER (WHERE started_at >= $since) AS calls,
        count(*) FILTER (WHERE started_at >= $since AND status IN ('ok', 'error')) AS completed,
        count(*) FILTER (WHERE started_at >= $since AND status = 'error') AS errors,
        count(*) FILTER (WHERE started_at < $since AND status IN ('ok', 'error')) AS previous_completed,
        count(*) FILTER (WHERE started_at < $since AND status = 'error') AS previous_errors
    FROM tl_tool_calls($previous_since, $until, NULL, NULL, NULL, NULL, TRUE)
    GROUP BY ALL
),
r AS (
    SELECT *,
           errors / nullif(completed, 0) AS error_rate,
           previous_errors / nullif(previous_completed, 0) AS previous_error_rate,
           (errors + previous_errors) / nullif(completed + previous_completed, 0) AS pooled
    FROM c
),
z AS (
    SELECT *,
           (error_rate - previous_error_rate)
             / nullif(sqrt(pooled * (1 - pooled) * (1.0 / nullif(completed, 0) + 1.0 / nullif(previous_completed, 0))), 0) AS z
    FROM r
),
p AS (
    SELECT *,
           tl_p_two_sided(z) AS p_value,
           coalesce(completed >= $min_calls AND previous_completed >= $min_calls_previous AND tl_p_two_sided(z) IS NOT NULL, false) AS tested
    FROM z
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY tested ORDER BY p_value, agent, model, tool_name) AS rk,
           count(*) OVER (PARTITION BY tested) AS m
    FROM p
),
adj AS (
    SELECT *,
           -- Benjamini-Hochberg: q_i = min over j >= i of p_j * m / j
           least(1.0, min(p_value * m / rk) OVER (PARTITION BY tested ORDER BY rk DESC ROWS UNBOUNDED PRECEDING)) AS p_bh,
           -- Holm: max over j <= i of min(1, (m - j + 1) * p_j)
           max(least(1.0, (m - rk + 1) * p_value)) OVER (PARTITION BY tested ORDER BY rk ROWS UNBOUNDED PRECEDING) AS p_holm
    FROM ranked
),
f AS (
    SELECT *,
           CASE WHEN tested THEN CASE $correction WHEN 'bh' THEN p_bh WHEN 'holm' THEN p_holm ELSE p_value END END AS p_adjusted
    FROM adj
)
SELECT
    agent, model, tool_name, calls, completed, errors, error_rate,
    tl_wilson_lo(errors, completed) AS ci_low,
    tl_wilson_hi(errors, completed) AS ci_high,
    previous_completed, previous_errors, previous_error_rate,
    tl_wilson_lo(previous_errors, previous_completed) AS previous_ci_low,
    tl_wilson_hi(previous_errors, previous_completed) AS previous_ci_high,
    100 * (error_rate - previous_error_rate) AS delta_pp,
    z,
    p_value,
    tested,
    p_adjusted,
    coalesce(tested AND 100 * (error_rate - previous_error_rate) >= $min_increase_pp AND p_adjusted < $alpha, false) AS regression
FROM f
WHERE completed > 0 OR previous_completed > 0
ORDER BY regression DESC, completed DESC, agent, model, tool_name
