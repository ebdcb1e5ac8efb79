"""``tracelab usage`` leaves out LLM calls without a timestamp (they fall in no bucket, as in
ccusage) and says so: a note on stderr and the ``untimed`` object of the JSON, so the calls
shown plus those left out are every call."""

from __future__ import annotations

import json

from click.testing import CliRunner

import tracelab
from tracelab.cli import cli


def _usage(*args: str):
    res = CliRunner().invoke(cli, ["usage", *args])
    assert res.exit_code == 0, res.output
    return res


def _truth(wh, agent: str | None = None) -> tuple[int, int, int]:
    """(calls without ts, their tokens, tokens of every call) straight from llm_calls."""
    con = tracelab.connect(wh)
    try:
        return con.execute(
            "SELECT count(*) FILTER (WHERE ts IS NULL), coalesce(sum(total_tokens) FILTER (WHERE ts IS NULL), 0), coalesce(sum(total_tokens), 0)"
            " FROM llm_calls WHERE $agent IS NULL OR agent = $agent",
            {"agent": agent},
        ).fetchone()
    finally:
        con.close()


def test_untimed_calls_are_counted_and_named(samples_wh):
    calls, tokens, every = _truth(samples_wh)
    assert calls > 0  # the real samples hold responses without a timestamp
    for report in ("daily", "monthly", "session"):
        data = json.loads(_usage(report, "-w", str(samples_wh), "--json").stdout)
        assert data["untimed"] == {"llmCalls": calls, "totalTokens": tokens}
        assert data["totals"]["totalTokens"] + tokens == every  # nothing lost: shown + left out = all
        res = _usage(report, "-w", str(samples_wh))
        notes = [ln for ln in res.stderr.splitlines() if ln.startswith("note: ")]
        assert notes == [
            f"note: {calls:,} LLM call{'s' if calls != 1 else ''} ({tokens:,} tokens) without a timestamp left out (no bucket to put them in, as in ccusage)"
        ]


def test_no_note_when_every_call_has_a_timestamp(samples_wh):
    calls, _, _ = _truth(samples_wh, "codex")
    assert calls == 0
    res = _usage("daily", "-w", str(samples_wh), "--agent", "codex")
    assert "note:" not in res.stderr
    assert json.loads(_usage("daily", "-w", str(samples_wh), "--agent", "codex", "--json").stdout)["untimed"] == {"llmCalls": 0, "totalTokens": 0}
