"""The timeline put together in Python (:mod:`tracelab.session.steps`) is what the SQL says:
for every session of the real samples (all agents; main sessions with their subagents, and
each subagent alone), the rows of ``timeline_steps``, ``timeline_calls`` and
``timeline_facts`` over the temp tables ``gather`` fills, value for value, column order and
row order included, from the rows ``read_rows`` fetches."""

from __future__ import annotations

import pytest

from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def con(samples_wh):
    from tracelab.store import Store

    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES} (set TRACELAB_SHARED)")
    with Store(samples_wh) as store:
        yield store.con


def _items(rows):
    return [list(r.items()) for r in rows]


def test_steps_calls_and_facts_equal_the_sql_for_every_sample_session(con):
    from tracelab.session import steps as assemble
    from tracelab.session.timeline import distinct_lists, fetch_rows, gather, read_rows, tree_depths

    keys = [k for (k,) in con.execute("SELECT session_key FROM sessions ORDER BY session_key").fetchall()]
    assert len(keys) > 100 and {k.split(":")[0] for k in keys} >= {"claude", "codex", "pi", "gemini", "copilot", "otel"}
    seen = {"steps": 0, "tool steps": 0, "clusters": 0, "calls": 0, "trees": 0}
    for key in keys:
        family = sorted(tree_depths(con, key))
        for expanded in ([key], family) if len(family) > 1 else ([key],):
            with gather(con, expanded, family) as sql_facts:
                sql_steps = fetch_rows(con, "timeline_steps")
                sql_calls = fetch_rows(con, "timeline_calls")
            facts, rows = read_rows(con, expanded, family)
            got_steps = assemble.steps(rows["events"], rows["tool_calls"], rows["llm_calls"], rows["failure_members"], distinct_lists(con))
            assert _items(got_steps) == _items(sql_steps), key
            assert _items(assemble.calls(rows["llm_calls"])) == _items(sql_calls), key
            assert _items(facts) == _items(sql_facts), key
            seen["steps"] += len(got_steps)
            seen["tool steps"] += sum(r["tool_call_key"] is not None for r in got_steps)
            seen["clusters"] += sum(bool(r["clusters"]) for r in got_steps)
            seen["calls"] += len(sql_calls)
            seen["trees"] += len(expanded) > 1
    # the samples exercise what the assembly does: tool calls joined, failure clusters, calls, subagent trees
    assert seen["steps"] > 5000 and seen["tool steps"] > 1000 and seen["clusters"] > 10 and seen["calls"] > 1000 and seen["trees"] > 5, seen


def test_step_kinds_are_the_macro_s(con):
    """:data:`STEP_EVENT_KINDS` is the list of ``tl_is_step_kind`` (``queries/_macros.sql``),
    asked of every kind the warehouse holds and every kind the schema names."""
    from tracelab import schema as S
    from tracelab.session.steps import STEP_EVENT_KINDS

    kinds = {k for (k,) in con.execute("SELECT DISTINCT kind FROM events WHERE kind IS NOT NULL").fetchall()}
    kinds |= set(STEP_EVENT_KINDS) | set(S.EVENT_KINDS)
    for kind in sorted(kinds):
        (is_step,) = con.execute("SELECT tl_is_step_kind($k)", {"k": kind}).fetchone()
        assert is_step == (kind in STEP_EVENT_KINDS), kind
