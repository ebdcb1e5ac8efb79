"""`tracelab sessions` / `tracelab session` on the real samples.

Golden JSON (tests/golden/session/*.json, checked by hand against the raw files) pins the
timeline of eight sessions across Claude Code (1.0, 2.0 and 2.1 with subagents), Codex and Pi
(a fork). Independently of the goldens, every session's timeline must agree with the
`sessions` table: step, LLM call and tool call counts and token totals, for each subagent too.

Regenerate the goldens after a deliberate change (and re-check them):
    TRACELAB_WRITE_GOLDEN=1 .venv/bin/python -m pytest -q -p no:xdist tests/test_session_view.py -k golden
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.session_fixtures import build_samples_wh
from tracelab.catalog import connect
from tracelab.cli import cli

GOLDEN_DIR = Path(__file__).parent / "golden" / "session"

#: golden name -> (session id as a user types it, extra options)
GOLDEN = {
    "claude21_subagents": ("0ccf1a04", []),
    "claude21_one_subagent": ("4b2030ed", []),
    "claude20_subagent_errors": ("cb2e607c", []),
    "claude10_sidechains": ("df749439", []),
    "codex_tool_errors": ("codex:01a7c9e4", []),
    "codex_mixed_tools": ("019fc8be", []),
    "pi_small": ("pi:019e19b4", []),
    "pi_fork_around_error": ("ffae836b", ["--around", "20"]),
}


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    return build_samples_wh(tmp_path_factory)


@pytest.fixture(scope="module")
def con(wh):
    c = connect(wh)
    yield c
    c.close()


def _run(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def _stable(obj):
    """Leave out cost (it follows the price table, which has its own tests)."""
    if isinstance(obj, dict):
        return {k: _stable(v) for k, v in obj.items() if k != "cost_usd"}
    if isinstance(obj, list):
        return [_stable(v) for v in obj]
    return obj


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_session_json_golden(wh, name):
    sid, extra = GOLDEN[name]
    got = _stable(json.loads(_run("session", sid, "--json", "-w", str(wh), *extra)))
    path = GOLDEN_DIR / f"{name}.json"
    if os.environ.get("TRACELAB_WRITE_GOLDEN"):
        path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
    assert got == json.loads(path.read_text())


def _walk(node: dict):
    yield node
    for s in node["steps"]:
        if "subagent" in s:
            yield from _walk(s["subagent"])
    for u in node.get("unlinked_subagents", []):
        yield from _walk(u)


def test_every_timeline_agrees_with_the_sessions_table(con):
    """For every session of the samples (subagents included): steps = session_list.steps,
    LLM calls, tool calls and the four token totals = the sessions table."""
    from tracelab.session import load, sessions_table

    listed = {r["session_key"]: r for r in sessions_table(con=con).to_pylist()}
    assert len(listed) == con.execute("SELECT count(*) FROM sessions").fetchall()[0][0]
    for key, r in listed.items():
        t = load(con, key, depth=0).own_totals()
        assert (t.steps, t.llm_calls, t.tool_calls) == (r["steps"], r["llm_calls"], r["tool_calls"]), key
        assert (t.input_tokens, t.output_tokens, t.cache_read_tokens, t.cache_write_tokens) == (
            r["input_tokens"],
            r["output_tokens"],
            r["cache_read_tokens"],
            r["cache_write_tokens"],
        ), key


def test_multi_line_title_stays_on_one_header_line(con, wh):
    """codex 01a7c9e4's title holds a new line: the header prints it on one line (whitespace
    runs collapsed), every header line is a field line."""
    raw = con.execute("SELECT title FROM sessions WHERE session_key LIKE 'codex:01a7c9e4%'").fetchall()[0][0]
    assert "\n" in raw
    header = _run("session", "01a7c9e4", "-w", str(wh)).split("\n\n", 1)[0].splitlines()
    assert header[0].startswith("session codex:01a7c9e4")
    assert all(re.match(r"  [a-z]+ +\S", ln) for ln in header[1:]), header
    assert f"  title     {' '.join(raw.split())}" in header


def test_subagents_nested_under_their_task_call(con, wh):
    """claude-code-2.1 0ccf1a04: five background Task calls, each with its subagent (from the
    subagents/ folder) nested under it; their totals equal their sessions rows."""
    doc = json.loads(_run("session", "0ccf1a04", "--json", "-w", str(wh)))
    tasks = [s for s in doc["steps"] if s["tool"] == "Task"]
    assert len(tasks) == 5 and all("subagent" in s for s in tasks)
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT session_key, parent_tool_call_id, n_llm_calls, n_tool_calls, input_tokens + output_tokens + cache_read_tokens + cache_write_tokens "
            "FROM sessions WHERE parent_session_key = 'claude:0ccf1a04-1b4c-43b6-8aa5-79e41db43a68'"
        ).fetchall()
    }
    assert {s["subagent_key"] for s in tasks} == set(rows)
    for s in tasks:
        sub = s["subagent"]
        _parent_call, calls, tools, toks = rows[s["subagent_key"]]
        assert (sub["totals"]["llm_calls"], sub["totals"]["tool_calls"], sub["totals"]["total_tokens"]) == (calls, tools, toks)
        assert sub["session"]["is_subagent"] and sub["steps"][0]["kind"] == "prompt"
    tree = doc["totals_with_subagents"]
    own = doc["totals"]
    assert tree["llm_calls"] == own["llm_calls"] + sum(r[1] for r in rows.values())
    assert tree["total_tokens"] == own["total_tokens"] + sum(r[3] for r in rows.values())


def test_depth_zero_keeps_subagents_as_references(wh):
    doc = json.loads(_run("session", "0ccf1a04", "--json", "--depth", "0", "-w", str(wh)))
    tasks = [s for s in doc["steps"] if s["tool"] == "Task"]
    assert all(s["subagent"]["expanded"] is False and s["subagent"]["steps"] == [] for s in tasks)
    full = json.loads(_run("session", "0ccf1a04", "--json", "-w", str(wh)))
    assert doc["totals_with_subagents"] == full["totals_with_subagents"]  # steps too (68): one scope, the whole tree
    assert doc["totals"] == full["totals"]
    subs = {s["subagent_key"]: s["subagent"]["totals"] for s in full["steps"] if "subagent" in s}
    assert {s["subagent_key"]: s["subagent"]["totals"] for s in tasks} == subs
    # the text footer: the session's own totals, then the whole tree's, the same as without --depth
    text, full_text = _run("session", "0ccf1a04", "--depth", "0", "-w", str(wh)), _run("session", "0ccf1a04", "-w", str(wh))
    assert text.splitlines()[-2:] == full_text.splitlines()[-2:]
    assert text.splitlines()[-1].startswith(
        f"with subagents  {full['totals_with_subagents']['steps']} steps, {full['totals_with_subagents']['llm_calls']} LLM calls"
    )


def test_failures_highlighted_with_cluster_ids(con, wh):
    doc = json.loads(_run("session", "codex:01a7c9e4", "--json", "-w", str(wh)))
    errs = [s for s in doc["steps"] if s["highlight"]]
    members = con.execute(
        "SELECT tool_name, cluster_id FROM failure_members WHERE session_key = 'codex:01a7c9e4-6d12-7b3a-9f42-8c6d5e1a0b73' AND role = 'event' ORDER BY ts"
    ).fetchall()
    assert [(s["tool"], s["clusters"][0].split(":")[1]) for s in errs] == members
    assert errs[0]["exit_code"] == 1 and errs[0]["status"] == "error"


def test_prefix_resolution(con):
    from tracelab.errors import NotFound
    from tracelab.session import AmbiguousSession, resolve

    assert resolve(con, "0ccf") == "claude:0ccf1a04-1b4c-43b6-8aa5-79e41db43a68"  # main session wins over its subagents
    assert resolve(con, "agent-a9cad17") == "claude:0ccf1a04-1b4c-43b6-8aa5-79e41db43a68/agent-a9cad17"
    assert resolve(con, "codex:01a7") == "codex:01a7c9e4-6d12-7b3a-9f42-8c6d5e1a0b73"
    with pytest.raises(AmbiguousSession) as exc:
        resolve(con, "claude:")
    assert len(exc.value.context["candidates"]) > 1
    with pytest.raises(NotFound):
        resolve(con, "zzzz-no-such")


def test_cli_ambiguous_prefix_lists_candidates(wh):
    res = CliRunner().invoke(cli, ["session", "codex:01", "-w", str(wh)])
    assert res.exit_code != 0
    assert "matches" in res.output and "codex:019e9625-802f-7e91-840a-cfe88d14117a" in res.output


def test_step_and_around_and_full(wh):
    doc = json.loads(_run("session", "0ccf1a04", "--json", "--around", "30", "-w", str(wh)))
    assert [s["n"] for s in doc["steps"]] == list(range(25, 36))
    one = json.loads(_run("session", "0ccf1a04", "--json", "--step", "30", "--full", "--cap", "40", "-w", str(wh)))
    (s,) = one["steps"]
    assert s["tool"] == "TaskOutput" and s["output"] == "<tool_use_error>No task found with ID: ac"[:40] and s["output_truncated"]
    text = _run("session", "0ccf1a04", "--step", "30", "--full", "-w", str(wh))
    assert "TaskOutput" in text and "No task found with ID: ac27727" in text and "cluster te-" in text
    res = CliRunner().invoke(cli, ["session", "0ccf1a04", "--step", "999", "-w", str(wh)])
    assert res.exit_code != 0 and "step 999 is not in this session (it has 51 steps)" in res.output


def test_sessions_list_filters(con, wh):
    from tracelab.session import sessions

    df = sessions(con=con)
    assert df.height == con.execute("SELECT count(*) FROM sessions").fetchall()[0][0]
    starts = [t for t in df["started_at"].to_list() if t is not None]
    assert starts == sorted(starts, reverse=True)
    only_sub = sessions(con=con, subagents=True)
    no_sub = sessions(con=con, subagents=False)
    assert only_sub["is_subagent"].all() and not no_sub["is_subagent"].any() and only_sub.height + no_sub.height == df.height
    err = sessions(con=con, has_errors=True)
    assert (err["errors"] > 0).all() and err.height == (df["errors"] > 0).sum()
    assert (sessions(con=con, min_calls=100)["llm_calls"] >= 100).all()
    assert set(sessions(con=con, agent="codex")["agent"]) == {"codex"}
    hit = sessions(con=con, search="no task found with id")
    assert "claude:0ccf1a04-1b4c-43b6-8aa5-79e41db43a68" in hit["session_key"].to_list()
    scan = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT session_key FROM events WHERE text ILIKE '%no task found with id%' OR tool_input ILIKE '%no task found with id%'"
        ).fetchall()
    }
    assert set(hit["session_key"]) == scan


def test_sessions_cli_line_and_json(wh):
    out = _run("sessions", "--agent", "claude", "--subagents", "-n", "3", "-w", str(wh))
    lines = out.strip().splitlines()
    assert (
        len(lines) == 4
        and lines[-1].startswith("showing the newest 3 of ")
        and lines[-1].endswith(" sessions (--limit 3)")
        and all(" agent-" in ln and "↳" in ln for ln in lines[:3])
    )
    rows = json.loads(_run("sessions", "--has-errors", "--json", "-w", str(wh)))
    assert rows and all(r["errors"] > 0 for r in rows)
    assert {"session_key", "steps", "tool_calls", "errors", "total_tokens", "cost_usd", "title", "models"} <= set(rows[0])


def test_locate_steps_points_at_the_step_showing_the_event(con):
    """Every step's event locates to that step; a tool result to its call's step; a
    bookkeeping line (not a step) to the last step before it."""
    from tracelab.session import load
    from tracelab.session.locate import locate_steps

    key = "claude:0ccf1a04-1b4c-43b6-8aa5-79e41db43a68"
    node = load(con, key, depth=0)
    got = locate_steps(con, [s.event_key for s in node.steps])
    assert got == {s.event_key: (key, s.n) for s in node.steps}
    results = con.execute("SELECT event_key, tool_call_id FROM events WHERE session_key = $k AND kind = 'tool_result'", {"k": key}).fetchall()
    by_call = {s.tool_call_id: s.n for s in node.steps if s.tool_call_id}
    assert locate_steps(con, [e for e, _ in results]) == {e: (key, by_call[c]) for e, c in results}
    # the queue-operation line at 21:17:32 (between step 19, 21:13:34, and step 20, 21:17:57)
    (ek,) = con.execute(
        "SELECT event_key FROM events WHERE session_key = $k AND kind = 'bookkeeping' AND ts = '2026-01-22 21:17:32.736+00'", {"k": key}
    ).fetchall()[0]
    assert locate_steps(con, [ek]) == {ek: (key, 19)}


def test_locate_steps_equal_the_timeline_of_every_sample_session(con):
    """For every session of the samples (main and subagent, the three agents), every event
    locates to the step ``tracelab session KEY`` shows it at, with and without the sessions
    given: ``locate_steps.sql`` numbers the steps exactly as ``timeline_steps``."""
    from tracelab.session import load
    from tracelab.session.locate import locate_steps

    keys = [k for (k,) in con.execute("SELECT session_key FROM sessions ORDER BY session_key").fetchall()]
    assert len(keys) > 20 and {k.split(":")[0] for k in keys} >= {"claude", "codex", "pi"}
    nodes = {k: load(con, k, depth=0) for k in keys}
    expected = {s.event_key: (k, s.n) for k, node in nodes.items() for s in node.steps}
    given = {e: k for e, (k, _) in expected.items()}
    assert locate_steps(con, list(expected), given) == expected
    sample = sorted(expected)[::25]
    assert locate_steps(con, sample) == {e: expected[e] for e in sample}  # looked up by event key
    # an event given with a session it is not in is left out, not misplaced
    e0 = sample[0]
    other = next(k for k in keys if k != expected[e0][0])
    assert locate_steps(con, [e0], {e0: other}) == {}


class _Recorder:
    """A connection that records the SQL it runs."""

    def __init__(self, con):
        self.con, self.sql = con, []

    def execute(self, sql, params=None):
        self.sql.append(sql)
        return self.con.execute(sql, params) if params is not None else self.con.execute(sql)


def test_locate_steps_on_a_store_opened_with_only_what_they_need(wh, con):
    """``tracelab search`` numbers its hits' steps on ``Store(needs=locate_needs())`` (no other
    view or macro): the same steps as on the whole catalog, for every event of the samples."""
    from tracelab.session import load
    from tracelab.session.locate import locate_needs, locate_steps
    from tracelab.store.connection import Store

    keys = [k for (k,) in con.execute("SELECT session_key FROM sessions ORDER BY session_key").fetchall()]
    given = {s.event_key: k for k in keys for s in load(con, k, depth=0).steps}
    full = locate_steps(con, list(given), given)
    with Store(wh, needs=locate_needs()) as store:
        assert not store.complete
        assert locate_steps(store.con, list(given), given) == full
    assert len(full) == len(given) > 1000


def test_locate_steps_with_sessions_reads_events_by_session_equality_only(con):
    """The hint path reads the events view only through ``session_key = $k`` or ``session_key IN
    ($k0, $k1, …)``, each key its own parameter (pushed into the Parquet scans), never through a
    list-valued parameter (``IN (SELECT unnest(…))`` / ``list_contains``, which DuckDB does not
    push and so decodes every row: ~14 s at 10M events); EXPLAIN shows the keys pushed into the
    scan as a filter."""
    from tracelab.session.locate import locate_steps

    hits = con.execute(
        "SELECT event_key, session_key FROM events WHERE kind = 'tool_result' AND session_key IS NOT NULL ORDER BY event_key LIMIT 40"
    ).fetchall()
    rec = _Recorder(con)
    got = locate_steps(rec, [e for e, _ in hits], dict(hits))
    assert set(got) == {e for e, _ in hits}
    on_events = [s for s in rec.sql if re.search(r'\b(FROM|JOIN)\s+"?events"?(\s|$)', s)]
    assert on_events, rec.sql
    for sql in on_events:
        assert "list_contains" not in sql and "unnest" not in sql, sql
        for where in re.findall(r"WHERE session_key (=\s*\S+|IN \([^)]*\))", sql):
            assert re.fullmatch(r"=\s*\$k\w+|IN \(\$k\w+(, \$k\w+)*\)", where), where
        assert "session_key IN ($k" in sql or "session_key = $k" in sql, sql
    # the scan as DuckDB plans it: the keys sit in the Parquet scan's filters
    keys = sorted({k for _, k in hits})[:3]
    plan = "\n".join(
        r[1] for r in con.execute("EXPLAIN SELECT event_key FROM events WHERE session_key IN ($k0, $k1, $k2)", dict(zip(("k0", "k1", "k2"), keys))).fetchall()
    )
    assert re.search(r"Filters:.*session_key IN \(", plan, re.S), plan


def test_search_and_failures_show_print_the_session_command(wh):
    out = _run("search", "No task found", "-w", str(wh))
    assert "→ tracelab session claude:0ccf1a04-1b4c-43b6-8aa5-79e41db43a68 --around 30" in out
    shown = _run("failures", "show", "te-c5470569a1bf", "-w", str(wh))
    assert "open:     tracelab session claude:0ccf1a04-1b4c-43b6-8aa5-79e41db43a68 --around 30" in shown


def test_subagent_usage_breakdown_equals_the_timelines(con, wh):
    """`usage session --breakdown subagent` / named query subagent_usage: one row per subagent,
    the type and description its Task call gave, totals equal to its nested timeline."""
    import tracelab

    key = "claude:0ccf1a04-1b4c-43b6-8aa5-79e41db43a68"
    rows = tracelab.query("subagent_usage", warehouse=wh, parent=key).to_dicts()
    doc = json.loads(_run("session", key, "--json", "-w", str(wh)))
    nested = {s["subagent_key"]: (s, s["subagent"]["totals"]) for s in doc["steps"] if "subagent" in s}
    assert {r["session_key"] for r in rows} == set(nested)
    for r in rows:
        step, t = nested[r["session_key"]]
        assert r["spawn_tool"] == step["tool"] == "Task" and r["subagent_type"] == "general-purpose"
        assert step["summary"] == f"general-purpose: {r['description']}"
        assert (r["llm_calls"], r["tool_calls"], r["errors"], r["total_tokens"]) == (t["llm_calls"], t["tool_calls"], t["errors"], t["total_tokens"])
    everything = tracelab.query("subagent_usage", warehouse=wh).to_dicts()
    n_sub = con.execute("SELECT count(*) FROM sessions WHERE is_subagent AND NOT coalesce(is_warmup, false)").fetchall()[0][0]
    assert len(everything) == n_sub
    out = json.loads(_run("usage", "session", "--breakdown", "subagent", "--session", key, "--json", "-w", str(wh)))
    assert [r["session_key"] for r in out] == [r["session_key"] for r in rows]
    table = _run("usage", "session", "--breakdown", "subagent", "--session", key, "-w", str(wh))
    assert "agent-a9cad17" in table and "Poem about Thai green curry" in table and "5 rows" in table


def test_usage_breakdown_session_takes_a_prefix(wh):
    """--session resolves as `tracelab session` does: a unique prefix gives the full key's rows;
    an unknown one fails with one line, an ambiguous one lists the candidates."""
    key = "claude:0ccf1a04-1b4c-43b6-8aa5-79e41db43a68"
    base = ["usage", "session", "--breakdown", "subagent", "-w", str(wh), "--json", "--session"]
    assert _run(*base, "0ccf1a04") == _run(*base, key) != "[]\n"
    res = CliRunner().invoke(cli, [*base, "zzzz0000"])
    assert res.exit_code != 0 and "no session matches 'zzzz0000'" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(cli, [*base, "claude:"])
    assert res.exit_code != 0 and "matches" in res.output and "give more of the id" in res.output


def test_listed_ids_open_their_session(con):
    """The short id `tracelab sessions` prints for each session opens that session."""
    from tracelab.session import resolve
    from tracelab.session.ids import short_ids

    keys = [r[0] for r in con.execute("SELECT session_key FROM sessions ORDER BY session_key").fetchall()]
    ids = short_ids(con, keys)
    assert all(resolve(con, ids[k]) == k for k in keys if "[trimmed" not in k)


def test_pi_branch_shows_abandoned_steps(tmp_path):
    """A Pi tree whose first attempt (u2 → a2) was abandoned for a second branch (u3 → a3):
    the timeline keeps every step in time order and marks the abandoned ones."""
    from test_pi_adapter import _write, asst, ent, header, pi_file, usage, user

    from tracelab.pipeline import ingest
    from tracelab.session import session

    f = _write(
        pi_file(tmp_path),
        [
            header(),
            ent("session_info", "s0000001", None, 1, name="branchy"),
            user("u0000001", "s0000001", 2, "start"),
            asst("a0000001", "u0000001", 4),
            user("u0000002", "a0000001", 6, "try A"),
            asst("a0000002", "u0000002", 8, u=usage(inp=1, out=2, cr=3, cw=4)),
            ent("branch_summary", "b0000001", "a0000001", 10, fromId="a0000001", summary="tried A, it failed"),
            user("u0000003", "b0000001", 12, "try B"),
            asst("a0000003", "u0000003", 14),
        ],
    )
    wh = tmp_path / "wh"
    ingest([str(f)], wh, jobs=1)
    view = session("pi:", wh)
    got = [(s.kind, s.summary, s.branch) for s in view.root.steps]
    prompts = [(k, t, b) for k, t, b in got if k == "prompt"]
    assert prompts == [("prompt", "start", "active"), ("prompt", "try A", "abandoned"), ("prompt", "try B", "active")]
    assert [b for k, _t, b in got if k == "text"] == ["active", "abandoned", "active"]
    doc = view.to_dict()
    assert [s["branch"] for s in doc["steps"]] == [b for _k, _t, b in got]
    assert doc["totals"]["llm_calls"] == 3  # abandoned work is still work that was paid for
    assert "abandoned branch" in view.text() and 'class="s k-prompt abandoned"' in view.html()


def test_reading_each_session_from_its_month_parts_changes_nothing(con, wh):
    """`tracelab session` reads a session's rows from the parts of the months it spans (and
    month=unknown) only: for every main session of the samples, the timeline (steps, bodies,
    calls, costs, subagents) equals the one read from every part."""
    from tracelab.schema import PARTITIONED
    from tracelab.session import load
    from tracelab.store.connection import Store

    with Store(wh) as store:
        parts = {t: [str(p) for p in store.files_of(t)] for t in PARTITIONED}
        months = {m for files in parts.values() for f in files if (m := f.rsplit("month=", 1)[-1].split("/")[0])}
        assert len(months) >= 3, months  # the samples span several months: pruning is exercised
        keys = [r[0] for r in store.con.execute("SELECT session_key FROM sessions WHERE NOT is_subagent ORDER BY session_key").fetchall()]
        assert len(keys) > 50
        for key in keys:
            assert load(store.con, key, parts=parts).to_dict(full=True) == load(store.con, key).to_dict(full=True), key


def test_since_reads_later_months_only_and_counts_the_same(con):
    """`tracelab sessions --since D` skips the parts of months before D (a day's margin): each
    listed session's steps, cost and unpriced calls equal the unfiltered list's."""
    from tracelab.session.listing import session_rows

    every = {r["session_key"]: r for r in session_rows(con=con)}
    starts = sorted(r["started_at"] for r in every.values() if r["started_at"] is not None)
    for since in (starts[len(starts) // 3], starts[len(starts) // 2], starts[-5]):
        rows = session_rows(con=con, since=since.date().isoformat())
        assert rows
        for r in rows:
            e = every[r["session_key"]]
            assert (r["steps"], r["cost_usd"], r["unpriced_calls"]) == (e["steps"], e["cost_usd"], e["unpriced_calls"]), r["session_key"]


def test_parts_carry_a_bloom_filter_on_session_key(wh):
    """The session-keyed tables' parts are written with a Bloom filter on session_key, which
    lets a one-session lookup skip row groups (min/max statistics cannot: keys are random)."""
    import pyarrow.parquet as pq

    from tracelab.store.connection import Store

    with Store(wh) as store:
        for table in ("events", "llm_calls", "tool_calls", "sessions"):
            for f in store.files_of(table):
                md = pq.ParquetFile(f).metadata
                col = [md.schema.column(i).path for i in range(md.num_columns)].index("session_key")
                assert all(md.row_group(g).column(col).bloom_filter_offset is not None for g in range(md.num_row_groups)), (table, f)


def test_parts_that_cannot_be_read_fall_back_to_the_views(con, wh):
    """When the chosen parts cannot be read as the view reads them (parts of an older tracelab
    without a column, a part gone), the session's rows come from the views instead."""
    from tracelab.session import load

    key = "claude:0ccf1a04-1b4c-43b6-8aa5-79e41db43a68"
    broken = {t: [str(wh / t / "month=2026-01" / "part-missing.parquet")] for t in ("events", "llm_calls", "tool_calls")}
    assert load(con, key, parts=broken).to_dict(full=True) == load(con, key).to_dict(full=True)


def test_partial_store_gives_the_same_timelines(wh, con):
    """`tracelab session` opens its store with only what the timeline queries reach
    (`catalog_needs`: no views over the events, call and failure-member parts, no other macros): every main
    session's timeline, cost included, equals the one read through the complete catalog's views."""
    from tracelab.session import load
    from tracelab.session.timeline import PART_TABLES, catalog_needs
    from tracelab.store.connection import Store

    with Store(wh, needs=catalog_needs()) as store:
        assert not store.complete
        views = {r[0] for r in store.con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        assert views == {"sessions"}, views
        parts = {t: [str(p) for p in store.files_of(t)] for t in PART_TABLES}
        keys = [r[0] for r in con.execute("SELECT session_key FROM sessions WHERE NOT is_subagent ORDER BY session_key").fetchall()]
        for key in keys:
            assert load(store.con, key, parts=parts).to_dict(full=True) == load(con, key).to_dict(full=True), key


def test_parts_without_a_column_are_read_by_name_on_a_partial_store(wh, tmp_path):
    """A session whose month holds only a part of an older tracelab (a column missing) is read
    from all of the table's parts by name when the store has no view to fall back to: the same
    timeline as a view over those parts gives (the column NULL for that month's rows)."""
    import pyarrow.parquet as pq

    from tracelab.session import load
    from tracelab.session.timeline import PART_TABLES, catalog_needs
    from tracelab.store.connection import Store

    with Store(wh, needs=catalog_needs()) as store:
        parts = {t: [str(p) for p in store.files_of(t)] for t in PART_TABLES}
        spans = store.con.execute(
            "SELECT session_key, strftime(started_at, '%Y-%m'), strftime(ended_at, '%Y-%m') FROM sessions WHERE NOT is_subagent AND n_events > 20"
        ).fetchall()
    by_month: dict[str, list[str]] = {}
    for f in parts["events"]:
        by_month.setdefault(f.rsplit("month=", 1)[1].split("/")[0], []).append(f)
    # a session inside one month, a day away from its edges, whose month has one events part
    key, month = next(
        (k, a) for k, a, b in sorted(spans) if a == b and len(by_month.get(a, [])) == 1 and a != sorted(by_month)[-1] and a != sorted(by_month)[0]
    )
    old = tmp_path / "events" / f"month={month}" / "part-old.parquet"
    old.parent.mkdir(parents=True)
    pq.write_table(pq.read_table(by_month[month][0]).drop_columns(["branch"]), old)
    fabricated = {**parts, "events": [str(old) if f == by_month[month][0] else f for f in parts["events"]]}
    with Store(wh, read_only=False, needs=catalog_needs()) as partial, Store(wh, read_only=False) as full:
        files = ", ".join("'" + f + "'" for f in fabricated["events"])
        full.con.execute(f"CREATE OR REPLACE VIEW events AS SELECT * FROM read_parquet([{files}], hive_partitioning = false, union_by_name = true)")
        got = load(partial.con, key, parts=fabricated).to_dict(full=True)
        assert got == load(full.con, key).to_dict(full=True)
        assert got["steps"]


def test_timeline_call_costs_equal_the_sql_price_join(con):
    """The timeline prices its calls in Python (`tracelab.pricing.cost_usd`, no price table in
    the session's store): every LLM call of every sample session costs exactly (==, not approx)
    what the SQL price join of `tl_llm_calls` says, None where that is NULL (unpriced model or
    component, no time); the samples hold both."""
    from tracelab.session.timeline import _cost, fetch_rows, gather

    sql = dict(con.execute("SELECT llm_call_key, cost_usd FROM tl_llm_calls(NULL, NULL, NULL, NULL, NULL, true)").fetchall())
    keys = [r[0] for r in con.execute("SELECT session_key FROM sessions ORDER BY session_key").fetchall()]
    with gather(con, keys):
        rows = fetch_rows(con, "timeline_calls")
    assert {r["llm_call_key"] for r in rows} == set(sql)
    got = {r["llm_call_key"]: _cost(r) for r in rows}
    assert got == sql
    assert any(v is None for v in got.values()) and sum(v is not None and v > 0 for v in got.values()) > 100


def test_tree_depths_equal_the_recursive_tree_query(con):
    """`tree_depths` answers a session without subagents from one scan (`timeline_children`):
    for every session of the samples (subagents and sessions with nested subagents included)
    and a key that does not exist, it equals the recursive `timeline_tree`, at every depth limit."""
    from tracelab.session.timeline import fetch_rows, tree_depths

    keys = [r[0] for r in con.execute("SELECT session_key FROM sessions ORDER BY session_key").fetchall()] + ["no-such-session"]
    spawned = 0
    for key in keys:
        for max_depth in (0, 1, 8):
            want = {r["session_key"]: r["depth"] for r in fetch_rows(con, "timeline_tree", key=key, max_depth=max_depth)}
            got = tree_depths(con, key, max_depth)
            assert list(got.items()) == list(want.items()), (key, max_depth)
            spawned += len(want) > 1
    assert spawned > 10  # the samples hold sessions with subagents, so both paths run
