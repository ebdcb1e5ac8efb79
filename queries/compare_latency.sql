-- name: compare_latency
-- description: One latency metric of two or more models side by side: one row per pair of
--   models (and stratum) with sample sizes, medians and p90s, the ratio of medians, and a
--   two-sided Mann-Whitney U test (normal approximation with tie and continuity correction,
--   as scipy.stats.mannwhitneyu(method='asymptotic')). Every row carries the sampling note.
-- param since TIMESTAMP = NULL: window start, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param project VARCHAR = NULL: only sessions of this project
-- param tool VARCHAR = NULL: only this tool (metric tool only)
-- param include_subagents BOOLEAN = TRUE: FALSE drops observations from subagent sessions
-- param metric VARCHAR = 'llm' {llm|tool|turn|human_wait}: latency metric (see latency_percentiles)
-- param models VARCHAR[] = NULL: models to compare, in this order (NULL = every model)
-- param by VARCHAR = 'none' {none|agent|tool|project}: stratify: compare within each value of this dimension
-- param min_n INTEGER = 1 (>= 0): drop (stratum, model) cells with fewer observations
-- returns stratum VARCHAR: value of the by dimension (NULL for by none)
-- returns model_a VARCHAR: first model of the pair
-- returns model_b VARCHAR: second model of the pair
-- returns n_a BIGINT: observations of model_a
-- returns median_a_ms DOUBLE: median of model_a
-- returns p90_a_ms DOUBLE: 90th percentile of model_a
-- returns n_b BIGINT: observations of model_b
-- returns median_b_ms DOUBLE: median of model_b
-- returns p90_b_ms DOUBLE: 90th percentile of model_b
-- returns median_ratio DOUBLE: median_a_ms / median_b_ms
-- returns u_statistic DOUBLE: Mann-Whitney U of model_a
-- returns z DOUBLE: standardised U (tie- and continuity-corrected)
-- returns p_value DOUBLE: two-sided p-value
-- returns test VARCHAR: name of the test
-- returns note VARCHAR: sampling caveat
WITH s AS (
    -- '' stands for "no stratum" so every join below is a plain equi-join
    SELECT coalesce(tl_group_key($by, agent, model, tool_name, project), '') AS skey, model, value_ms
    FROM tl_latency_samples($metric, $since, $until, $agent, NULL, $project, $tool, $include_subagents)
    WHERE model IS NOT NULL AND (CAST($models AS VARCHAR[]) IS NULL OR list_contains(CAST($models AS VARCHAR[]), model))
),
g AS (
    SELECT skey, model, n, q[1] AS median_ms, q[2] AS p90_ms
    FROM (SELECT skey, model, count(*) AS n, quantile_cont(value_ms, [0.5, 0.9]) AS q FROM s GROUP BY ALL)
    WHERE n >= greatest($min_n, 1)
),
p AS (
    SELECT a.skey, a.model AS model_a, b.model AS model_b,
           a.n AS n_a, a.median_ms AS median_a_ms, a.p90_ms AS p90_a_ms,
           b.n AS n_b, b.median_ms AS median_b_ms, b.p90_ms AS p90_b_ms
    FROM g a
    JOIN g b ON a.skey = b.skey AND a.model <> b.model
    WHERE CASE WHEN CAST($models AS VARCHAR[]) IS NULL THEN a.model < b.model
               ELSE list_position(CAST($models AS VARCHAR[]), a.model) < list_position(CAST($models AS VARCHAR[]), b.model) END
),
-- distinct values with their counts: ranks only need counts per value
d AS (
    SELECT skey, model, value_ms, count(*) AS c
    FROM s
    GROUP BY ALL
),
pooled AS (
    SELECT skey, model_a, model_b, value_ms, sum(ca) AS ca, sum(c) AS t
    FROM (
        SELECT p.skey, p.model_a, p.model_b, d.value_ms, d.c AS ca, d.c
        FROM p JOIN d ON d.skey = p.skey AND d.model = p.model_a
        UNION ALL
        SELECT p.skey, p.model_a, p.model_b, d.value_ms, 0, d.c
        FROM p JOIN d ON d.skey = p.skey AND d.model = p.model_b
    )
    GROUP BY ALL
),
ranked AS (
    -- average rank of a value = observations below it + (ties + 1) / 2
    SELECT *,
           sum(t) OVER (PARTITION BY skey, model_a, model_b ORDER BY value_ms ROWS UNBOUNDED PRECEDING) - t AS below
    FROM pooled
),
u AS (
    SELECT skey, model_a, model_b,
           sum(ca * (below + (t + 1) / 2.0)) AS rank_sum_a,
           sum(t * t * t - t) AS tie_term
    FROM ranked
    GROUP BY ALL
),
z AS (
    SELECT p.*,
           u.rank_sum_a - p.n_a * (p.n_a + 1) / 2.0 AS u_a,
           p.n_a * p.n_b / 2.0 AS mu,
           sqrt(p.n_a * p.n_b / 12.0 * ((p.n_a + p.n_b + 1) - u.tie_term / ((p.n_a + p.n_b) * (p.n_a + p.n_b - 1.0)))) AS sigma
    FROM p
    JOIN u ON u.skey = p.skey AND u.model_a = p.model_a AND u.model_b = p.model_b
)
SELECT
    nullif(skey, '') AS stratum, model_a, model_b, n_a, median_a_ms, p90_a_ms, n_b, median_b_ms, p90_b_ms,
    median_a_ms / nullif(median_b_ms, 0) AS median_ratio,
    u_a AS u_statistic,
    CASE WHEN sigma > 0 THEN (u_a - mu - 0.5 * sign(u_a - mu)) / sigma END AS z,
    CASE WHEN sigma > 0 THEN tl_p_two_sided((u_a - mu - 0.5 * sign(u_a - mu)) / sigma) ELSE 1.0 END AS p_value,
    'Mann-Whitney U (normal approximation)' AS test,
    tl_sample_note() AS note
FROM z
ORDER BY stratum NULLS FIRST, model_a, model_b
