"""Full-text search (``tracelab.search``, ``tracelab search``, ``tracelab/sql/search_events.sql``)
on the real samples, checked against an independent Polars scan of the same events."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest
from click.testing import CliRunner
from test_queries import build_samples_wh

import tracelab
from tracelab.cli import cli
from tracelab.cli.search import match_span
from tracelab.fulltext import SearchError
from tracelab.metrics import scan


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    return build_samples_wh(tmp_path_factory)


@pytest.fixture(scope="module")
def events(wh) -> pl.DataFrame:
    return scan("events", wh).select("event_key", "ts", "agent", "kind", "session_key", "session_id", "text", "tool_input", "source_file", "seq").collect()


def _truth(events: pl.DataFrame, pattern: str, *, regex: bool = False, case_sensitive: bool = False) -> set[str]:
    """event keys whose text or tool input contains the pattern, by Polars alone."""
    rx = ("(?s)" if case_sensitive else "(?si)") + (pattern if regex else re.escape(pattern))
    hit = pl.col("text").fill_null("").str.contains(rx) | pl.col("tool_input").fill_null("").str.contains(rx)
    return set(events.filter(hit)["event_key"].to_list())


@pytest.mark.parametrize(
    "pattern, regex, case_sensitive",
    [
        ("permission denied", False, False),  # none in the samples: an empty result
        ("Permission", False, False),
        ("Exit code", False, True),
        ("exit code", False, True),
        (r"exit code [1-9]\d*", True, False),
        (r"\bgit (push|commit)\b", True, False),
        ("warmup", False, False),
        ("ls", False, False),
        ("$ go test ./...", False, False),  # regex metacharacters in a plain pattern are literal
        ("(", False, False),
    ],
)
def test_every_matching_event_is_found_and_counted(wh, events, pattern, regex, case_sensitive):
    want = _truth(events, pattern, regex=regex, case_sensitive=case_sensitive)
    got = tracelab.search(pattern, wh, regex=regex, case_sensitive=case_sensitive, limit=100_000)
    assert set(got["event_key"].to_list()) == want
    assert got.height == len(want)
    if want:
        assert got["total_matches"].unique().to_list() == [len(want)]


def test_the_case_options_and_the_limit_hold(wh, events):
    assert len(_truth(events, "Exit code", case_sensitive=True)) != len(_truth(events, "exit code", case_sensitive=True))
    few = tracelab.search("error", wh, limit=7)
    assert few.height == 7 and few["total_matches"][0] == len(_truth(events, "error")) > 7
    # newest first: the rows returned are the 7 newest matches
    ts = few["ts"].to_list()
    assert all(a >= b for a, b in zip(ts, ts[1:]) if a is not None and b is not None)
    every = tracelab.search("error", wh, limit=100_000)
    assert few["event_key"].to_list() == every["event_key"].head(7).to_list()


def test_snippet_holds_the_first_match_with_its_context(wh, events):
    got = tracelab.search(r"exit code \d+", wh, regex=True, context=25, limit=100_000)
    assert got.height > 5
    text = dict(zip(events["event_key"], events["text"]))
    for r in got.iter_rows(named=True):
        start, end = match_span(r, 25)
        found = r["snippet"][start:end]
        assert re.fullmatch(r"(?i)exit code \d+", found), (found, r["snippet"])
        hay = text[r["event_key"]] if r["field"] == "text" else None
        if hay is not None:
            first = re.search(r"(?si)exit code \d+", hay)
            assert r["match_at"] == first.start() + 1 and r["match_len"] == len(first.group(0))
            assert r["snippet"].startswith("…") == (first.start() > 25)
        assert "\n" not in r["snippet"]


def test_filters_narrow_the_same_search(wh, events):
    allhits = tracelab.search("error", wh, limit=100_000)
    by_kind = tracelab.search("error", wh, kinds=["tool_result"], limit=100_000)
    assert set(by_kind["kind"].unique()) == {"tool_result"}
    assert by_kind.height == allhits.filter(pl.col("kind") == "tool_result").height
    codex = tracelab.search("error", wh, agent="codex", limit=100_000)
    assert codex.height == allhits.filter(pl.col("agent") == "codex").height > 0
    sid = allhits["session_id"][0]
    one = tracelab.search("error", wh, session=sid, limit=100_000)
    assert one.height == allhits.filter(pl.col("session_id") == sid).height
    assert set(one["session_key"]) == set(allhits.filter(pl.col("session_id") == sid)["session_key"])


def test_the_search_header_declares_exactly_the_parameters_it_uses():
    import tracelab.library as Q
    from tracelab.fulltext import search_query

    q = search_query()
    assert set(q.param_names) == Q.referenced_params(q.sql) and q.returns
    assert "search_events" not in Q.load_all()  # not a named (aggregate) query


def test_bad_patterns_are_refused(wh):
    with pytest.raises(SearchError, match="non-empty pattern"):
        tracelab.search("", wh)
    with pytest.raises(SearchError, match="not a valid regular expression"):
        tracelab.search("(unclosed", wh, regex=True)
    assert tracelab.search("(unclosed", wh).height == 0  # a plain substring: nothing to compile


def test_a_plain_pattern_with_quote_markers_is_still_literal(tmp_path):
    """\\Q...\\E quoting must survive a pattern that itself holds '\\E' or '\\Q'."""
    from tracelab.pipeline import ingest

    prompt = r"open C:\Edge\Quirks(1).txt and C:\Edge\other"
    line = {"type": "user", "uuid": "u1", "sessionId": "s1", "timestamp": "2026-01-02T03:04:05Z", "message": {"role": "user", "content": prompt}}
    (tmp_path / "s.jsonl").write_text(json.dumps(line) + "\n")
    ingest([str(tmp_path / "s.jsonl")], tmp_path / "wh", jobs=1)
    hit = tracelab.search(r"C:\Edge\Quirks(1)", tmp_path / "wh")
    assert hit.height == 1 and hit["match_at"][0] == prompt.index("C:") + 1 and hit["match_len"][0] == len(r"C:\Edge\Quirks(1)")
    assert tracelab.search(r"c:\edge\q", tmp_path / "wh")["match_at"].to_list() == [prompt.index("C:") + 1]
    assert tracelab.search(r"c:\edge\q", tmp_path / "wh", case_sensitive=True).height == 0


def test_cli_prints_hits_and_json(wh, events):
    runner = CliRunner()
    res = runner.invoke(cli, ["search", "exit code", "-w", str(wh), "-n", "3"])
    assert res.exit_code == 0, res.output
    n = len(_truth(events, "exit code"))
    assert f"{n} matching events; showing the newest 3 (--limit)" in res.stderr
    assert n > 3 and res.stdout.lower().count("exit code") >= 3
    res = runner.invoke(cli, ["search", "exit code", "-w", str(wh), "--json", "-n", "1000"])
    rows = json.loads(res.stdout)
    assert len(rows) == n and {"event_key", "snippet", "match_at", "total_matches"} <= set(rows[0])
    res = runner.invoke(cli, ["search", "zzz-no-such-text-zzz", "-w", str(wh)])
    assert res.exit_code == 0 and "no matches" in res.stderr
    res = runner.invoke(cli, ["search", "(", "-E", "-w", str(wh)])
    assert res.exit_code == 2 and "not a valid regular expression" in res.stderr  # a ParameterError
