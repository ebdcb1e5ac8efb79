-- name: _macros
-- description: Shared macros (tl_*) of the named queries: filters, time buckets, Wilson bounds,
--   prices, turns. A script, not a query; installed on every store connection after the views
--   and the price table (see the notes below).

-- Shared macros for the named queries. Installed on every catalog connection by
-- tracelab.store.connection.install() (called by every tracelab.store.Store), after the table
-- views and the price table `tl_prices` exist. Everything is CREATE OR REPLACE, so installing
-- twice is harmless. Names start with `tl_`; macro parameters start with `p_` so they never
-- shadow a column.
--
-- Filters every query understands (NULL = no filter):
--   p_since / p_until    time window [since, until) on the row's own time (UTC)
--   p_agent, p_model     exact match (sessions: the model is in the session's model list)
--   p_project            sessions.project (see data/README.md "Projects")
--   p_tool               exact tool name (tool-call based queries only)
--   p_include_subagents  FALSE drops rows of subagent sessions (NULL counts as TRUE)
--
-- tl_prices (from tracelab/pricing/prices.toml): match_key, price_model, provider,
-- effective_from, input_per_mtok, output_per_mtok, cache_read_per_mtok, cache_write_per_mtok,
-- source, table_version.

-- ------------------------------------------------------------------------ scalar helpers

CREATE OR REPLACE MACRO tl_in_window(t, p_since, p_until) AS
    (p_since IS NULL OR t >= CAST(p_since AS TIMESTAMPTZ))
    AND (p_until IS NULL OR t < CAST(p_until AS TIMESTAMPTZ));

CREATE OR REPLACE MACRO tl_match(v, p_wanted) AS (p_wanted IS NULL OR v = p_wanted);

CREATE OR REPLACE MACRO tl_keep_subagent(is_sub, p_include_subagents) AS
    (coalesce(p_include_subagents, true) OR NOT coalesce(is_sub, false));

-- UTC calendar day of a TIMESTAMPTZ by arithmetic on epoch milliseconds: the same value as
-- CAST(t AS DATE) under TimeZone 'UTC', several times cheaper (no calendar library per row).
CREATE OR REPLACE MACRO tl_utc_date(t) AS CAST(DATE '1970-01-01' + CAST(floor(epoch_ms(t) / 86400000) AS INTEGER) AS DATE);

-- First day of the bucket holding the DATE d (pass the table's `date` column, the UTC day);
-- weeks start on Monday (ISO). 'all' = one bucket (NULL).
CREATE OR REPLACE MACRO tl_period_start(d, p_period) AS CAST(CASE p_period
    WHEN 'day' THEN d
    WHEN 'week' THEN date_trunc('week', d)
    WHEN 'month' THEN date_trunc('month', d)
    WHEN 'all' THEN NULL
    ELSE error('period must be one of day, week, month, all; got ' || coalesce('''' || p_period || '''', 'NULL'))
END AS DATE);

-- The dimension a query is grouped by, chosen by value (never by SQL text).
CREATE OR REPLACE MACRO tl_group_key(p_by, agent_v, model_v, tool_v, project_v) AS CASE p_by
    WHEN 'agent' THEN agent_v
    WHEN 'model' THEN model_v
    WHEN 'tool' THEN tool_v
    WHEN 'project' THEN project_v
    WHEN 'none' THEN NULL
    ELSE error('by must be one of agent, model, tool, project, none; got ' || coalesce('''' || p_by || '''', 'NULL'))
END;

-- Multi-dimension grouping chosen by value: p_by is a comma-separated subset of
-- model, tool, project ('' or 'none' = none). tl_by(p_by, 'model', model) is the model when
-- 'model' is in p_by, else NULL; an unknown name raises an error.
CREATE OR REPLACE MACRO tl_by(p_by, dim, v) AS CASE
    WHEN NOT regexp_full_match(coalesce(p_by, ''), '\s*((model|tool|project|none)\s*(,\s*(model|tool|project|none)\s*)*)?')
        THEN error('by must be a comma-separated subset of model, tool, project; got ''' || p_by || '''')
    WHEN list_contains(string_split(regexp_replace(coalesce(p_by, ''), '\s', '', 'g'), ','), dim) THEN v
END;

-- Shell-like tools, whose results carry an exit code.
CREATE OR REPLACE MACRO tl_is_shell(tool) AS
    tool IN ('Bash', 'BashOutput', 'bash', 'shell', 'exec_command', 'local_shell', 'shell_command', 'container.exec');

-- Event kinds that are steps of a session's timeline (`tracelab session`, and the step numbers
-- its `--around N` hints point at): tracelab/sql/timeline_steps.sql and locate_steps.sql;
-- its Python twin is STEP_EVENT_KINDS of tracelab/session/steps.py (tests/test_session_steps.py).
CREATE OR REPLACE MACRO tl_is_step_kind(k) AS
    k IN ('user_prompt', 'user_context', 'assistant_text', 'thinking', 'tool_call', 'tool_result', 'compaction', 'microcompaction',
          'compaction_summary', 'api_error', 'interrupt', 'model_change', 'hook', 'image', 'system', 'unknown');

-- tl_error_template(txt) (error text -> message template) is defined in
-- tracelab/sql/derive_macros.sql: the derive step stores it per failed call
-- (tool_calls.error_message), and tracelab.query.install installs the same file here.

-- Wilson score interval for k successes out of n (z = 1.96 gives 95 %). NULL when n = 0;
-- exactly 0 / 1 at k = 0 / k = n (the formula leaves rounding dust there).
CREATE OR REPLACE MACRO tl_wilson_lo(k, n, z := 1.959963984540054) AS CASE WHEN n > 0 AND k = 0 THEN 0.0 WHEN n > 0 THEN greatest(0.0,
    ((k::DOUBLE / n) + z * z / (2.0 * n)
     - z * sqrt(greatest((k::DOUBLE / n) * (1 - k::DOUBLE / n) / n + z * z / (4.0 * n * n), 0))) / (1 + z * z / n))
END;
CREATE OR REPLACE MACRO tl_wilson_hi(k, n, z := 1.959963984540054) AS CASE WHEN n > 0 AND k = n THEN 1.0 WHEN n > 0 THEN least(1.0,
    ((k::DOUBLE / n) + z * z / (2.0 * n)
     + z * sqrt(greatest((k::DOUBLE / n) * (1 - k::DOUBLE / n) / n + z * z / (4.0 * n * n), 0))) / (1 + z * z / n))
END;

-- Complementary error function (Numerical Recipes `erfcc`, Chebyshev fit, relative error
-- < 1.2e-7 everywhere) and the two-sided normal p-value of a z statistic.
CREATE OR REPLACE MACRO tl_erfc_core(t, ax) AS
    t * exp(-ax * ax - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277)))))))));
CREATE OR REPLACE MACRO tl_erfc(x) AS CASE
    WHEN x >= 0 THEN tl_erfc_core(1.0 / (1.0 + 0.5 * abs(x)), abs(x))
    ELSE 2.0 - tl_erfc_core(1.0 / (1.0 + 0.5 * abs(x)), abs(x))
END;
CREATE OR REPLACE MACRO tl_p_two_sided(z) AS CASE WHEN z IS NOT NULL AND isfinite(z) THEN least(1.0, tl_erfc(abs(z) / sqrt(2.0))) WHEN z IS NOT NULL THEN 0.0 END;

-- The caveat every comparison carries.
CREATE OR REPLACE MACRO tl_sample_note() AS
    'Descriptive only: community or public trace corpora are not representative samples of any '
    || 'model''s or agent''s behaviour (self-selected users, tasks, versions and settings); '
    || 'p-values assume independent calls, which calls within a session are not.';

-- Normalised model name used to find a price (Python twin: tracelab.pricing.match_key).
CREATE OR REPLACE MACRO tl_price_key(model) AS
    nullif(lower(regexp_replace(trim(model), '^.*/', '')), '');

-- Cost of one call in USD; NULL when unpriced or when a used component has no price.
CREATE OR REPLACE MACRO tl_cost(price_model, inp, outp, cr, cw, p_in, p_out, p_cr, p_cw) AS CASE
    WHEN price_model IS NULL THEN NULL
    WHEN (coalesce(inp, 0) > 0 AND p_in IS NULL) OR (coalesce(outp, 0) > 0 AND p_out IS NULL)
      OR (coalesce(cr, 0) > 0 AND p_cr IS NULL) OR (coalesce(cw, 0) > 0 AND p_cw IS NULL) THEN NULL
    ELSE (coalesce(inp, 0) * coalesce(p_in, 0) + coalesce(outp, 0) * coalesce(p_out, 0)
          + coalesce(cr, 0) * coalesce(p_cr, 0) + coalesce(cw, 0) * coalesce(p_cw, 0)) / 1e6
END;

-- ------------------------------------------------------------------------ filtered tables

-- Per-session dimensions joined onto calls: a session number (valid within one query), project,
-- subagent flag, and the root session a subagent rolls up to (two levels of nesting followed).
CREATE OR REPLACE MACRO tl_session_dims() AS TABLE
    SELECT
        s.session_key,
        -- a small integer per session: windows partitioned by it sort much faster than by the key
        CAST(row_number() OVER () AS BIGINT) AS session_num,
        coalesce(s.project, p.project, g.project) AS project,
        coalesce(s.is_subagent, false) AS is_subagent,
        coalesce(s.is_warmup, false) AS is_warmup,
        CASE WHEN s.is_subagent THEN coalesce(CASE WHEN p.is_subagent THEN p.parent_session_key END, s.parent_session_key, s.session_key)
             ELSE s.session_key END AS root_session_key
    FROM sessions s
    LEFT JOIN sessions p ON p.session_key = s.parent_session_key
    LEFT JOIN sessions g ON g.session_key = p.parent_session_key;

-- Tool calls with filters. project / is_subagent are stored on every call (the session's), so
-- no join to sessions. Nothing is added to the stored columns: an added column that a query
-- does not use can still cost (an IN-list test becomes a join over every call).
CREATE OR REPLACE MACRO tl_tool_calls(p_since, p_until, p_agent, p_model, p_project, p_tool, p_include_subagents) AS TABLE
    SELECT t.*
    FROM tool_calls t
    WHERE tl_in_window(t.started_at, p_since, p_until)
      AND tl_match(t.agent, p_agent) AND tl_match(t.model, p_model) AND tl_match(t.tool_name, p_tool)
      AND tl_match(t.project, p_project) AND tl_keep_subagent(t.is_subagent, p_include_subagents);

-- Price rows as ranges [effective_from, effective_to) per match key (effective_to NULL = open).
CREATE OR REPLACE TEMP TABLE tl_price_ranges AS
    SELECT *, lead(effective_from) OVER (PARTITION BY match_key ORDER BY effective_from) AS effective_to
    FROM tl_prices;

-- LLM calls, filtered; no prices (cheaper when cost is not needed). The session dimensions
-- (project, is_subagent, root_session_key) are stored on every call.
CREATE OR REPLACE MACRO tl_llm_calls_nocost(p_since, p_until, p_agent, p_model, p_project, p_include_subagents) AS TABLE
    SELECT l.*
    FROM llm_calls l
    WHERE tl_in_window(l.ts, p_since, p_until)
      AND tl_match(l.agent, p_agent) AND tl_match(l.model, p_model)
      AND tl_match(l.project, p_project) AND tl_keep_subagent(l.is_subagent, p_include_subagents);

-- Price key of every model in the warehouse, computed once per connection (a few rows): joins
-- against it build their hash table on this small side instead of on the calls.
CREATE OR REPLACE TEMP TABLE tl_model_keys AS
    SELECT model, tl_price_key(model) AS price_key FROM (SELECT DISTINCT model FROM llm_calls) WHERE model IS NOT NULL;

-- LLM calls with the price row in effect at their time and cost_usd. The price lookup is an
-- equi-join on the key (from tl_model_keys) with a range condition (at most a few rows per
-- key): much cheaper than an ASOF join, which sorts every call. Synthetic stand-in responses
-- (is_synthetic) are kept; token queries drop them.
CREATE OR REPLACE MACRO tl_llm_calls(p_since, p_until, p_agent, p_model, p_project, p_include_subagents) AS TABLE
    SELECT l.*, k.price_key, p.price_model, p.effective_from AS price_effective_from,
           tl_cost(p.price_model, l.input_tokens, l.output_tokens, l.cache_read_tokens, l.cache_write_tokens,
                   p.input_per_mtok, p.output_per_mtok, p.cache_read_per_mtok, p.cache_write_per_mtok) AS cost_usd
    FROM tl_llm_calls_nocost(p_since, p_until, p_agent, p_model, p_project, p_include_subagents) l
    LEFT JOIN tl_model_keys k ON k.model = l.model
    LEFT JOIN tl_price_ranges p
        ON p.match_key = k.price_key AND l.ts >= p.effective_from AND (p.effective_to IS NULL OR l.ts < p.effective_to);

-- Cost per session of its non-synthetic responses (cost_usd: sum over the priced ones;
-- unpriced_calls: responses without a price): the price join of tl_llm_calls, without the
-- session dimensions it does not need.
CREATE OR REPLACE MACRO tl_session_costs(p_agent) AS TABLE
    SELECT l.session_key,
           sum(tl_cost(p.price_model, l.input_tokens, l.output_tokens, l.cache_read_tokens, l.cache_write_tokens,
                       p.input_per_mtok, p.output_per_mtok, p.cache_read_per_mtok, p.cache_write_per_mtok)) AS cost_usd,
           count(*) FILTER (WHERE tl_cost(p.price_model, l.input_tokens, l.output_tokens, l.cache_read_tokens, l.cache_write_tokens,
                       p.input_per_mtok, p.output_per_mtok, p.cache_read_per_mtok, p.cache_write_per_mtok) IS NULL) AS unpriced_calls
    FROM llm_calls l
    LEFT JOIN tl_model_keys k ON k.model = l.model
    LEFT JOIN tl_price_ranges p
        ON p.match_key = k.price_key AND l.ts >= p.effective_from AND (p.effective_to IS NULL OR l.ts < p.effective_to)
    WHERE NOT l.is_synthetic AND tl_match(l.agent, p_agent)
    GROUP BY l.session_key;

-- Token usage per session (and period): the first stage of every token report, so `sessions`
-- needs no COUNT(DISTINCT). A session has one project, so grouping by it splits nothing.
CREATE OR REPLACE MACRO tl_session_usage(p_period, p_since, p_until, p_agent, p_model, p_project, p_include_subagents) AS TABLE
    SELECT
        tl_period_start(date, p_period) AS period_start,
        project,
        agent,
        model,
        session_key,
        count(*) AS llm_calls,
        sum(input_tokens) AS input_tokens,
        sum(output_tokens) AS output_tokens,
        sum(cache_read_tokens) AS cache_read_tokens,
        sum(cache_write_tokens) AS cache_write_tokens,
        sum(reasoning_tokens) AS reasoning_tokens,
        sum(total_tokens) AS total_tokens,
        sum(cost_usd) AS cost_usd,
        sum(cost_usd_reported) AS cost_usd_reported,
        count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_calls
    FROM tl_llm_calls(p_since, p_until, p_agent, p_model, p_project, p_include_subagents)
    WHERE NOT is_synthetic
    GROUP BY ALL;

CREATE OR REPLACE MACRO tl_sessions(p_since, p_until, p_agent, p_model, p_project, p_include_subagents) AS TABLE
    SELECT s.*
    FROM sessions s
    WHERE tl_in_window(s.started_at, p_since, p_until)
      AND tl_match(s.agent, p_agent)
      AND (p_model IS NULL OR list_contains(s.models, p_model))
      AND tl_match(s.project, p_project) AND tl_keep_subagent(s.is_subagent, p_include_subagents);

-- Turns. A turn starts at a human prompt (events.kind = 'user_prompt') and runs until the next
-- prompt of the same session (prompts ordered by time, then line). Its agent activity is
-- every model response (llm_calls, at the time of its last line), tool call (tool_calls, at
-- its result, or its start when it has none), API error and interrupt (events) whose time
-- lies in [prompt, next prompt). The derive step stores them per session (sessions.turns,
-- tracelab/sql/derive_sessions.sql), so this only unnests them.
--   duration_ms   = last agent activity - prompt (NULL when the turn has none)
--   human_wait_ms = prompt - last agent activity of the previous turn of the same session
-- The window applies to the prompt time; model = model of the turn's last model response.
CREATE OR REPLACE MACRO tl_turns(p_since, p_until, p_agent, p_model, p_project, p_include_subagents) AS TABLE
    SELECT
        u.session_key, u.t.turn_no, u.agent, u.t.model, d.project, coalesce(d.is_subagent, false) AS is_subagent,
        u.t.started_at, u.t.ended_at, u.t.duration_ms, u.t.human_wait_ms, u.t.n_tool_calls, u.t.interrupted
    FROM (SELECT session_key, agent, unnest(turns) AS t FROM sessions WHERE tl_match(agent, p_agent)) u
    LEFT JOIN tl_session_dims() d ON d.session_key = u.session_key
    WHERE tl_in_window(u.t.started_at, p_since, p_until) AND tl_match(u.t.model, p_model)
      AND tl_match(d.project, p_project) AND tl_keep_subagent(d.is_subagent, p_include_subagents);

-- One row per latency observation of the chosen metric, in milliseconds:
--   llm        llm_calls.latency_ms (request start or last input -> last response line), not synthetic
--   tool       tool_calls.latency_ms (call -> result) of completed calls (status ok or error):
--              a rejected or interrupted call's "latency" is the human's reaction time
--   turn       tl_turns.duration_ms
--   human_wait tl_turns.human_wait_ms
-- An unknown metric yields no rows (tracelab.query validates the declared choices first).
CREATE OR REPLACE MACRO tl_latency_samples(p_metric, p_since, p_until, p_agent, p_model, p_project, p_tool, p_include_subagents) AS TABLE
    SELECT * FROM (
        SELECT 'llm' AS metric, agent, model, NULL::VARCHAR AS tool_name, project, session_key, ts, latency_ms AS value_ms
        FROM tl_llm_calls_nocost(p_since, p_until, p_agent, p_model, p_project, p_include_subagents)
        WHERE p_metric = 'llm' AND latency_ms IS NOT NULL AND NOT is_synthetic
        UNION ALL
        SELECT 'tool', agent, model, tool_name, project, session_key, started_at, latency_ms
        FROM tl_tool_calls(p_since, p_until, p_agent, p_model, p_project, p_tool, p_include_subagents)
        WHERE p_metric = 'tool' AND latency_ms IS NOT NULL AND status IN ('ok', 'error')
        UNION ALL
        SELECT 'turn', agent, model, NULL, project, session_key, started_at, duration_ms
        FROM tl_turns(p_since, p_until, p_agent, p_model, p_project, p_include_subagents)
        WHERE p_metric = 'turn' AND duration_ms IS NOT NULL
        UNION ALL
        SELECT 'human_wait', agent, model, NULL, project, session_key, started_at, human_wait_ms
        FROM tl_turns(p_since, p_until, p_agent, p_model, p_project, p_include_subagents)
        WHERE p_metric = 'human_wait' AND human_wait_ms IS NOT NULL
    );

-- Runs of >= 2 consecutive tool calls of one session (ordered by start time, then call line,
-- then call id) with the same tool and identical input (compared by a 64-bit hash of tool
-- name and input; the inputs can be 32 KB each). A run of >= 3 is a loop.
-- The derive step stores each call's run (tool_calls.repeat_run_no = call_no of the run's first
-- call), and the stored runs stay exact under every filter but the model: the time window
-- keeps a contiguous stretch of a session's calls (NULL times sort last), the other filters
-- keep or drop whole sessions, so a filtered run is a stored run cut to the window (kept
-- when >= 2 calls remain). A model filter drops calls from inside a session, which can make
-- two runs adjacent, so with a model the runs are recomputed: one window (lag and lead over a
-- narrow projection) marks the calls that repeat a neighbour, run ids are numbered on those.
-- run_id identifies a run within its session; input_preview = first 200 characters of the input.
CREATE OR REPLACE MACRO tl_tool_runs(p_since, p_until, p_agent, p_model, p_project, p_include_subagents) AS TABLE
    WITH stored AS (
        SELECT
            session_key,
            repeat_run_no::BIGINT AS run_id,
            any_value(agent) AS agent,
            arg_min(model, call_no) AS model,
            any_value(tool_name) AS tool_name,
            arg_min(tool_call_key, call_no) AS first_call_key,
            arg_min(run_input_preview, call_no) AS input_preview,
            count(*) AS repeats,
            count(*) FILTER (WHERE status = 'error') AS errors,
            min(started_at) AS first_at,
            max(started_at) AS last_at
        FROM tl_tool_calls(p_since, p_until, p_agent, NULL, p_project, NULL, p_include_subagents)
        WHERE p_model IS NULL AND repeat_run_no IS NOT NULL
        GROUP BY session_key, repeat_run_no
        HAVING count(*) >= 2
    ),
    c AS (
        -- keep the window's rows narrow: it materialises every column it carries
        SELECT hash(session_key) AS session_num, tool_name, input_hash AS h, started_at, call_line_no, call_no, tool_call_id, tool_call_key
        FROM tl_tool_calls(p_since, p_until, p_agent, p_model, p_project, NULL, p_include_subagents)
        WHERE p_model IS NOT NULL
    ),
    marked AS (
        SELECT *,
               coalesce(h = lag(h) OVER w, false) AS same_prev,
               coalesce(h = lead(h) OVER w, false) AS same_next
        FROM c
        WINDOW w AS (PARTITION BY session_num ORDER BY started_at, call_line_no, tool_call_id)
    ),
    cand AS (
        SELECT *,
               sum(CASE WHEN same_prev THEN 0 ELSE 1 END)
                   OVER (PARTITION BY session_num ORDER BY started_at, call_line_no, tool_call_id ROWS UNBOUNDED PRECEDING) AS run_id
        FROM marked
        WHERE same_prev OR same_next
    ),
    recomputed AS (
        SELECT
            t.session_key,
            c.run_id,
            any_value(t.agent) AS agent,
            arg_min(t.model, c.call_no) AS model,
            any_value(c.tool_name) AS tool_name,
            arg_min(c.tool_call_key, c.call_no) AS first_call_key,
            arg_min(left(t.input_json, 200), c.call_no) AS input_preview,
            count(*) AS repeats,
            count(*) FILTER (WHERE t.status = 'error') AS errors,
            min(c.started_at) AS first_at,
            max(c.started_at) AS last_at
        FROM cand c
        JOIN tool_calls t ON t.tool_call_key = c.tool_call_key
        GROUP BY t.session_key, c.run_id
    )
    SELECT * FROM stored
    UNION ALL
    SELECT * FROM recomputed;

-- Per-session outcomes (stored by the derive step in `sessions`) and cost:
--   loops             runs of >= 3 identical consecutive tool calls (sessions.n_loops)
--   interrupted       an interrupt event, or a tool call with status interrupted
--   abandoned         the last conversational event (prompt, text, thinking, tool call or
--                     result, API error, interrupt) is an error: an API error, or a tool
--                     result that failed (status error, or status ok with a non-zero exit code)
--                     (sessions.is_abandoned)
--   last_event_kind   kind of that last conversational event
--   cost_usd          cost of the session's priced, non-synthetic responses; unpriced_calls
CREATE OR REPLACE MACRO tl_session_outcomes(p_since, p_until, p_agent, p_model, p_project, p_include_subagents) AS TABLE
    SELECT
        s.session_key,
        s.n_loops AS loops,
        s.n_interrupts > 0 OR s.n_interrupted_tools > 0 AS interrupted,
        s.is_abandoned AS abandoned,
        s.last_event_kind,
        c.cost_usd,
        coalesce(c.unpriced_calls, 0) AS unpriced_calls
    FROM tl_sessions(p_since, p_until, p_agent, p_model, p_project, p_include_subagents) s
    LEFT JOIN tl_session_costs(p_agent) c USING (session_key);

-- ------------------------------------------------------------------------ full-text search

-- The RE2 pattern `tracelab search` matches (tracelab/sql/search_events.sql): p_before || (the pattern) || p_after, with (?s) ('.'
-- matches newlines) and (?i) unless p_case_sensitive. A plain pattern (p_regex FALSE) is
-- quoted with \Q...\E (a '\E' inside it is closed, escaped and reopened). Built from
-- parameters only, so DuckDB folds it to a constant and compiles it once per query.
CREATE OR REPLACE MACRO tl_search_rx(p_pattern, p_regex, p_case_sensitive, p_before, p_after) AS
    '(?s' || CASE WHEN p_case_sensitive THEN '' ELSE 'i' END || ')' || p_before || '(?:'
    || CASE WHEN p_regex THEN p_pattern ELSE '\Q' || replace(p_pattern, '\E', '\E\\E\Q') || '\E' END
    || ')' || p_after;

-- The search's predicate on one event (tracelab/sql/search_events.sql, the full scan, and
-- tracelab/sql/search_rank.sql, the same predicate over the search index's candidates): its
-- text or its tool input holds a match.
CREATE OR REPLACE MACRO tl_search_hit(p_text, p_tool_input, p_pattern, p_regex, p_case_sensitive) AS
    regexp_matches(coalesce(p_text, ''), tl_search_rx(p_pattern, p_regex, p_case_sensitive, '', ''))
    OR regexp_matches(coalesce(p_tool_input, ''), tl_search_rx(p_pattern, p_regex, p_case_sensitive, '', ''));

-- The search's filters on one event (both search files above): window, agent, project, tool,
-- session (key or native id), kinds, subagents.
CREATE OR REPLACE MACRO tl_search_keep(p_ts, p_agent_v, p_project_v, p_tool_v, p_session_key, p_session_id, p_kind, p_is_sub,
                                       p_since, p_until, p_agent, p_project, p_tool, p_session, p_kinds, p_include_subagents) AS
    tl_in_window(p_ts, p_since, p_until)
    AND tl_match(p_agent_v, p_agent) AND tl_match(p_project_v, p_project) AND tl_match(p_tool_v, p_tool)
    AND (p_session IS NULL OR p_session_key = p_session OR p_session_id = p_session)
    AND (p_kinds IS NULL OR list_contains(p_kinds, p_kind))
    AND tl_keep_subagent(p_is_sub, p_include_subagents);
