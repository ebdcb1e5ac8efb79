"""Token parity with the real peer: tracelab's per-UTC-day, per-model totals over every Claude
Code sample equal `ccusage claude daily --json --offline -z UTC` (ccusage 20.0.24), except for
the documented rules D1–D3 of docs/ccusage-parity.md, which this test re-applies to tracelab's
own rows (never to ccusage's) to prove the difference is exactly those rules and nothing else.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from tracelab.catalog import connect

pytestmark = [pytest.mark.peer, pytest.mark.xdist_group("ccusage")]

_TS_OK = re.compile(r'"timestamp"\s*:\s*"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?(Z|[+-]\d\d:\d\d)"')


@pytest.fixture(scope="module")
def ccusage_rows(tmp_path_factory, claude_samples):
    from tracelab.devtools import ccusage as cc

    if cc.ensure_ccusage() is None:
        pytest.skip(f"ccusage unavailable: {cc.ccusage_unavailable_reason()}")
    files = cc.shared_sample_files("claude", claude_samples.parent)
    home = cc.stage_corpus("claude", files, tmp_path_factory.mktemp("cc_home"))
    rows = cc.daily_model_totals(cc.run_ccusage("claude", home))
    out = {}
    for r in rows:
        key = (r["day"], r["model"])
        vals = (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["cache_write_tokens"])
        if any(vals):
            out[key] = vals
    return out


def _raw_line(path: str, line_no: int, cache: dict) -> str:
    if path not in cache:
        cache[path] = Path(path).read_bytes().decode("utf-8", "replace").splitlines()
    return cache[path][line_no - 1]


def _ccusage_view_of_tracelab(con) -> tuple[dict, dict]:
    """tracelab's per-row usage, counted the way the documented rules say ccusage counts it:
    D1 lines with `"usage": {` (spaced) are invisible to ccusage; D2 timestamps without exactly
    0 or 3 fractional digits are dropped; D3 requestless responses count once per distinct line
    timestamp. Returns (totals, rule hits)."""
    rows = con.execute(
        """
        SELECT e.llm_call_key, e.source_file, e.line_no, e.ts, e.date, e.model, e.speed, e.request_id,
               e.input_tokens, e.output_tokens, e.cache_read_tokens, e.cache_write_tokens
        FROM events e JOIN llm_calls c USING (llm_call_key)
        WHERE NOT c.is_synthetic AND e.agent = 'claude' AND e.input_tokens IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY e.source_file, e.line_no ORDER BY e.block_index) = 1
        """
    ).fetchall()
    cache: dict = {}
    by_call: dict[str, list] = defaultdict(list)
    hits = {"D1": 0, "D2": 0, "D3": 0}
    for r in rows:
        raw = _raw_line(r[1], r[2], cache)
        if '"usage":{' not in raw:
            hits["D1"] += 1
            continue
        if not _TS_OK.search(raw):
            hits["D2"] += 1
            continue
        by_call[r[0]].append(r)
    totals: dict = defaultdict(lambda: [0, 0, 0, 0])
    for _key, lines in by_call.items():
        lines.sort(key=lambda r: (r[3], r[2]))
        if lines[0][7] is None and len({r[3] for r in lines}) > 1:
            hits["D3"] += 1
            chosen = {r[3]: r for r in lines}.values()  # one per distinct timestamp
        else:
            chosen = [lines[-1]]  # the last line (== max-total line on every sample, D4)
        for r in chosen:
            model = (r[5] or "") + ("-fast" if r[6] == "fast" else "")
            t = totals[(str(r[4]), model)]
            for i in range(4):
                t[i] += r[8 + i] or 0
    return {k: tuple(v) for k, v in totals.items() if any(v)}, hits


def test_claude_daily_model_totals_equal_ccusage(claude_wh, ccusage_rows):
    con = connect(claude_wh)
    ours, hits = _ccusage_view_of_tracelab(con)
    # every documented rule is exercised by the samples
    assert hits["D1"] > 0 and hits["D2"] > 0 and hits["D3"] > 0, hits
    assert ours == ccusage_rows


def test_plain_tracelab_totals_differ_only_where_rules_apply(claude_wh, ccusage_rows):
    """Without the rule adjustments, the rows that differ are exactly the documented ones."""
    con = connect(claude_wh)
    plain: dict = defaultdict(lambda: [0, 0, 0, 0])
    for d, m, s, *vals in con.execute(
        """SELECT date, model, speed, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens
           FROM llm_calls WHERE agent = 'claude' AND NOT is_synthetic AND date IS NOT NULL"""
    ).fetchall():
        t = plain[(str(d), (m or "") + ("-fast" if s == "fast" else "") or None)]
        for i, v in enumerate(vals):
            t[i] += v
    plain = {k: tuple(v) for k, v in plain.items() if any(v)}
    differing = {k for k in set(plain) | set(ccusage_rows) if plain.get(k) != ccusage_rows.get(k)}
    documented = {
        ("2025-06-14", "claude-3-sonnet-20240229"),  # D1
        ("2025-06-23", "claude-sonnet-4-20250514"),  # D1
        ("2025-06-27", "claude-sonnet-4-20250514"),  # D1
        ("2025-09-29", "claude-opus-4-1-20250805"),  # D1
        ("2025-09-29", "claude-sonnet-4-20250514"),  # D1
        ("2025-10-29", "claude-sonnet-4-5-20250929"),  # D1
        ("2025-11-13", "claude-sonnet-4-5-20250929"),  # D1
        ("2025-07-03", "claude-sonnet-4-20250514"),  # D2
        ("2026-06-01", "claude-opus-4-8"),  # D3
    }
    assert differing == documented
