"""Ingesting a generated corpus recovers its truth exactly: rejects are the planted malformed
lines, duplicates collapse to the planted copies, calls and statuses match per agent."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tracelab.catalog import connect
from tracelab.pipeline import ingest

pytestmark = pytest.mark.xdist_group("truth_ingest")

AGENTS = ("claude", "codex", "pi")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from tracelab.synth import generate

    out = tmp_path_factory.mktemp("truth_corpus")
    generate(out, sessions=16, seed=11, weeks=2, malformed_rate=0.004, jobs=1)
    truth = json.loads((out / "truth.json").read_text())
    wh = tmp_path_factory.mktemp("truth_wh")
    s = ingest([str(out / a) for a in AGENTS], wh, jobs=1)
    assert s.files_failed == 0, s.errors
    con = connect(wh)
    yield out, truth, con
    con.close()


@pytest.mark.parametrize("agent", AGENTS)
def test_rejects_are_exactly_the_planted_malformed_lines(corpus, agent):
    out, truth, con = corpus
    planted = {(str((out / m["file"]).resolve()), m["line_no"]) for m in truth["agents"][agent]["malformed"]["lines"]}
    got = {(f, n) for f, n in con.execute("SELECT source_file, line_no FROM rejects WHERE agent = $a", {"a": agent}).fetchall()}
    assert planted, "the corpus should plant malformed lines"
    assert got == planted


@pytest.mark.parametrize("agent", AGENTS)
def test_line_accounting_and_duplicates_equal_truth(corpus, agent):
    out, truth, con = corpus
    t = truth["agents"][agent]
    total, dup, rej = con.execute("SELECT sum(lines_total), sum(lines_duplicate), sum(lines_rejected) FROM files WHERE agent = $a", {"a": agent}).fetchone()
    assert total == t["lines"]
    assert rej == t["malformed"]["count"]
    assert dup == t["duplicates"]["lines"]


@pytest.mark.parametrize("agent", AGENTS)
def test_llm_calls_and_tool_statuses_equal_truth(corpus, agent):
    out, truth, con = corpus
    t = truth["agents"][agent]
    by_model = dict(
        con.execute("SELECT model, count(*) FROM llm_calls WHERE agent = $a AND NOT is_synthetic AND NOT is_error GROUP BY 1", {"a": agent}).fetchall()
    )
    assert by_model == t["llm_calls_by_model"]
    statuses = Counter(dict(con.execute("SELECT status, count(*) FROM tool_calls WHERE agent = $a GROUP BY 1", {"a": agent}).fetchall()))
    expected = Counter({k: v for k, v in t["tool_calls"]["by_status"].items() if v})
    assert statuses == expected
