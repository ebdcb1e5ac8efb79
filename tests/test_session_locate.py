"""The ``tracelab session KEY --around N`` hints of ``tracelab search`` (:mod:`tracelab.session.locate`)
on the real samples: the hints the command prints, on its one store opened with only what the
search and the hints need, are the steps found on the whole catalog, which
``tests/test_session_view.py`` checks against every sample session's timeline."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from tests.session_fixtures import build_samples_wh
from tracelab.catalog import connect
from tracelab.cli import cli
from tracelab.fulltext import search_needs, search_table
from tracelab.session.locate import around_command, locate_needs, locate_steps
from tracelab.store.connection import Store

#: patterns with many hits over many sessions of the three agents (tool results, calls, prompts)
PATTERNS = ("error", "file", "the", "test")


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
    return res.stdout


def _hints(out: str) -> list[str | None]:
    """The hint of each hit block (a heading line, the snippet, then the hint if there is one)."""
    blocks: list[str | None] = []
    for ln in out.splitlines():
        if not ln.startswith("    "):
            blocks.append(None)
        elif ln.startswith("    → "):
            assert blocks[-1] is None
            blocks[-1] = ln.removeprefix("    → ")
    return blocks


@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_printed_hints_are_the_whole_catalogs_steps(wh, con, pattern):
    """Every hit of the table output gets the hint of its own step, in the order of the hits,
    as :func:`locate_steps` finds it on the whole catalog."""
    hits = json.loads(_run("search", pattern, "-w", str(wh), "--json", "-n", "100000"))
    assert len(hits) > 100 and len({h["session_key"] for h in hits}) > 20
    assert {h["session_key"].split(":")[0] for h in hits} >= {"claude", "codex", "pi"}
    given = {h["event_key"]: h["session_key"] for h in hits}
    full = locate_steps(con, list(given), given)
    assert len(full) > 0.9 * len(given)  # the others' sessions have no step: no hint
    expected = [around_command(*full[h["event_key"]]) if h["event_key"] in full else None for h in hits]
    assert _hints(_run("search", pattern, "-w", str(wh), "-n", "100000")) == expected


def test_the_search_and_its_hints_open_one_store(wh, monkeypatch):
    """The table output numbers its hits' steps on the store the search ran on, opened with the
    search's and the hints' needs only (not the whole catalog)."""
    opened: list[Store] = []
    init = Store.__init__

    def recording(self, *args, **kwargs):
        init(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(Store, "__init__", recording)
    out = _run("search", "error", "-w", str(wh), "-n", "20")
    assert len(_hints(out)) == 20 and all(_hints(out))
    assert len(opened) == 1 and not opened[0].complete


def test_locate_after_a_search_on_its_store(wh, con):
    """On a store opened with ``search_needs() + locate_needs()``, after an indexed search (whose
    temporary ``events`` view is gone again), the steps equal the whole catalog's, with the
    sessions given and looked up by event key."""
    keys = [k for (k,) in con.execute("SELECT session_key FROM sessions ORDER BY session_key").fetchall()]
    sample = dict(con.execute("SELECT event_key, session_key FROM events WHERE session_key IS NOT NULL ORDER BY event_key").fetchall()[::7])
    full = locate_steps(con, list(sample), sample)
    assert len(full) > 500 and len({k for k, _ in full.values()}) > len(keys) // 2
    with Store(wh, needs=search_needs() + locate_needs()) as store:
        assert not store.complete
        names, rows = search_table("error", store=store, limit=5, rows=True)
        assert len(rows) == 5 and names.index("event_key") >= 0
        assert locate_steps(store.con, list(sample), sample) == full
        by_key = sorted(sample)[::40]
        assert locate_steps(store.con, by_key) == {e: full[e] for e in by_key}


def test_an_event_given_with_another_session_or_none_is_left_out(con):
    e, k = con.execute("SELECT event_key, session_key FROM events WHERE session_key IS NOT NULL ORDER BY event_key LIMIT 1").fetchone()
    (other,) = con.execute("SELECT min(session_key) FROM sessions WHERE session_key <> $k", {"k": k}).fetchone()
    assert e in locate_steps(con, [e], {e: k})
    assert locate_steps(con, [e], {e: other}) == {}
    assert locate_steps(con, ["no-such-event"], {"no-such-event": k}) == {}
    assert locate_steps(con, [None, ""]) == {}


def test_tool_results_point_at_their_calls_step(con):
    """A tool result is not a step of its own when its call is in the trace: it locates to the
    call's step, so its hint opens the timeline at the call."""
    pairs = con.execute(
        "SELECT r.event_key, r.session_key, c.event_key FROM events r JOIN events c "
        "ON c.session_key = r.session_key AND c.tool_call_id = r.tool_call_id AND c.kind = 'tool_call' "
        "WHERE r.kind = 'tool_result' ORDER BY r.event_key LIMIT 200"
    ).fetchall()
    assert len(pairs) == 200
    given = {r: k for r, k, _ in pairs} | {c: k for _, k, c in pairs}
    got = locate_steps(con, list(given), given)
    assert all(got[r] == got[c] for r, _, c in pairs)
    assert all(re.fullmatch(r"tracelab session \S+ --around [1-9]\d*", around_command(*got[r])) for r, _, _ in pairs)


def test_an_event_key_shared_by_two_sessions_locates_in_its_own_session(con):
    """Event keys are not unique across sessions (the synthetic Claude samples reuse ``s3:0``,
    ``u1:0``, …): each event, given with its session, gets the step of that session's timeline
    that shows it (the hints used to mix them: ``claude:ses_stage0_drift``'s hook showed the
    step of another session's ``s3:0``)."""
    from tracelab.session import load

    shared = con.execute(
        "SELECT event_key, list(DISTINCT session_key ORDER BY session_key) FROM events WHERE session_key IS NOT NULL "
        "GROUP BY event_key HAVING count(DISTINCT session_key) > 1 ORDER BY event_key"
    ).fetchall()
    assert len(shared) >= 3
    steps = {k: {s.event_key: s.n for s in load(con, k, depth=0).steps} for k in {k for _, ks in shared for k in ks}}
    checked = 0
    for e, ks in shared:
        for k in ks:
            if e in steps[k]:  # a step of its own (a tool result's call, a bookkeeping line are checked elsewhere)
                assert locate_steps(con, [e], {e: k}) == {e: (k, steps[k][e])}
                checked += 1
    assert checked >= 4
    assert steps["claude:ses_stage0_drift"]["s3:0"] == 7
    assert locate_steps(con, ["s3:0"], {"s3:0": "claude:ses_stage0_drift"}) == {"s3:0": ("claude:ses_stage0_drift", 7)}
