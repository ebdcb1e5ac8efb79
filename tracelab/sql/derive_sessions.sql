-- name: derive_sessions
-- description: One row per session (subagent sessions included), from `events`, `llm_calls`,
--   `tool_calls` and `session_dims` (derive_session_dims.sql: ids, cwd, project, is_subagent). Token totals exclude synthetic / API-error stand-in responses.
--   title: a user-set title, else the agent's generated title, else a `summary` line whose
--   leaf uuid belongs to this session (Claude writes other sessions' summaries into a file),
--   else the first 120 characters of the first user prompt.
--   Outcomes computed once here so the session queries read them instead of re-deriving them
--   from events on every call: last_event_kind / is_abandoned (the last conversational event,
--   by time then seq, and whether it is an error), n_interrupted_tools, n_loops (runs of >= 3
--   identical consecutive tool calls, from tool_calls.repeat_run_no) and turns (see `turns`).
WITH ev AS (
    SELECT
        session_key,
        any_value(agent) AS agent,
        arg_min(session_id, seq) FILTER (WHERE session_id IS NOT NULL) AS session_id,
        arg_min(parent_tool_call_id, seq) FILTER (WHERE parent_tool_call_id IS NOT NULL) AS parent_tool_call_id_ev,
        arg_min(agent_version, seq) FILTER (WHERE agent_version IS NOT NULL) AS agent_version,
        arg_min(git_branch, seq) FILTER (WHERE git_branch IS NOT NULL) AS git_branch,
        arg_max(title, seq) FILTER (WHERE title IS NOT NULL AND native_type = 'custom-title') AS custom_title,
        arg_max(title, seq) FILTER (WHERE title IS NOT NULL AND kind IN ('bookkeeping') AND native_type <> 'custom-title') AS ai_title,
        arg_min(left(text, 120), seq) FILTER (WHERE kind = 'user_prompt' AND text IS NOT NULL) AS first_prompt,
        min(ts) AS started_at,
        max(ts) AS ended_at,
        count(*) AS n_events,
        count(*) FILTER (WHERE kind = 'user_prompt') AS n_user_prompts,
        count(*) FILTER (WHERE kind = 'interrupt') AS n_interrupts_ev,
        count(*) FILTER (WHERE kind = 'api_error') AS n_api_errors,
        count(*) FILTER (WHERE kind = 'compaction') AS n_compactions,
        list(DISTINCT source_file ORDER BY source_file) AS source_files,
        bool_or(coalesce(is_sidechain, false)) AS any_sidechain,
        -- the last conversational event (by time, then seq): its kind and whether it failed
        arg_max({
            'kind': kind,
            'failed': kind = 'api_error'
                OR (kind = 'tool_result'
                    AND (status = 'error'
                         OR (coalesce(status, 'ok') = 'ok' AND coalesce(exit_code, 0) <> 0)
                         OR (status IS NULL AND coalesce(is_error, false))))
        }, (ts, seq)) FILTER (WHERE ts IS NOT NULL AND kind IN ('user_prompt', 'assistant_text', 'thinking', 'tool_call', 'tool_result', 'api_error', 'interrupt')) AS last_event
    FROM events
    GROUP BY session_key
),
summaries AS (
    SELECT s.session_key, arg_max(s.title, s.seq) AS summary_title
    FROM events s
    JOIN events leaf ON leaf.uuid = s.parent_uuid AND leaf.session_key = s.session_key
    WHERE s.kind = 'summary' AND s.title IS NOT NULL
    GROUP BY s.session_key
),
warm AS (
    SELECT session_key, arg_min(text, seq) AS first_user_text
    FROM events
    WHERE role = 'user' AND kind IN ('user_prompt', 'user_context')
    GROUP BY session_key
),
llm AS (
    SELECT
        session_key,
        count(*) FILTER (WHERE NOT is_synthetic) AS n_llm_calls,
        sum(input_tokens) FILTER (WHERE NOT is_synthetic) AS input_tokens,
        sum(output_tokens) FILTER (WHERE NOT is_synthetic) AS output_tokens,
        sum(cache_read_tokens) FILTER (WHERE NOT is_synthetic) AS cache_read_tokens,
        sum(cache_write_tokens) FILTER (WHERE NOT is_synthetic) AS cache_write_tokens,
        sum(reasoning_tokens) FILTER (WHERE NOT is_synthetic) AS reasoning_tokens,
        list(DISTINCT model ORDER BY model) FILTER (WHERE NOT is_synthetic AND model IS NOT NULL) AS models
    FROM llm_calls
    GROUP BY session_key
),
-- the model with the most calls; ties go to the first name, so the result never depends on row order
primary_models AS (
    SELECT session_key, first(model ORDER BY n DESC, model) AS primary_model
    FROM (
        SELECT session_key, model, count(*) AS n
        FROM llm_calls
        WHERE NOT is_synthetic AND model IS NOT NULL
        GROUP BY ALL
    )
    GROUP BY session_key
),
tools AS (
    SELECT
        session_key,
        count(*) AS n_tool_calls,
        count(*) FILTER (WHERE status = 'error') AS n_tool_errors,
        count(*) FILTER (WHERE status = 'user_rejected') AS n_user_rejections,
        count(*) FILTER (WHERE status = 'interrupted') AS n_interrupted_tools
    FROM tool_calls
    GROUP BY session_key
),
loops AS (
    SELECT session_key, count(*) AS n_loops
    FROM (
        SELECT session_key, repeat_run_no
        FROM tool_calls
        WHERE repeat_run_no IS NOT NULL
        GROUP BY ALL
        HAVING count(*) >= 3
    )
    GROUP BY session_key
),
-- Turns: a turn starts at a human prompt (kind user_prompt, ordered by time then seq) and runs
-- until the next prompt of the session. Its activity is every model response (at its last
-- line), tool call (at its result, else its start), API error and interrupt in
-- [prompt, next prompt). Same definition as the Polars twin tracelab.metrics.latency.turns.
prompts AS (
    SELECT session_key, ts AS started_at,
           row_number() OVER w AS turn_no,
           lead(ts) OVER w AS next_at
    FROM events
    WHERE kind = 'user_prompt' AND ts IS NOT NULL
    WINDOW w AS (PARTITION BY session_key ORDER BY ts, seq)
),
acts AS (
    SELECT session_key, ts, model, 0 AS n_tool, false AS intr
    FROM llm_calls WHERE ts IS NOT NULL
    UNION ALL
    SELECT session_key, coalesce(ended_at, started_at), NULL, 1, status = 'interrupted'
    FROM tool_calls WHERE started_at IS NOT NULL
    UNION ALL
    SELECT session_key, ts, NULL, 0, kind = 'interrupt'
    FROM events WHERE kind IN ('api_error', 'interrupt') AND ts IS NOT NULL
),
turn_rows AS (
    SELECT p.session_key, p.turn_no, p.started_at,
           max(a.ts) AS ended_at,
           arg_max(a.model, a.ts) FILTER (WHERE a.model IS NOT NULL) AS model,
           coalesce(sum(a.n_tool), 0)::BIGINT AS n_tool_calls,
           coalesce(bool_or(a.intr), false) AS interrupted
    FROM prompts p
    LEFT JOIN acts a
        ON a.session_key = p.session_key AND a.ts >= p.started_at AND (p.next_at IS NULL OR a.ts < p.next_at)
    GROUP BY p.session_key, p.turn_no, p.started_at
),
turns AS (
    SELECT session_key,
           list({
               'turn_no': turn_no, 'started_at': started_at, 'ended_at': ended_at, 'model': model,
               'n_tool_calls': n_tool_calls, 'interrupted': interrupted,
               'duration_ms': CASE WHEN ended_at >= started_at THEN (epoch_ms(ended_at) - epoch_ms(started_at))::DOUBLE END,
               'human_wait_ms': CASE WHEN started_at >= prev_ended_at THEN (epoch_ms(started_at) - epoch_ms(prev_ended_at))::DOUBLE END
           } ORDER BY turn_no) AS turns
    FROM (SELECT *, lag(ended_at) OVER (PARTITION BY session_key ORDER BY turn_no) AS prev_ended_at FROM turn_rows)
    GROUP BY session_key
),
spawn AS (
    SELECT subagent_session_key AS session_key, arg_min(tool_call_id, started_at) AS parent_tool_call_id
    FROM tool_calls
    WHERE subagent_session_key IS NOT NULL
    GROUP BY 1
),
base AS (
    SELECT
        ev.*,
        dims.subagent_id, dims.parent_session_key, dims.forked_from, dims.cwd, dims.is_subagent, dims.own_project,
        dims.project_root, dims.worktree, dims.repository,
        coalesce(trim(w.first_user_text) = 'Warmup', false) AS warmup_text,
        s.summary_title,
        llm.* EXCLUDE (session_key),
        primary_models.primary_model,
        tools.* EXCLUDE (session_key),
        loops.n_loops,
        turns.turns,
        spawn.parent_tool_call_id AS parent_tool_call_id_spawn
    FROM ev
    JOIN session_dims dims USING (session_key)
    LEFT JOIN warm w USING (session_key)
    LEFT JOIN summaries s USING (session_key)
    LEFT JOIN llm USING (session_key)
    LEFT JOIN primary_models USING (session_key)
    LEFT JOIN tools USING (session_key)
    LEFT JOIN loops USING (session_key)
    LEFT JOIN turns USING (session_key)
    LEFT JOIN spawn USING (session_key)
),
children AS (
    SELECT parent_session_key AS session_key, count(*) AS n_subagents
    FROM base
    WHERE is_subagent AND NOT warmup_text
      AND NOT (subagent_id NOT LIKE 'sidechain-%' AND n_user_prompts = 0 AND coalesce(n_tool_calls, 0) = 0 AND coalesce(n_llm_calls, 0) <= 1 AND n_events <= 2)
    GROUP BY 1
)
SELECT
    b.session_key,
    b.agent,
    b.session_id,
    b.subagent_id,
    b.is_subagent,
    b.is_subagent AND (
        b.warmup_text
        -- 2.0.x startup warm-ups also appear as a lone assistant greeting with no prompt and no tools
        OR (b.subagent_id NOT LIKE 'sidechain-%' AND b.n_user_prompts = 0 AND coalesce(b.n_tool_calls, 0) = 0 AND coalesce(b.n_llm_calls, 0) <= 1 AND b.n_events <= 2)
    ) AS is_warmup,
    b.parent_session_key,
    coalesce(b.parent_tool_call_id_spawn, b.parent_tool_call_id_ev) AS parent_tool_call_id,
    b.forked_from,
    b.agent_version,
    b.cwd,
    b.own_project AS project,
    b.project_root,
    b.worktree,
    b.repository,
    b.git_branch,
    coalesce(b.custom_title, b.ai_title, b.summary_title, b.first_prompt) AS title,
    b.started_at,
    b.ended_at,
    (epoch_ms(b.ended_at) - epoch_ms(b.started_at)) / 1000.0 AS duration_s,
    CAST(b.started_at AS DATE) AS date,
    coalesce(b.models, []) AS models,
    b.primary_model,
    b.n_events,
    b.n_user_prompts,
    coalesce(b.n_llm_calls, 0) AS n_llm_calls,
    coalesce(b.n_tool_calls, 0) AS n_tool_calls,
    coalesce(b.n_tool_errors, 0) AS n_tool_errors,
    coalesce(b.n_user_rejections, 0) AS n_user_rejections,
    b.n_interrupts_ev AS n_interrupts,
    b.n_api_errors,
    b.n_compactions,
    coalesce(c.n_subagents, 0) AS n_subagents,
    coalesce(b.input_tokens, 0) AS input_tokens,
    coalesce(b.output_tokens, 0) AS output_tokens,
    coalesce(b.cache_read_tokens, 0) AS cache_read_tokens,
    coalesce(b.cache_write_tokens, 0) AS cache_write_tokens,
    coalesce(b.reasoning_tokens, 0) AS reasoning_tokens,
    b.source_files,
    -- where the session came from: a Hub dataset mirrored by tracelab/ingest/hub.py (its path
    -- names it: .../tracelab-hub/datasets/ORG/NAME@<commit sha>/...), else the local directory
    CASE
        WHEN regexp_matches(b.source_files[1], '/tracelab-hub/datasets/[^/]+/[^/@]+@[0-9a-f]{40}/')
            THEN 'hf://datasets/' || regexp_extract(b.source_files[1], '/tracelab-hub/datasets/([^/]+/[^/@]+@[0-9a-f]{40})/', 1)
        ELSE regexp_replace(b.source_files[1], '[/\\][^/\\]*$', '')
    END AS source,
    coalesce(b.n_interrupted_tools, 0) AS n_interrupted_tools,
    coalesce(b.n_loops, 0) AS n_loops,
    b.last_event.kind AS last_event_kind,
    coalesce(b.last_event.failed, false) AS is_abandoned,
    coalesce(b.turns, []) AS turns
FROM base b
LEFT JOIN children c USING (session_key)
