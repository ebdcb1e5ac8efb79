"""Columns the derive step computes once so queries need not (tool_calls sequence columns and
error_message; sessions outcomes and turns), checked against the generator's truth and against
an independent Polars recomputation from the rows they summarise, on the generated corpus and
on the real shared samples.

The warehouses are the ones tests/test_queries.py builds (once per pytest process).
"""

from __future__ import annotations

import polars as pl
import pytest
from test_queries import build_samples_wh, build_synth

from tracelab.catalog import connect
from tracelab.metrics import scan
from tracelab.metrics.latency import turns as polars_turns

AGENTS = ("claude", "codex", "pi")
ORDER = ["started_at", "call_line_no", "tool_call_id"]
NOT_OK = ("error", "user_rejected", "interrupted")
CONVERSATIONAL = ("user_prompt", "assistant_text", "thinking", "tool_call", "tool_result", "api_error", "interrupt")


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    wh, truth = build_synth(tmp_path_factory)
    return wh, truth


@pytest.fixture(scope="module", params=["synth", "samples"])
def wh(request, tmp_path_factory):
    if request.param == "synth":
        return build_synth(tmp_path_factory)[0]
    return build_samples_wh(tmp_path_factory)


def _tool_calls(wh) -> pl.DataFrame:
    return scan("tool_calls", wh).collect()


# --------------------------------------------------------------------------------------
# tool_calls: sequence columns
# --------------------------------------------------------------------------------------


def test_call_no_numbers_each_session_in_call_order(wh):
    tc = _tool_calls(wh)
    assert tc.height > 0 and tc["call_no"].null_count() == 0
    want = tc.sort(["session_key", *ORDER], nulls_last=True).with_columns((pl.int_range(pl.len()).over("session_key") + 1).alias("want"))
    bad = want.filter(pl.col("call_no") != pl.col("want"))
    assert bad.height == 0, bad.select("session_key", "tool_call_id", "call_no", "want").head()


def test_input_hash_equal_exactly_for_equal_tool_and_input(wh):
    tc = _tool_calls(wh)
    per_hash = tc.group_by("input_hash").agg(pl.struct("tool_name", "input_json").n_unique().alias("n"))
    assert per_hash["n"].max() == 1  # one (tool, input) per hash
    per_input = tc.group_by("tool_name", "input_json").agg(pl.col("input_hash").n_unique().alias("n"))
    assert per_input["n"].max() == 1  # one hash per (tool, input)
    # repeated inputs exist, so the check above compared something
    assert per_input.height < tc.height


def test_next_same_tool_columns_describe_the_next_call_of_that_tool(wh):
    tc = _tool_calls(wh)
    w = ["session_key", "tool_name"]
    want = tc.sort([*w, *ORDER], nulls_last=True).with_columns(
        pl.col("started_at").shift(-1).over(w).alias("w_at"),
        pl.col("status").shift(-1).over(w).alias("w_status"),
        (pl.col("input_json").shift(-1).over(w).eq_missing(pl.col("input_json"))).alias("w_same"),
        pl.col("tool_call_key").shift(-1).over(w).alias("w_key"),
    )
    has_next = pl.col("w_key").is_not_null()
    want = want.with_columns(pl.when(has_next).then(pl.col("w_same")).alias("w_same"))
    assert want.filter(has_next).height > 0 and want.filter(~has_next).height > 0
    for got, exp in (("next_same_tool_at", "w_at"), ("next_same_tool_status", "w_status"), ("next_same_tool_same_input", "w_same")):
        bad = want.filter(~pl.col(got).eq_missing(pl.col(exp)))
        assert bad.height == 0, (got, bad.select("tool_call_key", got, exp).head())


def _runs(tc: pl.DataFrame) -> pl.DataFrame:
    """Runs of identical consecutive calls (same tool, byte-identical input) from the rows."""
    s = tc.sort(["session_key", *ORDER], nulls_last=True)
    same_prev = (pl.col("tool_name") == pl.col("tool_name").shift(1).over("session_key")) & pl.col("input_json").eq_missing(
        pl.col("input_json").shift(1).over("session_key")
    )
    s = s.with_columns(same_prev.fill_null(False).alias("_same")).with_columns((~pl.col("_same")).cast(pl.Int64).cum_sum().over("session_key").alias("_run"))
    return (
        s.group_by("session_key", "_run").agg(pl.col("call_no").min().alias("first_no"), pl.len().alias("n"), pl.col("tool_call_key")).filter(pl.col("n") >= 2)
    )


def test_repeat_run_no_marks_exactly_the_runs(wh):
    tc = _tool_calls(wh)
    want = _runs(tc).explode("tool_call_key").select("tool_call_key", pl.col("first_no").cast(pl.Int32))
    got = tc.filter(pl.col("repeat_run_no").is_not_null()).select("tool_call_key", pl.col("repeat_run_no").alias("first_no"))
    assert want.height > 0
    assert got.sort("tool_call_key").equals(want.sort("tool_call_key"))


@pytest.mark.parametrize("agent", AGENTS)
def test_stored_runs_are_the_planted_loops(synth, agent):
    wh, truth = synth
    tc = _tool_calls(wh).filter(pl.col("agent") == agent)
    runs = (
        tc.filter(pl.col("repeat_run_no").is_not_null())
        .group_by("session_key", "repeat_run_no")
        .agg(pl.len().alias("length"), pl.col("tool_name").first())
        .filter(pl.col("length") >= 3)
    )
    planted = truth["agents"][agent]["loops"]["list"]
    assert len(planted) > 0
    assert sorted(zip(runs["length"].to_list(), runs["tool_name"].to_list())) == sorted((p["length"], p["tool"]) for p in planted)
    sessions = scan("sessions", wh).filter(pl.col("agent") == agent).collect()
    assert sessions["n_loops"].sum() == truth["agents"][agent]["loops"]["count"]


def test_error_message_is_the_template_of_failed_calls(wh):
    con = connect(wh)
    try:
        rows = con.sql("SELECT status, error_message, tl_error_template(error_text) AS want FROM tool_calls").pl()
    finally:
        con.close()
    failed = rows.filter(pl.col("status").is_in(NOT_OK))
    assert failed.height > 0
    assert failed.filter(~pl.col("error_message").eq_missing(pl.col("want"))).height == 0
    assert rows.filter(~pl.col("status").is_in(NOT_OK))["error_message"].null_count() == rows.height - failed.height


def test_error_template_rules():
    import duckdb

    from tracelab.store.derive import install_macros

    con = duckdb.connect()
    install_macros(con)
    cases = {
        "<tool_use_error>File does not exist: '/tmp/a b.txt'</tool_use_error>": "File does not exist: '…'",
        "\n\n  Exit code 127\nbash: foo: not found": "Exit code N",
        "commit deadbeefcafe1234 failed after 3 tries": "commit H failed after N tries",
        None: "",
    }
    for text, want in cases.items():
        assert con.execute("SELECT tl_error_template($t)", {"t": text}).fetchone()[0] == want, text


# --------------------------------------------------------------------------------------
# sessions: outcomes and turns
# --------------------------------------------------------------------------------------


def test_session_outcome_columns_match_their_events(wh):
    sessions = scan("sessions", wh).collect()
    tc = _tool_calls(wh)
    ev = scan("events", wh).filter(pl.col("ts").is_not_null() & pl.col("kind").is_in(CONVERSATIONAL)).collect()
    failed = (pl.col("kind") == "api_error") | (
        (pl.col("kind") == "tool_result")
        & (
            (pl.col("status") == "error")
            | ((pl.col("status").fill_null("ok") == "ok") & (pl.col("exit_code").fill_null(0) != 0))
            | (pl.col("status").is_null() & pl.col("is_error").fill_null(False))
        )
    )
    last = ev.sort("session_key", "ts", "seq").group_by("session_key").agg(pl.col("kind").last().alias("w_kind"), failed.last().alias("w_abandoned"))
    interrupted = tc.group_by("session_key").agg((pl.col("status") == "interrupted").sum().alias("w_int"))
    got = (
        sessions.join(last, on="session_key", how="left")
        .join(interrupted, on="session_key", how="left")
        .with_columns(pl.col("w_abandoned").fill_null(False), pl.col("w_int").fill_null(0))
    )
    assert got.filter(~pl.col("last_event_kind").eq_missing(pl.col("w_kind"))).height == 0
    assert got.filter(pl.col("is_abandoned") != pl.col("w_abandoned")).height == 0
    assert got.filter(pl.col("n_interrupted_tools") != pl.col("w_int")).height == 0
    assert got["is_abandoned"].sum() > 0


@pytest.mark.parametrize("agent", AGENTS)
def test_interrupted_tool_counts_match_truth(synth, agent):
    wh, truth = synth
    sessions = scan("sessions", wh).filter(pl.col("agent") == agent).collect()
    assert sessions["n_interrupted_tools"].sum() == truth["agents"][agent]["tool_calls"]["by_status"].get("interrupted", 0)


def test_turns_equal_the_polars_definition(wh):
    stored = scan("sessions", wh).select("session_key", "turns").explode("turns").drop_nulls("turns").unnest("turns").collect()
    py = polars_turns(scan("events", wh), scan("llm_calls", wh), scan("tool_calls", wh))
    assert stored.height == py.height > 0
    cols = ["session_key", "turn_no", "started_at", "ended_at", "model", "n_tool_calls", "interrupted", "duration_ms", "human_wait_ms"]
    a = stored.select(cols).sort("session_key", "turn_no")
    b = py.select(cols).sort("session_key", "turn_no")
    assert a.equals(b)


# --------------------------------------------------------------------------------------
# session dimensions stored on the call tables
# --------------------------------------------------------------------------------------


def _dims_from_sessions(wh) -> pl.DataFrame:
    """project (own, else parent's, else grandparent's), is_subagent and root session from the
    sessions table, computed here independently of derive_session_dims.sql."""
    s = scan("sessions", wh).select("session_key", "parent_session_key", "project", "is_subagent").collect()
    p = s.rename({c: f"p_{c}" for c in s.columns})
    g = s.select(pl.col("session_key").alias("g_session_key"), pl.col("project").alias("g_project"))
    d = s.join(p, left_on="parent_session_key", right_on="p_session_key", how="left").join(
        g, left_on="p_parent_session_key", right_on="g_session_key", how="left"
    )
    return d.select(
        "session_key",
        pl.coalesce("project", "p_project", "g_project").alias("w_project"),
        pl.col("is_subagent").alias("w_is_subagent"),
        pl.when(pl.col("is_subagent"))
        .then(pl.coalesce(pl.when(pl.col("p_is_subagent")).then(pl.col("p_parent_session_key")), "parent_session_key", "session_key"))
        .otherwise(pl.col("session_key"))
        .alias("w_root"),
    )


@pytest.mark.parametrize("table", ["llm_calls", "tool_calls"])
def test_call_tables_carry_their_sessions_dimensions(wh, table):
    calls = scan(table, wh).collect().join(_dims_from_sessions(wh), on="session_key", how="left")
    assert calls.height > 0 and calls["is_subagent"].any() and not calls["is_subagent"].all()
    assert calls.filter(~pl.col("project").eq_missing(pl.col("w_project"))).height == 0
    assert calls.filter(pl.col("is_subagent") != pl.col("w_is_subagent")).height == 0
    if table == "llm_calls":
        assert calls.filter(pl.col("root_session_key") != pl.col("w_root")).height == 0
        assert (calls["root_session_key"] != calls["session_key"]).any()


def test_run_input_preview_only_on_repeated_calls(wh):
    tc = _tool_calls(wh)
    rep = tc.filter(pl.col("repeat_run_no").is_not_null())
    assert rep.height > 0
    assert rep.filter(~pl.col("run_input_preview").eq_missing(pl.col("input_json").str.slice(0, 200))).height == 0
    assert tc.filter(pl.col("repeat_run_no").is_null())["run_input_preview"].null_count() == tc.height - rep.height
