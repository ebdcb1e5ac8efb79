"""The ccusage peer harness, and the accounting rules of ccusage 20.0.24 that docs/ccusage-parity.md states.

Each test writes a tiny corpus, runs the real ``ccusage <agent> daily --json --offline -z UTC``
on it through :mod:`tracelab.devtools.ccusage`, and checks the per-(day, model) rows that the
doc's rules predict. The expected numbers are worked out by hand from the rules, so a new
ccusage build that changes a rule fails here before it silently moves the parity baseline.
The tests skip, with the reason, when node/npm are missing or the npm install fails.
Parallel xdist workers share one install through the harness's file lock.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tracelab.devtools import ccusage as cc

pytestmark = pytest.mark.peer

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ["TRACELAB_SHARED"]) / "samples" if os.environ.get("TRACELAB_SHARED") else REPO.parent / "shared" / "samples"


@pytest.fixture(scope="session")
def wrapper() -> Path:
    """The npm entry point (``node_modules/.bin/ccusage``), installed once for all workers."""
    path = cc.ensure_ccusage()
    if path is None:
        pytest.skip(f"ccusage {cc.CCUSAGE_VERSION} unavailable: {cc.ccusage_unavailable_reason()}")
    return path


@pytest.fixture(scope="session")
def exe(wrapper) -> Path:
    """The native binary the wrapper execs: same results, without node's ~0.1 s start-up per run."""
    return cc.native_binary_path(wrapper)


def _jsonl(lines: list[object], compact: bool = True) -> str:
    sep = (",", ":") if compact else (", ", ": ")
    return "".join((ln if isinstance(ln, str) else json.dumps(ln, separators=sep)) + "\n" for ln in lines)


def _stage(tmp_path: Path, agent: str, files: dict[str, list[object]]) -> Path:
    """Write ``{relative target: lines}`` as source files and stage them for ``agent``."""
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    specs = []
    for i, (rel, lines) in enumerate(files.items()):
        p = src / f"{i}.jsonl"
        p.write_text(_jsonl(lines))
        specs.append((rel, p))
    return cc.stage_corpus(agent, specs, tmp_path / "home")


def _rows(exe: Path, tmp_path: Path, agent: str, files: dict[str, list[object]]) -> dict:
    """{(day, model): (input, output, cache_read, cache_write)} as ccusage reports it."""
    result = cc.run_ccusage(agent, _stage(tmp_path, agent, files), exe=exe)
    return {
        (r["day"], r["model"]): (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["cache_write_tokens"]) for r in cc.daily_model_totals(result)
    }


# --------------------------------------------------------------------------------------
# Claude Code
# --------------------------------------------------------------------------------------

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"


def claude_line(mid, rid, ts, inp=10, out=5, cr=0, cw=0, model=SONNET, sid="s1", **extra) -> dict:
    usage = {"input_tokens": inp, "cache_creation_input_tokens": cw, "cache_read_input_tokens": cr, "output_tokens": out}
    message = {"id": mid, "type": "message", "role": "assistant", "model": model, "content": [{"type": "text", "text": "x"}], "usage": usage}
    if mid is None:  # absent, not null: ccusage drops a line whose message.id is null
        del message["id"]
    line = {"type": "assistant", "sessionId": sid, "version": "2.0.5", "uuid": f"u-{mid}-{ts}", "timestamp": ts, "message": message}
    if rid is not None:
        line["requestId"] = rid
    line.update(extra)
    return line


def test_claude_split_group_counts_once_with_the_largest_line(exe, tmp_path):
    # One response written as three lines: streaming snapshot (output 8) twice, final count last.
    lines = [
        claude_line("msg_A", "req_A", "2026-01-05T10:00:01.000Z", inp=3, out=8, cr=900, cw=50),
        claude_line("msg_A", "req_A", "2026-01-05T10:00:02.000Z", inp=3, out=8, cr=900, cw=50),
        claude_line("msg_A", "req_A", "2026-01-05T10:00:03.000Z", inp=3, out=120, cr=900, cw=50),
    ]
    assert _rows(exe, tmp_path, "claude", {"projects/p/s1.jsonl": lines}) == {("2026-01-05", SONNET): (3, 120, 900, 50)}


def test_claude_survivor_is_max_total_not_last_line(exe, tmp_path):
    # The survivor is the line with the largest input+output+cache total (ties: the first line).
    # Here the first line has the larger total, so ccusage reports ITS output (8), not the last
    # line's 120: a documented place where tracelab (last line) differs.
    lines = [
        claude_line("msg_B", "req_B", "2026-01-06T10:00:01.000Z", inp=500, out=8),
        claude_line("msg_B", "req_B", "2026-01-06T10:00:02.000Z", inp=10, out=120),
    ]
    assert _rows(exe, tmp_path, "claude", {"projects/p/s1.jsonl": lines}) == {("2026-01-06", SONNET): (500, 8, 0, 0)}


def test_claude_group_day_is_the_survivors_timestamp(exe, tmp_path):
    # Snapshot line before midnight, final line after: the survivor (final, larger) sets the day.
    lines = [
        claude_line("msg_C", "req_C", "2026-01-07T23:59:59.900Z", out=8),
        claude_line("msg_C", "req_C", "2026-01-08T00:00:00.100Z", out=120),
    ]
    assert _rows(exe, tmp_path, "claude", {"projects/p/s1.jsonl": lines}) == {("2026-01-08", SONNET): (10, 120, 0, 0)}


def test_claude_requestless_lines_collapse_only_at_equal_timestamps(exe, tmp_path):
    # Without requestId the key is (message.id, sessionId, timestamp): the split group written at
    # three timestamps is counted three times (the over-count seen on tracelab-uwsyfi), while two
    # lines sharing a timestamp collapse.
    lines = [
        claude_line("msg_D", None, "2026-01-09T10:00:01.000Z", out=7),
        claude_line("msg_D", None, "2026-01-09T10:00:02.000Z", out=7),
        claude_line("msg_D", None, "2026-01-09T10:00:03.000Z", out=7),
        claude_line("msg_E", None, "2026-01-09T11:00:00.000Z", inp=1, out=2),
        claude_line("msg_E", None, "2026-01-09T11:00:00.000Z", inp=1, out=2),
    ]
    assert _rows(exe, tmp_path, "claude", {"projects/p/s1.jsonl": lines}) == {("2026-01-09", SONNET): (31, 23, 0, 0)}


def test_claude_copies_across_files_and_sidechain_replays_count_once(exe, tmp_path):
    files = {
        # original session
        "projects/p/s1.jsonl": [claude_line("msg_F", "req_F", "2026-01-10T10:00:00.000Z", inp=4, out=40, cr=100, sid="s1")],
        # resumed session copying the same response (same message.id + requestId, other sessionId)
        "projects/p/s2.jsonl": [claude_line("msg_F", "req_F", "2026-01-10T10:00:00.000Z", inp=4, out=40, cr=100, sid="s2")],
        # /btw-style sidechain replay: same message.id and session, new requestId, huge cache read
        "projects/p/s1/subagents/agent-x.jsonl": [
            claude_line("msg_F", "req_X", "2026-01-10T10:05:00.000Z", inp=4, out=40, cr=50_000, sid="s1", isSidechain=True),
            # the subagent's own response still counts
            claude_line("msg_G", "req_G", "2026-01-10T10:06:00.000Z", inp=2, out=9, cr=300, model=HAIKU, sid="s1", isSidechain=True),
        ],
    }
    assert _rows(exe, tmp_path, "claude", files) == {
        ("2026-01-10", SONNET): (4, 40, 100, 0),
        ("2026-01-10", HAIKU): (2, 9, 300, 0),
    }


def test_claude_line_filters(exe, tmp_path):
    ok = claude_line("msg_H", "req_H", "2026-01-11T10:00:00.000Z", inp=1, out=1)
    lines = [
        ok,
        # `"usage": {` with a space: skipped by ccusage's byte pre-filter (re-serialised samples)
        _jsonl([claude_line("msg_I", "req_I", "2026-01-11T10:00:01.000Z", inp=1000, out=1000)], compact=False).strip(),
        # timestamps must be RFC 3339 with no or exactly 3 fractional digits
        claude_line("msg_J", "req_J", "2026-01-11T10:00:02.123456Z", inp=2000, out=2000),
        # version must start with N.N.N
        claude_line("msg_K", "req_K", "2026-01-11T10:00:03.000Z", inp=3000, out=3000, version="2"),
        # usage must have both input_tokens and output_tokens
        {**ok, "message": {**ok["message"], "id": "msg_L", "usage": {"input_tokens": 4000}}},
        # half-written last line
        _jsonl([claude_line("msg_M", "req_M", "2026-01-11T10:00:04.000Z", inp=5000)])[:-40],
    ]
    assert _rows(exe, tmp_path, "claude", {"projects/p/s1.jsonl": lines}) == {("2026-01-11", SONNET): (1, 1, 0, 0)}


def test_claude_synthetic_fast_and_cache_creation_breakdown(exe, tmp_path):
    fast = claude_line("msg_N", "req_N", "2026-01-12T10:00:00.000Z", inp=5, out=6, cw=999)
    fast["message"]["usage"]["speed"] = "fast"
    # cache_creation{} (5m + 1h) wins over cache_creation_input_tokens when present
    fast["message"]["usage"]["cache_creation"] = {"ephemeral_5m_input_tokens": 60, "ephemeral_1h_input_tokens": 40}
    lines = [
        fast,
        # <synthetic> usage is added to the day total but to no model
        claude_line("syn-1", "req_S", "2026-01-12T10:00:01.000Z", inp=7, out=3, model="<synthetic>"),
        # isApiErrorMessage is not a filter
        claude_line("msg_O", "req_O", "2026-01-12T10:00:02.000Z", inp=1, out=2, model=HAIKU, isApiErrorMessage=True),
    ]
    rows = _rows(exe, tmp_path, "claude", {"projects/p/s1.jsonl": lines})
    assert rows == {
        ("2026-01-12", SONNET + "-fast"): (5, 6, 0, 100),
        ("2026-01-12", HAIKU): (1, 2, 0, 0),
        ("2026-01-12", None): (7, 3, 0, 0),
    }


def test_claude_agent_progress_counts_nested_message_once(exe, tmp_path):
    nested = {
        "type": "assistant",
        "timestamp": "2026-01-14T00:00:05.000Z",  # nested timestamp sets the day
        "requestId": "req_P",
        "uuid": "nested-1",
        "message": {
            "id": "msg_P",
            "type": "message",
            "role": "assistant",
            "model": HAIKU,
            "content": [],
            "usage": {"input_tokens": 2, "output_tokens": 1, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 3000},
        },
    }
    progress = {
        "type": "progress",
        "sessionId": "s1",
        "version": "2.1.19",
        "uuid": "p-1",
        "timestamp": "2026-01-13T23:59:59.000Z",
        "parentToolUseID": "toolu_1",
        "data": {"type": "agent_progress", "agentId": "a1", "message": nested},
    }
    subagent_copy = {**nested, "sessionId": "s1", "isSidechain": True, "agentId": "a1", "version": "2.1.19"}
    files = {
        "projects/p/s1.jsonl": [claude_line("msg_Q", "req_Q", "2026-01-13T10:00:00.000Z"), progress],
        "projects/p/s1/subagents/agent-a1.jsonl": [subagent_copy],
    }
    assert _rows(exe, tmp_path, "claude", files) == {
        ("2026-01-13", SONNET): (10, 5, 0, 0),
        ("2026-01-14", HAIKU): (2, 1, 0, 3000),
    }


# --------------------------------------------------------------------------------------
# Codex
# --------------------------------------------------------------------------------------


def tok(inp, cached, out, reasoning) -> dict:
    return {"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": out, "reasoning_output_tokens": reasoning, "total_tokens": inp + out}


def token_count(ts, last=None, total=None, null_info=False) -> dict:
    info = None if null_info else {k: v for k, v in (("last_token_usage", last), ("total_token_usage", total)) if v is not None}
    return {"timestamp": ts, "type": "event_msg", "payload": {"type": "token_count", "info": info}}


def turn_context(ts, model) -> dict:
    return {"timestamp": ts, "type": "turn_context", "payload": {"model": model, "cwd": "/w"}}


def session_meta(ts, thread_id, **extra) -> dict:
    return {"timestamp": ts, "type": "session_meta", "payload": {"id": thread_id, "timestamp": ts, "cwd": "/w", **extra}}


def test_codex_cumulative_token_counts(exe, tmp_path):
    rollout = [
        session_meta("2026-02-01T10:00:00.000Z", "t-1"),
        token_count("2026-02-01T10:00:05.000Z", tok(50, 0, 5, 0), tok(50, 0, 5, 0)),  # before any turn_context
        turn_context("2026-02-01T10:00:10.000Z", "gpt-5.2-codex"),
        token_count("2026-02-01T10:00:20.000Z", tok(100, 40, 10, 3), tok(150, 40, 15, 3)),
        token_count("2026-02-01T10:00:21.000Z", tok(100, 40, 10, 3), tok(150, 40, 15, 3)),  # repeated total
        token_count("2026-02-01T10:00:22.000Z", null_info=True),  # rate-limit only
        # last_token_usage is taken (not the delta of totals, which would be 200) when the total advanced
        token_count("2026-02-01T10:00:30.000Z", tok(1000, 900, 20, 7), tok(350, 140, 35, 10)),
        token_count("2026-02-01T10:00:40.000Z", None, tok(500, 240, 45, 12)),  # no last: delta of totals
        turn_context("2026-02-01T23:59:59.000Z", "gpt-5.4"),
        token_count("2026-02-02T00:00:01.000Z", tok(30, 10, 2, 1), tok(530, 250, 47, 13)),  # day of the token_count
    ]
    result = cc.run_ccusage("codex", _stage(tmp_path, "codex", {"sessions/2026/02/01/rollout-t-1.jsonl": rollout}), exe=exe)
    rows = {(r["day"], r["model"]): r for r in cc.daily_model_totals(result)}
    assert set(rows) == {("2026-02-01", "gpt-5"), ("2026-02-01", "gpt-5.2-codex"), ("2026-02-02", "gpt-5.4")}
    fallback = rows[("2026-02-01", "gpt-5")]
    assert fallback["is_fallback_model"] is True
    assert (fallback["input_tokens"], fallback["cache_read_tokens"], fallback["output_tokens"]) == (50, 0, 5)
    main = rows[("2026-02-01", "gpt-5.2-codex")]
    # inputTokens excludes cached: (100-40) + (1000-900) + (150-100); reasoning is part of output
    assert (main["input_tokens"], main["cache_read_tokens"]) == (60 + 100 + 50, 40 + 900 + 100)
    assert (main["output_tokens"], main["reasoning_output_tokens"]) == (10 + 20 + 10, 3 + 7 + 2)
    late = rows[("2026-02-02", "gpt-5.4")]
    assert (late["input_tokens"], late["cache_read_tokens"], late["output_tokens"]) == (20, 10, 2)


def test_codex_copies_and_forks(exe, tmp_path):
    parent = [
        session_meta("2026-02-03T10:00:00.000Z", "parent-1"),
        turn_context("2026-02-03T10:00:01.000Z", "gpt-5.4"),
        token_count("2026-02-03T10:00:10.000Z", tok(100, 0, 10, 0), tok(100, 0, 10, 0)),
        token_count("2026-02-03T10:05:10.000Z", tok(200, 100, 20, 0), tok(300, 100, 30, 0)),
    ]

    def replay(hour: str) -> list[dict]:  # the parent's history as a fork copies it: timestamps rewritten, spread out
        return [
            turn_context(f"2026-02-03T{hour}:00:00.000Z", "gpt-5.4"),
            token_count(f"2026-02-03T{hour}:00:03.000Z", tok(100, 0, 10, 0), tok(100, 0, 10, 0)),
            token_count(f"2026-02-03T{hour}:00:06.000Z", tok(200, 100, 20, 0), tok(300, 100, 30, 0)),
        ]

    own = [turn_context("2026-02-03T11:00:30.000Z", "gpt-5.4-mini"), token_count("2026-02-03T11:00:40.000Z", tok(1000, 0, 1, 0), tok(1300, 100, 31, 0))]
    fork = [session_meta("2026-02-03T11:00:00.000Z", "child-1", forked_from_id="parent-1"), *replay("11"), *own]
    no_link = [session_meta("2026-02-03T13:00:00.000Z", "child-2"), *replay("13")]
    verbatim = [session_meta("2026-02-03T12:00:00.000Z", "copy-1"), *parent[1:]]  # same timestamps as the parent
    rows = _rows(
        exe,
        tmp_path,
        "codex",
        {
            "sessions/2026/02/03/rollout-parent-1.jsonl": parent,
            "sessions/2026/02/03/rollout-child-1.jsonl": fork,  # prefix matched against the parent: dropped
            "sessions/2026/02/03/rollout-copy-1.jsonl": verbatim,  # same (timestamp, model, usage): dropped
            "archived_sessions/rollout-child-2.jsonl": no_link,  # no fork metadata: replay counted again
        },
    )
    assert rows == {
        ("2026-02-03", "gpt-5.4"): (200 + 200, 30 + 30, 100 + 100, 0),
        ("2026-02-03", "gpt-5.4-mini"): (1000, 1, 0, 0),
    }


# --------------------------------------------------------------------------------------
# Pi
# --------------------------------------------------------------------------------------


def pi_usage(inp, out, cr=0, cw=0, cost=0.01) -> dict:
    return {
        "input": inp,
        "output": out,
        "cacheRead": cr,
        "cacheWrite": cw,
        "totalTokens": inp + out + cr + cw,
        "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": cost},
    }


def pi_assistant(entry_id, parent_id, ts, usage, model="claude-opus-4-5", stop="stop") -> dict:
    message = {
        "role": "assistant",
        "content": [],
        "api": "anthropic-messages",
        "provider": "anthropic",
        "model": model,
        "usage": usage,
        "stopReason": stop,
        "timestamp": 1,
    }
    return {"type": "message", "id": entry_id, "parentId": parent_id, "timestamp": ts, "message": message}


def pi_header(ts, sid, **extra) -> dict:
    return {"type": "session", "version": 3, "id": sid, "timestamp": ts, "cwd": "/w/proj", **extra}


def test_pi_usage_mapping_and_filters(exe, tmp_path):
    session = [
        pi_header("2026-03-01T10:00:00.000Z", "s-1"),
        pi_assistant("a1", None, "2026-03-01T10:00:01.000Z", pi_usage(10, 20, 300, 40)),
        # aborted with non-zero usage still counts; aborted with zero usage adds nothing
        pi_assistant("a2", "a1", "2026-03-01T10:00:02.000Z", pi_usage(1, 2, 3, 4), stop="aborted"),
        pi_assistant("a3", "a2", "2026-03-01T10:00:03.000Z", pi_usage(0, 0), stop="aborted", model="gpt-5.1-codex"),
        # the same (timestamp, model, usage) twice in one file counts once
        pi_assistant("a4", "a3", "2026-03-01T10:00:04.000Z", pi_usage(5, 5)),
        pi_assistant("a5", "a4", "2026-03-01T10:00:04.000Z", pi_usage(5, 5)),
        # only assistant messages count
        {
            "type": "message",
            "id": "r1",
            "parentId": "a5",
            "timestamp": "2026-03-01T10:00:05.000Z",
            "message": {"role": "toolResult", "toolCallId": "t", "content": [], "isError": False, "usage": pi_usage(99, 99)},
        },
        # entry timestamp (not message.timestamp) sets the day
        pi_assistant("a6", "r1", "2026-03-02T00:00:01.000Z", pi_usage(7, 8)),
    ]
    rows = _rows(exe, tmp_path, "pi", {"sessions/--w-proj--/2026-03-01T10-00-00-000Z_s-1.jsonl": session})
    assert rows == {
        ("2026-03-01", "[pi] claude-opus-4-5"): (10 + 1 + 5, 20 + 2 + 5, 300 + 3, 40 + 4),
        ("2026-03-02", "[pi] claude-opus-4-5"): (7, 8, 0, 0),
    }


def test_pi_fork_copies(exe, tmp_path):
    parent_name = "2026-03-03T10-00-00-000Z_p.jsonl"
    history = [
        pi_assistant("a1", None, "2026-03-03T10:00:01.000Z", pi_usage(10, 20)),
        pi_assistant("a2", "a1", "2026-03-03T10:00:05.000Z", pi_usage(100, 200)),
    ]
    own = [pi_assistant("c1", "a2", "2026-03-03T11:00:10.000Z", pi_usage(1000, 2000))]
    files = {
        f"sessions/--w-proj--/{parent_name}": [pi_header("2026-03-03T10:00:00.000Z", "p"), *history],
        # parentSession resolves (relative to the child's dir): the copied prefix is dropped
        "sessions/--w-proj--/2026-03-03T11-00-00-000Z_c.jsonl": [pi_header("2026-03-03T11:00:00.000Z", "c", parentSession=parent_name), *history, *own],
        # no resolvable parent link: the copies count again
        "sessions/--w-proj--/2026-03-03T12-00-00-000Z_d.jsonl": [
            pi_header("2026-03-03T12:00:00.000Z", "d", parentSession="/elsewhere/" + parent_name),
            *history,
        ],
    }
    assert _rows(exe, tmp_path, "pi", files) == {("2026-03-03", "[pi] claude-opus-4-5"): (110 + 1000 + 110, 220 + 2000 + 220, 0, 0)}


# --------------------------------------------------------------------------------------
# smaller rules, one probe each: (agent, {target: lines}, expected rows)
# --------------------------------------------------------------------------------------


def _with_usage(line: dict, **changes) -> dict:
    line = json.loads(json.dumps(line))
    for k, v in changes.items():
        if v is None:
            line["message"]["usage"].pop(k, None)
        else:
            line["message"]["usage"][k] = v
    return line


_D = "2026-04-01"
_T0, _T1, _T2 = (f"{_D}T10:00:0{i}.000Z" for i in range(3))
_CODEX_CTX = turn_context(f"{_D}T09:00:00.000Z", "gpt-5.4")
_PI_FILE = "sessions/--w-proj--/2026-04-01T09-00-00-000Z_s.jsonl"

PROBES = {
    "claude: no message.id means no dedup": (
        "claude",
        {"projects/p/s.jsonl": [claude_line(None, "req_1", _T0), claude_line(None, "req_1", _T1)]},
        {(_D, SONNET): (20, 10, 0, 0)},
    ),
    "claude: requestless copies in two sessions both count": (
        "claude",
        {"projects/p/a.jsonl": [claude_line("msg_1", None, _T0, sid="a")], "projects/p/b.jsonl": [claude_line("msg_1", None, _T0, sid="b")]},
        {(_D, SONNET): (20, 10, 0, 0)},
    ),
    "claude: sidechain replay from another session counts": (
        "claude",
        {"projects/p/s.jsonl": [claude_line("msg_1", "req_1", _T0, sid="a"), claude_line("msg_1", "req_2", _T1, sid="b", isSidechain=True)]},
        {(_D, SONNET): (20, 10, 0, 0)},
    ),
    "claude: same message.id under two requestIds, no sidechain, both count": (
        "claude",
        {"projects/p/s.jsonl": [claude_line("msg_1", "req_1", _T0), claude_line("msg_1", "req_2", _T1)]},
        {(_D, SONNET): (20, 10, 0, 0)},
    ),
    "claude: line type is not checked": (
        "claude",
        {"projects/p/s.jsonl": [{**claude_line("msg_1", "req_1", _T0), "type": "user"}]},
        {(_D, SONNET): (10, 5, 0, 0)},
    ),
    "claude: partial cache_creation object still wins": (
        "claude",
        {"projects/p/s.jsonl": [_with_usage(claude_line("msg_1", "req_1", _T0, cw=100), cache_creation={"ephemeral_5m_input_tokens": 30})]},
        {(_D, SONNET): (10, 5, 0, 30)},
    ),
    "claude: null token field drops the line": (
        "claude",
        {
            "projects/p/s.jsonl": [
                claude_line("msg_1", "req_1", _T0),
                {
                    **claude_line("msg_2", "req_2", _T1),
                    "message": {
                        **claude_line("msg_2", "req_2", _T1)["message"],
                        "usage": {"input_tokens": 1, "output_tokens": 1, "cache_read_input_tokens": None},
                    },
                },
            ]
        },
        {(_D, SONNET): (10, 5, 0, 0)},
    ),
    "claude: empty model, requestId or message.id, or a naive timestamp, drop the line": (
        "claude",
        {
            "projects/p/s.jsonl": [
                claude_line("msg_1", "req_1", _T0, model=""),
                claude_line("msg_2", "", _T1),
                claude_line("msg_3", "req_3", f"{_D}T10:00:03"),
                claude_line("", "req_5", _T1),
                claude_line("msg_4", "req_4", _T2, inp=1, out=1),
            ]
        },
        {(_D, SONNET): (1, 1, 0, 0)},
    ),
    "claude: explicit null id/requestId/model/sessionId/version/costUSD drops the line": (
        "claude",
        {
            "projects/p/s.jsonl": [
                {**claude_line("msg_1", "req_1", _T0), "message": {**claude_line("msg_1", "req_1", _T0)["message"], "id": None}},
                {**claude_line("msg_2", "req_2", _T0), "requestId": None},
                {**claude_line("msg_3", "req_3", _T0), "message": {**claude_line("msg_3", "req_3", _T0)["message"], "model": None}},
                {**claude_line("msg_4", "req_4", _T0), "sessionId": None},
                {**claude_line("msg_5", "req_5", _T0), "version": None},
                {**claude_line("msg_6", "req_6", _T0), "costUSD": None},
                {**claude_line("msg_7", "req_7", _T0, inp=1, out=1), "isSidechain": None},
            ]
        },
        {(_D, SONNET): (1, 1, 0, 0)},
    ),
    "claude: zero-usage line still lists its model": (
        "claude",
        {"projects/p/s.jsonl": [claude_line("msg_1", "req_1", _T0, inp=0, out=0)]},
        {(_D, SONNET): (0, 0, 0, 0)},
    ),
    "claude: advisor iterations count under their own model": (
        "claude",
        {
            "projects/p/s.jsonl": [
                _with_usage(
                    claude_line("msg_1", "req_1", _T0),
                    iterations=[
                        {
                            "type": "advisor_message",
                            "model": HAIKU,
                            "input_tokens": 100,
                            "output_tokens": 20,
                            "cache_read_input_tokens": 0,
                            "cache_creation_input_tokens": 0,
                        },
                        {"type": "message", "input_tokens": 10, "output_tokens": 5},
                    ],
                )
            ]
        },
        {(_D, SONNET): (10, 5, 0, 0), (_D, HAIKU): (100, 20, 0, 0)},
    ),
    "codex: a falling total still takes last_token_usage": (
        "codex",
        {"sessions/r.jsonl": [_CODEX_CTX, token_count(_T0, tok(100, 40, 10, 0), tok(500, 40, 50, 0)), token_count(_T1, tok(70, 0, 7, 0), tok(70, 0, 7, 0))]},
        {(_D, "gpt-5.4"): (60 + 70, 10 + 7, 40, 0)},
    ),
    "codex: a falling total without last_token_usage adds nothing": (
        "codex",
        {"sessions/r.jsonl": [_CODEX_CTX, token_count(_T0, None, tok(500, 40, 50, 0)), token_count(_T1, None, tok(70, 0, 7, 0))]},
        {(_D, "gpt-5.4"): (460, 50, 40, 0)},
    ),
    "codex: last_token_usage without totals counts every repeat": (
        "codex",
        {"sessions/r.jsonl": [_CODEX_CTX, token_count(_T0, tok(100, 40, 10, 0)), token_count(_T1, tok(100, 40, 10, 0))]},
        {(_D, "gpt-5.4"): (120, 20, 80, 0)},
    ),
    "codex: equal timestamp, model and usage count once even in one file": (
        "codex",
        {"sessions/r.jsonl": [_CODEX_CTX, token_count(_T0, tok(100, 0, 10, 0), tok(100, 0, 10, 0)), token_count(_T0, tok(100, 0, 10, 0), tok(200, 0, 20, 0))]},
        {(_D, "gpt-5.4"): (100, 10, 0, 0)},
    ),
    "codex: cached is clamped to input": (
        "codex",
        {"sessions/r.jsonl": [_CODEX_CTX, token_count(_T0, tok(100, 400, 10, 3), tok(100, 400, 10, 3))]},
        {(_D, "gpt-5.4"): (0, 10, 100, 0)},
    ),
    "codex: cache_write_input_tokens is cache write, carved out of input": (
        "codex",
        {
            "sessions/r.jsonl": [
                _CODEX_CTX,
                token_count(_T0, tok(100, 40, 10, 3) | {"cache_write_input_tokens": 25}, tok(100, 40, 10, 3) | {"cache_write_input_tokens": 25}),
            ]
        },
        {(_D, "gpt-5.4"): (35, 10, 40, 25)},
    ),
    "codex: token_count.info.model beats turn_context": (
        "codex",
        {
            "sessions/r.jsonl": [
                _CODEX_CTX,
                {
                    **token_count(_T0, tok(100, 0, 10, 0), tok(100, 0, 10, 0)),
                    "payload": {
                        "type": "token_count",
                        "info": {"model": "o3", "last_token_usage": tok(100, 0, 10, 0), "total_token_usage": tok(100, 0, 10, 0)},
                    },
                },
            ]
        },
        {(_D, "o3"): (100, 10, 0, 0)},
    ),
    "codex: orphan subagent counts its prefix despite markers": (
        "codex",
        {
            "sessions/child.jsonl": [
                session_meta(f"{_D}T11:00:00.000Z", "child", source={"subagent": {"thread_spawn": {"parent_thread_id": "absent"}}}),
                turn_context(f"{_D}T11:00:00.000Z", "gpt-5.4"),
                token_count(f"{_D}T11:00:03.000Z", tok(100, 0, 10, 0), tok(100, 0, 10, 0)),  # copied parent usage
                {"timestamp": f"{_D}T11:00:07.000Z", "type": "event_msg", "payload": {"type": "task_started", "turn_id": "t"}},
                {"timestamp": f"{_D}T11:00:07.100Z", "type": "inter_agent_communication_metadata", "payload": {"trigger_turn": True}},
                token_count(f"{_D}T11:00:40.000Z", tok(1000, 0, 1, 0), tok(1100, 0, 11, 0)),
            ]
        },
        {(_D, "gpt-5.4"): (1100, 11, 0, 0)},
    ),
    "codex: codex-auto-review is relabelled by date": (
        "codex",
        {"sessions/r.jsonl": [turn_context(f"{_D}T09:00:00.000Z", "codex-auto-review"), token_count(_T0, tok(100, 0, 10, 0), tok(100, 0, 10, 0))]},
        {(_D, "gpt-5.4"): (100, 10, 0, 0)},
    ),
    "codex: legacy info {prompt, completion} is ignored": (
        "codex",
        {
            "sessions/r.jsonl": [
                _CODEX_CTX,
                {"timestamp": _T0, "type": "event_msg", "payload": {"type": "token_count", "info": {"prompt": 1420, "completion": 910}}},
            ]
        },
        {},
    ),
    "pi: totalTokens without a breakdown is reported as output": (
        "pi",
        {_PI_FILE: [pi_header(f"{_D}T09:00:00.000Z", "s"), pi_assistant("a1", None, _T0, {"totalTokens": 500})]},
        {(_D, "[pi] claude-opus-4-5"): (0, 500, 0, 0)},
    ),
    "pi: missing model counts with no model": (
        "pi",
        {
            _PI_FILE: [
                pi_header(f"{_D}T09:00:00.000Z", "s"),
                {**pi_assistant("a1", None, _T0, pi_usage(3, 4)), "message": {"role": "assistant", "usage": pi_usage(3, 4)}},
            ]
        },
        {(_D, None): (3, 4, 0, 0)},
    ),
    "pi: same time but different split or cost counts twice": (
        "pi",
        {
            _PI_FILE: [
                pi_header(f"{_D}T09:00:00.000Z", "s"),
                pi_assistant("a1", None, _T0, pi_usage(10, 20)),
                pi_assistant("a2", "a1", _T0, pi_usage(20, 10)),
                pi_assistant("a3", "a2", _T1, pi_usage(1, 1, cost=0.1)),
                pi_assistant("a4", "a3", _T1, pi_usage(1, 1, cost=0.2)),
            ]
        },
        {(_D, "[pi] claude-opus-4-5"): (32, 32, 0, 0)},
    ),
    "pi: compaction usage is not counted": (
        "pi",
        {
            _PI_FILE: [
                pi_header(f"{_D}T09:00:00.000Z", "s"),
                pi_assistant("a1", None, _T0, pi_usage(3, 4)),
                {
                    "type": "compaction",
                    "id": "c1",
                    "parentId": "a1",
                    "timestamp": _T1,
                    "summary": "s",
                    "firstKeptEntryId": "a1",
                    "tokensBefore": 7,
                    "usage": pi_usage(1000, 100),
                },
            ]
        },
        {(_D, "[pi] claude-opus-4-5"): (3, 4, 0, 0)},
    ),
    "pi: v1 branchedFrom does not dedupe the copied entries": (
        "pi",
        {
            "sessions/--w--/p.jsonl": [
                {"type": "session", "id": "p", "timestamp": f"{_D}T09:00:00.000Z", "cwd": "/w"},
                {k: v for k, v in pi_assistant("x", None, _T0, pi_usage(3, 4)).items() if k not in ("id", "parentId")},
            ],
            "sessions/--w--/c.jsonl": [
                {"type": "session", "id": "c", "timestamp": f"{_D}T11:00:00.000Z", "cwd": "/w", "branchedFrom": "p.jsonl"},
                {k: v for k, v in pi_assistant("x", None, _T0, pi_usage(3, 4)).items() if k not in ("id", "parentId")},
            ],
        },
        {(_D, "[pi] claude-opus-4-5"): (6, 8, 0, 0)},
    ),
}


@pytest.mark.parametrize("name", list(PROBES))
def test_probe(exe, tmp_path, name):
    agent, files, expected = PROBES[name]
    assert _rows(exe, tmp_path, agent, files) == expected


def test_codex_timestamp_format_failure_aborts_the_whole_run(exe, tmp_path):
    # ccusage exits 1 ("Invalid Codex timestamp") on a counted token_count whose timestamp has
    # other than 0 or 3 fractional digits; run_ccusage raises instead of returning partial data.
    files = {"sessions/r.jsonl": [_CODEX_CTX, token_count(f"{_D}T10:00:00.123456Z", tok(1, 0, 1, 0), tok(1, 0, 1, 0))]}
    with pytest.raises(cc.CcusageError, match="Invalid Codex timestamp"):
        cc.run_ccusage("codex", _stage(tmp_path, "codex", files), exe=exe)


# --------------------------------------------------------------------------------------
# harness
# --------------------------------------------------------------------------------------


def test_stage_corpus_layouts(tmp_path):
    src = tmp_path / "in"
    (src / "proj-a" / "sess-1" / "subagents").mkdir(parents=True)
    main = src / "proj-a" / "sess-1.jsonl"
    sub = src / "proj-a" / "sess-1" / "subagents" / "agent-abc.jsonl"
    for p in (main, sub):
        p.write_text("{}\n")
    rollout = src / "r.jsonl"
    rollout.write_text(_jsonl([session_meta("2025-09-11T21:33:10.844Z", "t")]))
    pi = src / "p.jsonl"
    pi.write_text(_jsonl([pi_header("2026-03-01T10:00:00.000Z", "s", cwd="C:\\Users\\me/proj")]))

    home = cc.stage_corpus("claude", [main, sub], tmp_path / "c")
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*.jsonl")) == [
        "projects/proj-a/sess-1.jsonl",
        "projects/proj-a/sess-1/subagents/agent-abc.jsonl",
    ]
    home = cc.stage_corpus("codex", [rollout], tmp_path / "x")
    assert [str(p.relative_to(home)) for p in home.rglob("*.jsonl")] == ["sessions/2025/09/11/r.jsonl"]
    home = cc.stage_corpus("pi", [pi], tmp_path / "p")
    assert [str(p.relative_to(home)) for p in home.rglob("*.jsonl")] == ["sessions/--C--Users-me-proj--/p.jsonl"]
    staged = home / "sessions" / "--C--Users-me-proj--" / "p.jsonl"
    assert not staged.is_symlink() and staged.read_bytes() == pi.read_bytes()

    with pytest.raises(ValueError, match="two sources"):
        cc.stage_corpus("claude", [("projects/x/a.jsonl", main), ("projects/x/a.jsonl", sub)], tmp_path / "dup")
    with pytest.raises(ValueError, match="inside the repository"):
        cc.stage_corpus("claude", [main], REPO / "tests" / "staged")
    assert not (REPO / "tests" / "staged").exists()


def test_ccusage_skips_symlinks_so_staging_must_not_use_them(exe, tmp_path):
    real = tmp_path / "real.jsonl"
    real.write_text(_jsonl([claude_line("msg_Z", "req_Z", "2026-01-20T10:00:00.000Z")]))
    home = tmp_path / "home"
    (home / "projects" / "p").mkdir(parents=True)
    (home / "projects" / "p" / "a.jsonl").symlink_to(real)
    assert cc.run_ccusage("claude", home, exe=exe)["daily"] == []
    staged = cc.stage_corpus("claude", [("projects/p/a.jsonl", real)], tmp_path / "staged")
    assert cc.daily_model_totals(cc.run_ccusage("claude", staged, exe=exe))[0]["input_tokens"] == 10


def test_run_is_isolated_from_the_real_home(wrapper, tmp_path, monkeypatch):
    fake_home = tmp_path / "realhome"
    leak = fake_home / ".codex" / "sessions" / "leak.jsonl"
    leak.parent.mkdir(parents=True)
    leak.write_text(_jsonl([turn_context("2026-02-05T10:00:00.000Z", "gpt-5.4"), token_count("2026-02-05T10:00:01.000Z", tok(1, 0, 1, 0), tok(1, 0, 1, 0))]))
    # If the child saw this HOME (or no CODEX_HOME of ours), ccusage would read ~/.codex/sessions.
    monkeypatch.setenv("HOME", str(fake_home))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(fake_home / ".claude"))
    env = cc._isolated_env("codex", tmp_path / "empty", tmp_path / "throwaway")
    assert env["HOME"] == str(tmp_path / "throwaway") and env["CODEX_HOME"] == str((tmp_path / "empty").resolve())
    assert not {"CLAUDE_CONFIG_DIR", "PI_AGENT_DIR"} & set(env)
    staged = cc.stage_corpus("codex", [], tmp_path / "empty")
    assert cc.run_ccusage("codex", staged, exe=wrapper)["daily"] == []
    assert cc.time_ccusage("codex", staged, exe=wrapper, repeat=1, warmup=0) > 0


def test_daily_model_totals_normalises_both_shapes():
    claude_shape = {
        "daily": [
            {
                "date": "2026-01-01",
                "inputTokens": 17,
                "outputTokens": 8,
                "cacheReadTokens": 5,
                "cacheCreationTokens": 0,
                "modelBreakdowns": [{"modelName": "m", "inputTokens": 10, "outputTokens": 5, "cacheReadTokens": 5, "cacheCreationTokens": 0, "cost": 0.5}],
            }
        ]
    }
    rows = cc.daily_model_totals(claude_shape)
    assert [(r["model"], r["input_tokens"], r["output_tokens"], r["total_tokens"]) for r in rows] == [("m", 10, 5, 20), (None, 7, 3, 10)]
    codex_shape = {
        "daily": [
            {
                "date": "2026-01-02",
                "inputTokens": 60,
                "cacheReadTokens": 40,
                "outputTokens": 10,
                "reasoningOutputTokens": 3,
                "cacheCreationTokens": 0,
                "models": {
                    "gpt-5": {
                        "inputTokens": 60,
                        "cacheReadTokens": 40,
                        "outputTokens": 10,
                        "reasoningOutputTokens": 3,
                        "cacheCreationTokens": 0,
                        "isFallback": True,
                    }
                },
            }
        ]
    }
    (row,) = cc.daily_model_totals(codex_shape)
    assert row == {
        "day": "2026-01-02",
        "model": "gpt-5",
        "input_tokens": 60,
        "output_tokens": 10,
        "cache_read_tokens": 40,
        "cache_write_tokens": 0,
        "reasoning_output_tokens": 3,
        "cost_usd": None,
        "is_fallback_model": True,
        "total_tokens": 110,
    }


def test_install_failure_reason_without_node(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACELAB_PEERS_DIR", str(tmp_path / "peers"))
    monkeypatch.setattr(cc, "_install_failure", None)
    monkeypatch.setattr(cc.shutil, "which", lambda name: None)
    assert cc.ensure_ccusage() is None
    assert cc.ccusage_unavailable_reason() == "node and npm not found on PATH; ccusage 20.0.24 needs Node.js and npm to install"
    assert not (tmp_path / "peers" / "ccusage" / "20.0.24").exists()


# --------------------------------------------------------------------------------------
# the numbers docs/ccusage-parity.md quotes for the shared samples
# --------------------------------------------------------------------------------------

DOC = REPO / "docs" / "ccusage-parity.md"


@pytest.mark.parametrize("agent", ["claude", "codex", "pi"])
def test_doc_quotes_ccusage_totals_on_shared_samples(exe, tmp_path, agent):
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES} (set TRACELAB_SHARED)")
    home = cc.stage_corpus(agent, cc.shared_sample_files(agent, SAMPLES), tmp_path / agent)
    totals = cc.run_ccusage(agent, home, exe=exe)["totals"]
    got = (totals["inputTokens"], totals["outputTokens"], totals["cacheReadTokens"], totals["cacheCreationTokens"])
    m = re.search(rf"^<!-- totals {agent}: input=(\d+) output=(\d+) cache_read=(\d+) cache_write=(\d+) -->$", DOC.read_text(encoding="utf-8"), re.M)
    assert m, f"{DOC.name} has no totals marker for {agent}"
    assert got == tuple(int(g) for g in m.groups()), f"ccusage now reports {got} for {agent}; update {DOC.name}"
