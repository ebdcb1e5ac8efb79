-- name: session_list
-- description: One row per session, newest first: what `tracelab sessions` lists. Steps count
--   the rows of the session's timeline (`tracelab session`): every prompt, injected context,
--   model text, thinking block, tool call (a call and its result are one step), compaction,
--   API error, interrupt, hook, model change, image and system line; bookkeeping, turn
--   markers, usage reports and tool progress records are not steps. `errors` = failed tool
--   calls + rejected tool calls + API errors + interrupts + interrupted tool calls (the steps
--   `tracelab session` highlights; data/README.md "Errors of a session"). Tokens and cost cover the session's
--   own non-synthetic responses (a parent's totals do not include its subagents').
-- param since TIMESTAMP = NULL: window start on started_at, inclusive (UTC)
-- param until TIMESTAMP = NULL: window end, exclusive
-- param agent VARCHAR = NULL: only this agent (claude, codex, pi)
-- param model VARCHAR = NULL: only sessions that used this model
-- param project VARCHAR = NULL: only this project (sessions.project)
-- param include_subagents BOOLEAN = TRUE: FALSE leaves out subagent sessions
-- param only_subagents BOOLEAN = FALSE: TRUE keeps only subagent sessions
-- param has_errors BOOLEAN = FALSE: TRUE keeps only sessions with at least one error
-- param min_calls INTEGER = NULL (>= 0): only sessions with at least this many LLM calls
-- param search VARCHAR = NULL: only sessions with an event whose text or tool input contains this (case-insensitive substring; a full scan: tracelab.session.listing passes `keys` from the search index instead where it can)
-- param keys VARCHAR[] = NULL: only these session keys (the search index's answer)
-- param limit INTEGER = NULL (>= 1): at most this many sessions (NULL = all)
-- returns session_key VARCHAR: session key
-- returns session_id VARCHAR: the agent's own session id
-- returns agent VARCHAR: agent
-- returns agent_version VARCHAR: agent version
-- returns project VARCHAR: project
-- returns title VARCHAR: title, else the first prompt
-- returns models VARCHAR[]: models used (non-synthetic calls)
-- returns started_at TIMESTAMP WITH TIME ZONE: first event
-- returns duration_s DOUBLE: last event - first event, seconds
-- returns is_subagent BOOLEAN: a subagent session
-- returns parent_session_key VARCHAR: the session that spawned it
-- returns subagents BIGINT: subagent sessions it spawned (not warm-ups)
-- returns steps BIGINT: rows of its timeline
-- returns llm_calls BIGINT: model responses (non-synthetic)
-- returns tool_calls BIGINT: tool calls
-- returns errors BIGINT: tool errors + rejections + API errors + interrupts + interrupted tool calls
-- returns tool_errors BIGINT: failed tool calls
-- returns user_rejections BIGINT: tool calls the user rejected
-- returns api_errors BIGINT: API error events
-- returns interrupts BIGINT: interrupt events
-- returns interrupted_tools BIGINT: tool calls with status interrupted
-- returns input_tokens BIGINT: uncached input tokens
-- returns output_tokens BIGINT: output tokens (incl. reasoning)
-- returns cache_read_tokens BIGINT: cache read tokens
-- returns cache_write_tokens BIGINT: cache write tokens
-- returns total_tokens BIGINT: input + output + cache read + cache write
-- returns cost_usd DOUBLE: cost of the priced responses (USD; NULL when none is priced)
-- returns unpriced_calls BIGINT: responses without a price
-- returns total_sessions BIGINT: sessions passing the filters before `limit` cut them (the same on every row)
WITH s AS (
    SELECT *
    FROM tl_sessions($since, $until, $agent, $model, $project, $include_subagents)
    WHERE (NOT coalesce($only_subagents, false) OR is_subagent)
      AND (NOT coalesce($has_errors, false) OR n_tool_errors + n_user_rejections + n_api_errors + n_interrupts + n_interrupted_tools > 0)
      AND ($min_calls IS NULL OR n_llm_calls >= $min_calls)
      AND ($keys IS NULL OR list_contains($keys, session_key))
      AND ($search IS NULL OR session_key IN (
            SELECT session_key FROM events
            WHERE regexp_matches(coalesce(text, ''), tl_search_rx($search, false, false, '', ''))
               OR regexp_matches(coalesce(tool_input, ''), tl_search_rx($search, false, false, '', ''))))
),
top AS (
    -- the page of sessions to show, before the per-session work below
    SELECT *, count(*) OVER () AS total_sessions FROM s ORDER BY started_at DESC NULLS LAST, session_key LIMIT $limit
),
st AS (
    -- steps: non-tool step events, plus one per tool call id (call and result are one step)
    SELECT session_key,
           count(*) FILTER (WHERE kind IN ('user_prompt', 'user_context', 'assistant_text', 'thinking', 'compaction', 'microcompaction',
                                           'compaction_summary', 'api_error', 'interrupt', 'model_change', 'hook', 'image', 'system', 'unknown')
                              OR (kind IN ('tool_call', 'tool_result') AND tool_call_id IS NULL))
           + count(DISTINCT tool_call_id) FILTER (WHERE kind IN ('tool_call', 'tool_result')) AS steps
    FROM events
    WHERE session_key IN (SELECT session_key FROM top)
      -- a session started at or after $since has its rows in that month's partition or later (a
      -- day's margin for rows without a time, which take a neighbouring line's): the scans skip
      -- the parts of earlier months by their min/max statistics
      AND ($since IS NULL OR month IS NULL OR month >= strftime(CAST($since AS TIMESTAMPTZ) - INTERVAL 1 DAY, '%Y-%m'))
    GROUP BY session_key
),
costs AS (
    SELECT session_key, sum(cost_usd) AS cost_usd, count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_calls
    FROM tl_llm_calls(NULL, NULL, NULL, NULL, NULL, NULL)
    WHERE NOT is_synthetic AND session_key IN (SELECT session_key FROM top)
      AND ($since IS NULL OR month IS NULL OR month >= strftime(CAST($since AS TIMESTAMPTZ) - INTERVAL 1 DAY, '%Y-%m'))
    GROUP BY session_key
)
SELECT
    s.session_key, s.session_id, s.agent, s.agent_version, s.project, s.title, s.models, s.started_at, s.duration_s,
    coalesce(s.is_subagent, false) AS is_subagent, s.parent_session_key, s.n_subagents AS subagents,
    coalesce(st.steps, 0)::BIGINT AS steps,
    s.n_llm_calls AS llm_calls, s.n_tool_calls AS tool_calls,
    (s.n_tool_errors + s.n_user_rejections + s.n_api_errors + s.n_interrupts + s.n_interrupted_tools)::BIGINT AS errors,
    s.n_tool_errors AS tool_errors, s.n_user_rejections AS user_rejections, s.n_api_errors AS api_errors, s.n_interrupts AS interrupts,
    s.n_interrupted_tools AS interrupted_tools,
    s.input_tokens, s.output_tokens, s.cache_read_tokens, s.cache_write_tokens,
    (s.input_tokens + s.output_tokens + s.cache_read_tokens + s.cache_write_tokens)::BIGINT AS total_tokens,
    c.cost_usd,
    coalesce(c.unpriced_calls, 0)::BIGINT AS unpriced_calls,
    s.total_sessions
FROM top s
LEFT JOIN st USING (session_key)
LEFT JOIN costs c USING (session_key)
ORDER BY s.started_at DESC NULLS LAST, s.session_key
