-- name: compare_tool_errors
-- description: Tool error rate (errors / completed calls) of two or more models side by
--   side: one row per pair of models (and stratum), with sample sizes, Wilson 95% intervals,
--   the difference and a two-sided two-proportion z-test (pooled). For small counts prefer
--   the Fisher exact test of tracelab.metrics.compare. Every row carries the sampling note.
-- param since TIMESTAMP = NULL: window start on started_at, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param project VARCHAR = NULL: only sessions of this project
-- param tool VARCHAR = NULL: only this tool
-- param include_subagents BOOLEAN = TRUE: FALSE drops calls made in subagent sessions
-- param models VARCHAR[] = NULL: models to compare, in this order (NULL = every model)
-- param by VARCHAR = 'none' {none|agent|tool|project}: stratify: compare within each value of this dimension
-- param min_completed INTEGER = 1 (>= 0): drop (stratum, model) cells with fewer completed calls
-- returns stratum VARCHAR: value of the by dimension (NULL for by none)
-- returns model_a VARCHAR: first model of the pair
-- returns model_b VARCHAR: second model of the pair
-- returns completed_a BIGINT: completed calls of model_a
-- returns errors_a BIGINT: failed calls of model_a
-- returns rate_a DOUBLE: error rate of model_a
-- returns rate_a_lo DOUBLE: Wilson 95% lower bound
-- returns rate_a_hi DOUBLE: Wilson 95% upper bound
-- returns completed_b BIGINT: completed calls of model_b
-- returns errors_b BIGINT: failed calls of model_b
-- returns rate_b DOUBLE: error rate of model_b
-- returns rate_b_lo DOUBLE: Wilson 95% lower bound
-- returns rate_b_hi DOUBLE: Wilson 95% upper bound
-- returns diff DOUBLE: rate_a - rate_b
-- returns z DOUBLE: two-proportion z statistic (pooled standard error)
-- returns p_value DOUBLE: two-sided p-value of z
-- returns test VARCHAR: name of the test
-- returns note VARCHAR: sampling caveat
WITH c AS (
    SELECT
        -- '' stands for "no stratum" so the pair join is a plain equi-join
        coalesce(tl_group_key($by, agent, model, tool_name, project), '') AS skey,
        model,
        count(*) FILTER (WHERE status IN ('ok', 'error')) AS n,
        count(*) FILTER (WHERE status = 'error') AS k
    FROM tl_tool_calls($since, $until, $agent, NULL, $project, $tool, $include_subagents)
    WHERE model IS NOT NULL AND (CAST($models AS VARCHAR[]) IS NULL OR list_contains(CAST($models AS VARCHAR[]), model))
    GROUP BY ALL
    HAVING count(*) FILTER (WHERE status IN ('ok', 'error')) >= greatest($min_completed, 1)
),
p AS (
    SELECT a.skey, a.model AS model_a, b.model AS model_b, a.n AS n_a, a.k AS k_a, b.n AS n_b, b.k AS k_b
    FROM c a
    JOIN c b ON a.skey = b.skey AND a.model <> b.model
    WHERE CASE WHEN CAST($models AS VARCHAR[]) IS NULL THEN a.model < b.model
               ELSE list_position(CAST($models AS VARCHAR[]), a.model) < list_position(CAST($models AS VARCHAR[]), b.model) END
),
t AS (
    SELECT *,
           k_a / n_a AS rate_a,
           k_b / n_b AS rate_b,
           sqrt(((k_a + k_b) / (n_a + n_b)) * (1 - (k_a + k_b) / (n_a + n_b)) * (1.0 / n_a + 1.0 / n_b)) AS se
    FROM p
)
SELECT
    nullif(skey, '') AS stratum, model_a, model_b,
    n_a AS completed_a, k_a AS errors_a, rate_a, tl_wilson_lo(k_a, n_a) AS rate_a_lo, tl_wilson_hi(k_a, n_a) AS rate_a_hi,
    n_b AS completed_b, k_b AS errors_b, rate_b, tl_wilson_lo(k_b, n_b) AS rate_b_lo, tl_wilson_hi(k_b, n_b) AS rate_b_hi,
    rate_a - rate_b AS diff,
    CASE WHEN se > 0 THEN (rate_a - rate_b) / se END AS z,
    CASE WHEN se > 0 THEN tl_p_two_sided((rate_a - rate_b) / se) ELSE 1.0 END AS p_value,
    'two-proportion z (pooled)' AS test,
    tl_sample_note() AS note
FROM t
ORDER BY stratum NULLS FIRST, model_a, model_b
