-- name: session_stats
-- description: Session-level aggregates by period x agent x primary model: duration, turns,
--   tool calls and errors, loops, interrupted and abandoned sessions (with Wilson 95%
--   intervals), compactions and subagent fan-out. Definitions as in session_summary.
-- param since TIMESTAMP = NULL: window start on the session start, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent
-- param model VARCHAR = NULL: only sessions that used this model
-- param project VARCHAR = NULL: only this project
-- param include_subagents BOOLEAN = TRUE: FALSE drops subagent sessions
-- param period VARCHAR = 'week' {day|week|month|all}: time bucket of the session start
-- returns period_start DATE: first day of the bucket (NULL for period all)
-- returns agent VARCHAR: agent
-- returns primary_model VARCHAR: the session's most used model
-- returns sessions BIGINT: sessions
-- returns subagent_sessions BIGINT: of which subagent sessions
-- returns median_duration_s DOUBLE: median session duration (s)
-- returns p90_duration_s DOUBLE: 90th percentile of duration (s)
-- returns mean_turns DOUBLE: mean human prompts per session
-- returns median_turns DOUBLE: median human prompts per session
-- returns tool_calls BIGINT: tool calls
-- returns tool_errors BIGINT: failed tool calls
-- returns loops BIGINT: loop runs (>= 3 identical consecutive tool calls)
-- returns sessions_with_loops BIGINT: sessions with at least one loop
-- returns interrupted_sessions BIGINT: sessions interrupted at least once
-- returns interrupted_rate DOUBLE: interrupted_sessions / sessions
-- returns interrupted_rate_lo DOUBLE: Wilson 95% lower bound
-- returns interrupted_rate_hi DOUBLE: Wilson 95% upper bound
-- returns abandoned_sessions BIGINT: sessions that ended right after an error
-- returns abandoned_rate DOUBLE: abandoned_sessions / sessions
-- returns abandoned_rate_lo DOUBLE: Wilson 95% lower bound
-- returns abandoned_rate_hi DOUBLE: Wilson 95% upper bound
-- returns compactions BIGINT: context compactions
-- returns sessions_with_compaction BIGINT: sessions with at least one compaction
-- returns subagents BIGINT: subagent sessions spawned
-- returns sessions_with_subagents BIGINT: sessions that spawned at least one subagent
-- returns mean_fanout DOUBLE: subagents per spawning session
-- returns max_fanout BIGINT: most subagents spawned by one session
WITH x AS (
    -- the outcomes of tl_session_outcomes, read straight from the stored columns (no cost needed)
    SELECT *, n_loops AS loops, n_interrupts > 0 OR n_interrupted_tools > 0 AS interrupted, is_abandoned AS abandoned
    FROM tl_sessions($since, $until, $agent, $model, $project, $include_subagents)
),
g AS (
    SELECT
        tl_period_start(date, $period) AS period_start,
        agent,
        primary_model,
        count(*) AS sessions,
        count(*) FILTER (WHERE is_subagent) AS subagent_sessions,
        quantile_cont(duration_s, [0.5, 0.9]) AS dq,
        avg(n_user_prompts) AS mean_turns,
        quantile_cont(n_user_prompts, 0.5) AS median_turns,
        sum(n_tool_calls)::BIGINT AS tool_calls,
        sum(n_tool_errors)::BIGINT AS tool_errors,
        sum(loops)::BIGINT AS loops,
        count(*) FILTER (WHERE loops > 0) AS sessions_with_loops,
        count(*) FILTER (WHERE interrupted) AS interrupted_sessions,
        count(*) FILTER (WHERE abandoned) AS abandoned_sessions,
        sum(n_compactions)::BIGINT AS compactions,
        count(*) FILTER (WHERE n_compactions > 0) AS sessions_with_compaction,
        sum(n_subagents)::BIGINT AS subagents,
        count(*) FILTER (WHERE n_subagents > 0) AS sessions_with_subagents,
        max(n_subagents) AS max_fanout
    FROM x
    GROUP BY ALL
)
SELECT
    period_start, agent, primary_model, sessions, subagent_sessions, dq[1] AS median_duration_s, dq[2] AS p90_duration_s,
    mean_turns, median_turns, tool_calls, tool_errors, loops, sessions_with_loops,
    interrupted_sessions,
    interrupted_sessions / sessions AS interrupted_rate,
    tl_wilson_lo(interrupted_sessions, sessions) AS interrupted_rate_lo,
    tl_wilson_hi(interrupted_sessions, sessions) AS interrupted_rate_hi,
    abandoned_sessions,
    abandoned_sessions / sessions AS abandoned_rate,
    tl_wilson_lo(abandoned_sessions, sessions) AS abandoned_rate_lo,
    tl_wilson_hi(abandoned_sessions, sessions) AS abandoned_rate_hi,
    compactions, sessions_with_compaction, subagents, sessions_with_subagents,
    CASE WHEN sessions_with_subagents > 0 THEN subagents / sessions_with_subagents END AS mean_fanout,
    max_fanout
FROM g
ORDER BY period_start NULLS FIRST, agent, sessions DESC, primary_model NULLS LAST
