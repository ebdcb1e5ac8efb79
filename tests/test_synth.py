"""``tracelab synth``: determinism, layout, and ground truth checked against the files.

The checks re-read the generated files with a tiny parser written here (not the generator's
code) and recompute what ``truth.json`` claims: line and malformed-line counts, Claude
tokens with message.id dedup, Codex tokens from ``last_token_usage`` when the cumulative
total advanced, Pi tokens with entry-id dedup, latency percentiles, loops, and that every
failure label points at a line holding its family's text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracelab.synth import FAMILIES, Truth, generate, parse_size

SESSIONS = 16
RATE = 0.01  # high enough that every malformed kind shows up in a small corpus


# --------------------------------------------------------------------------------------
# a tiny independent reader
# --------------------------------------------------------------------------------------


def read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def parse(raw: bytes):
    """The object on a line, or None if the line is malformed (bad UTF-8, bad JSON, not an
    object, or envelope fields of the wrong type)."""
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        return None
    for key, typ in (("timestamp", str), ("message", dict), ("payload", dict), ("uuid", str), ("id", str)):
        if key in obj and not isinstance(obj[key], typ):
            return None
    return obj


def jsonl_files(root: Path, agent: str) -> list[Path]:
    return sorted((root / agent).rglob("*.jsonl"))


def rel(root: Path, p: Path) -> str:
    return p.relative_to(root).as_posix()


def ms(ts: str) -> int:
    d = dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return round(d.timestamp() * 1000)


def pct(values: list[int], q: float) -> float | None:
    v = sorted(values)
    if not v:
        return None
    pos = (len(v) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return round(v[lo] + (v[hi] - v[lo]) * (pos - lo), 3)


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(rel(root, p).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Truth]:
    out = tmp_path_factory.mktemp("synth") / "corpus"
    truth = generate(out, sessions=SESSIONS, seed=7, malformed_rate=RATE, jobs=1)
    return out, truth


# --------------------------------------------------------------------------------------
# determinism
# --------------------------------------------------------------------------------------


def test_same_seed_is_byte_identical_for_any_jobs_and_other_seed_differs(corpus, tmp_path):
    out, _truth = corpus
    again = tmp_path / "again"
    generate(again, sessions=SESSIONS, seed=7, malformed_rate=RATE, jobs=2)
    assert tree_digest(again) == tree_digest(out)
    other = tmp_path / "other"
    generate(other, sessions=2, seed=8, malformed_rate=RATE, jobs=1)
    first = tmp_path / "first"
    generate(first, sessions=2, seed=7, malformed_rate=RATE, jobs=1)
    assert tree_digest(other) != tree_digest(first)
    # sessions is a prefix of the task stream: 2 sessions/agent = the first 2 of the 10
    names = {rel(first, p) for p in first.rglob("*.jsonl")}
    assert names <= {rel(out, p) for p in out.rglob("*.jsonl")}


def test_size_mode_is_deterministic_across_jobs_and_stops_at_the_target(tmp_path):
    target = parse_size("3MB")
    assert target == 3_000_000 and parse_size("1GiB") == 2**30
    a = generate(tmp_path / "a", size_bytes=target, seed=3, jobs=1)
    b = generate(tmp_path / "b", size_bytes=target, seed=3, jobs=2)
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    on_disk = sum(p.stat().st_size for p in (tmp_path / "b").rglob("*") if p.is_file() and p.parent != tmp_path / "b")
    assert on_disk == b["totals"]["bytes"] >= target
    assert a["totals"] == b["totals"]
    # no file of a discarded (past-the-target) task is left behind
    assert sum(len(jsonl_files(tmp_path / "b", agent)) for agent in ("claude", "codex", "pi")) == b["totals"]["files"]


# --------------------------------------------------------------------------------------
# layout
# --------------------------------------------------------------------------------------

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_layout_matches_each_agents_discovery(corpus):
    out, truth = corpus
    enc = lambda cwd: re.sub(r"[^A-Za-z0-9]", "-", cwd)  # noqa: E731
    seen_v21_subagent = seen_flat = False
    for p in jsonl_files(out, "claude"):
        parts = p.relative_to(out / "claude").parts
        assert parts[0] == "projects"
        objs = [o for o in map(parse, read_lines(p)) if o]
        cwd = next(o["cwd"] for o in objs if "cwd" in o)
        assert parts[1] == enc(cwd)
        if len(parts) == 3 and re.fullmatch(UUID + r"\.jsonl", parts[2]):
            assert any(o.get("sessionId") == p.stem for o in objs)  # resumed files also hold copies of the old id
        elif len(parts) == 3:
            assert re.fullmatch(r"agent-[0-9a-f]{8}\.jsonl", parts[2])
            assert all(o.get("isSidechain") is True and o.get("agentId") == p.stem[6:] for o in objs if "uuid" in o)
            seen_flat = True
        else:
            assert re.fullmatch(UUID, parts[2]) and parts[3] == "subagents"
            assert re.fullmatch(r"agent-[0-9a-f]{17}\.jsonl", parts[4])
            assert (p.parent / (p.stem + ".meta.json")).is_file()
            assert all(o.get("sessionId") == parts[2] and o.get("agentId") == p.stem[6:] for o in objs if "uuid" in o)
            seen_v21_subagent = True
    assert seen_flat and seen_v21_subagent
    assert truth.agent("claude")["meta_files"] == sum(1 for _ in (out / "claude").rglob("*.meta.json"))

    for p in jsonl_files(out, "codex"):
        parts = p.relative_to(out / "codex").parts
        m = re.fullmatch(r"rollout-(\d{4})-(\d{2})-(\d{2})T\d{2}-\d{2}-\d{2}-(" + UUID + r")\.jsonl", parts[4])
        assert parts[0] == "sessions" and m and parts[1:4] == m.groups()[:3]
        first = parse(read_lines(p)[0])
        assert first["type"] == "session_meta" and first["payload"]["id"] == m.group(4)

    for p in jsonl_files(out, "pi"):
        parts = p.relative_to(out / "pi").parts
        head = parse(read_lines(p)[0])
        assert head["type"] == "session" and head["version"] == 3
        assert parts[0] == "sessions" and parts[1] == "--" + head["cwd"][1:].replace("/", "-") + "--"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z_" + UUID + r"\.jsonl", parts[2])
        assert parts[2].endswith(f"_{head['id']}.jsonl")


def test_layout_agrees_with_the_ccusage_harness_staging_rules(corpus):
    cc = pytest.importorskip("tracelab.devtools.ccusage")
    out, _ = corpus
    for agent in ("claude", "codex", "pi"):
        for p in jsonl_files(out, agent):
            assert cc.default_relpath(agent, p).as_posix() == p.relative_to(out / agent).as_posix()


# --------------------------------------------------------------------------------------
# truth vs files
# --------------------------------------------------------------------------------------


def test_line_file_and_malformed_counts(corpus):
    out, truth = corpus
    kinds = Counter()
    for agent in ("claude", "codex", "pi"):
        a = truth.agent(agent)
        files = jsonl_files(out, agent)
        assert a["files"] == len(files)
        lines = 0
        bad = set()
        for p in files:
            raw = read_lines(p)
            lines += sum(1 for ln in raw if ln.strip())
            bad |= {(rel(out, p), i) for i, ln in enumerate(raw, 1) if parse(ln) is None}
        assert a["lines"] == lines
        assert {(m["file"], m["line_no"]) for m in a["malformed"]["lines"]} == bad
        assert a["malformed"]["count"] == len(bad) > 0
        kinds.update(m["kind"] for m in a["malformed"]["lines"])
    assert set(kinds) == {"truncated_json", "invalid_utf8", "non_object_json", "wrong_field_types"}


def test_duplicate_ranges_are_verbatim_copies(corpus):
    out, truth = corpus
    for agent in ("claude", "codex", "pi"):
        a = truth.agent(agent)
        assert a["duplicates"]["lines"] == sum(r["to_line"] - r["from_line"] + 1 for r in a["duplicates"]["ranges"]) > 0
        for r in a["duplicates"]["ranges"]:
            copy = read_lines(out / r["file"])[r["from_line"] - 1 : r["to_line"]]
            source = set(read_lines(out / r["source_file"]))
            assert all(ln in source for ln in copy)


def _canonical(truth: Truth, agent: str) -> dict:
    out = {}
    for day, models in truth.agent(agent)["tokens"]["canonical"].items():
        for model, v in models.items():
            out[(day, model)] = (v["input_tokens"], v["cache_read_tokens"], v["cache_write_tokens"], v["output_tokens"], v["reasoning_tokens"], v["llm_calls"])
    return out


def test_claude_tokens_recomputed_with_message_id_dedup(corpus):
    out, truth = corpus
    groups: dict[str, tuple] = {}
    for p in jsonl_files(out, "claude"):
        for o in map(parse, read_lines(p)):
            if not o or o["type"] != "assistant" or o["message"].get("model") == "<synthetic>":
                continue
            m = o["message"]
            u = m["usage"]
            val = (o["timestamp"][:10], m["model"], (u["input_tokens"], u["cache_read_input_tokens"], u["cache_creation_input_tokens"], u["output_tokens"]))
            if m["id"] in groups:  # every line of a split group carries the same final usage, on one UTC day
                assert groups[m["id"]] == val
            groups[m["id"]] = val
    sums: dict = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for day, model, usage in groups.values():
        acc = sums[(day, model)]
        for i, v in enumerate(usage):
            acc[i] += v
        acc[5] += 1
    assert {k: tuple(v) for k, v in sums.items()} == _canonical(truth, "claude")
    assert truth.agent("claude")["llm_calls"] == len(groups)


def _codex_files(out: Path) -> dict[str, list]:
    """thread id -> parsed valid lines (raw bytes kept for prefix matching)."""
    files = {}
    for p in jsonl_files(out, "codex"):
        lines = [(raw, o) for raw in read_lines(p) if (o := parse(raw))]
        files[lines[0][1]["payload"]["id"]] = lines
    return files


def test_codex_tokens_recomputed_from_last_usage_when_total_advances(corpus):
    out, truth = corpus
    files = _codex_files(out)
    sums: dict = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for lines in files.values():
        meta = lines[0][1]["payload"]
        skip = 0
        if "forked_from_id" in meta:  # the parent's history replayed verbatim after the fork's own session_meta
            parent = [raw for raw, _ in files[meta["forked_from_id"]]]
            while skip < len(parent) and lines[1 + skip][0] == parent[skip]:
                skip += 1
            assert skip == len(parent)
        model, prev = None, None
        for i, (_raw, o) in enumerate(lines):
            if o["type"] == "turn_context":
                model = o["payload"]["model"]
            p = o["payload"]
            if o["type"] != "event_msg" or p.get("type") != "token_count" or p.get("info") is None:
                continue
            total = p["info"]["total_token_usage"]
            if total != prev and i > skip:
                last = p["info"]["last_token_usage"]
                acc = sums[(o["timestamp"][:10], model)]
                for k, v in enumerate(
                    (
                        last["input_tokens"] - last["cached_input_tokens"],
                        last["cached_input_tokens"],
                        0,
                        last["output_tokens"],
                        last["reasoning_output_tokens"],
                        1,
                    )
                ):
                    acc[k] += v
            prev = total
    assert {k: tuple(v) for k, v in sums.items()} == _canonical(truth, "codex")


def test_pi_tokens_recomputed_with_entry_id_dedup(corpus):
    out, truth = corpus
    entries = {}
    for p in jsonl_files(out, "pi"):
        for o in map(parse, read_lines(p)):
            if o and o["type"] == "message" and o["message"]["role"] == "assistant":
                entries[o["id"]] = o
    sums: dict = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for o in entries.values():
        m = o["message"]
        if m["stopReason"] in ("aborted", "error"):
            assert m["usage"]["totalTokens"] == 0
            continue
        u = m["usage"]
        assert u["totalTokens"] == u["input"] + u["output"] + u["cacheRead"] + u["cacheWrite"]
        acc = sums[(o["timestamp"][:10], m["model"])]
        for k, v in enumerate((u["input"], u["cacheRead"], u["cacheWrite"], u["output"], 0, 1)):
            acc[k] += v
    assert {k: tuple(v) for k, v in sums.items()} == _canonical(truth, "pi")


def test_latency_percentiles_recomputed_from_timestamps(corpus):
    out, truth = corpus
    # Pi: tool latency = toolResult entry ts - assistant entry ts; LLM latency = entry ts - message.timestamp
    calls, results, llm = {}, {}, defaultdict(list)
    for p in jsonl_files(out, "pi"):
        for o in map(parse, read_lines(p)):
            if not o or o["type"] != "message":
                continue
            m = o["message"]
            if m["role"] == "assistant" and o["id"] not in calls:
                calls[o["id"]] = o
            elif m["role"] == "toolResult":
                results[m["toolCallId"]] = (ms(o["timestamp"]), m["toolName"])
    tool = defaultdict(list)
    for o in calls.values():
        m = o["message"]
        if m["stopReason"] not in ("aborted", "error"):
            llm[m["model"]].append(ms(o["timestamp"]) - m["timestamp"])
        for block in m["content"]:
            if block["type"] == "toolCall" and block["id"] in results:
                tool[(m["model"], block["name"])].append(results[block["id"]][0] - ms(o["timestamp"]))
    pi = truth.agent("pi")
    for model, lat in llm.items():
        t = pi["llm_latency"][model]
        assert (t["samples"], t["p50"], t["p90"], t["p95"], t["p99"]) == (len(lat), *(pct(lat, q) for q in (50, 90, 95, 99)))
    for (model, name), lat in tool.items():
        t = pi["tools"][model][name]["latency"]
        assert (t["samples"], t["p50"], t["p99"]) == (len(lat), pct(lat, 50), pct(lat, 99))

    # Codex: LLM latency = advancing token_count ts - the last user_message / *_output before it
    llm = defaultdict(list)
    for lines in _codex_files(out).values():
        meta = lines[0][1]["payload"]
        start = model = prev = None
        copied = len(_codex_files(out)[meta["forked_from_id"]]) if "forked_from_id" in meta else 0
        for i, (_raw, o) in enumerate(lines):
            p, ts = o["payload"], ms(o["timestamp"])
            if o["type"] == "turn_context":
                model = p["model"]
            elif p.get("type") in ("user_message", "function_call_output", "custom_tool_call_output"):
                start = ts
            elif p.get("type") == "token_count" and p.get("info"):
                if p["info"]["total_token_usage"] != prev and i > copied:
                    llm[model].append(ts - start)
                prev = p["info"]["total_token_usage"]
    for model, lat in llm.items():
        t = truth.agent("codex")["llm_latency"][model]
        assert (t["samples"], t["p50"], t["p95"]) == (len(lat), pct(lat, 50), pct(lat, 95))


def test_pi_loops_recomputed(corpus):
    out, truth = corpus
    seen: set[str] = set()
    loops = 0
    for p in sorted(jsonl_files(out, "pi"), key=lambda p: p.name):  # file names start with the creation time
        seq = []
        for o in map(parse, read_lines(p)):
            if not o or "id" not in o or o["type"] == "session" or o["id"] in seen:
                continue
            seen.add(o["id"])
            if o["type"] == "message" and o["message"]["role"] == "assistant":
                seq += [(b["name"], json.dumps(b["arguments"], sort_keys=True)) for b in o["message"]["content"] if b["type"] == "toolCall"]
        i = 0
        while i < len(seq):
            j = i
            while j < len(seq) and seq[j] == seq[i]:
                j += 1
            loops += j - i >= 3
            i = j
    assert loops == truth.agent("pi")["loops"]["count"] > 0


def _result_text(agent: str, o: dict) -> tuple[str, str]:
    """(tool call id, result text) of a tool result line."""
    if agent == "claude":
        block = o["message"]["content"][0]
        c = block["content"]
        return block["tool_use_id"], c if isinstance(c, str) else "".join(b.get("text", "") for b in c)
    if agent == "codex":
        return o["payload"]["call_id"], o["payload"]["output"]
    m = o["message"]
    return m["toolCallId"], "".join(b["text"] for b in m["content"])


def test_failure_labels_point_at_lines_with_the_family_text(corpus):
    out, truth = corpus
    records = [json.loads(ln) for ln in (out / "truth_failures.jsonl").read_text().splitlines()]
    per_agent = Counter(r["agent"] for r in records)
    for agent in ("claude", "codex", "pi"):
        assert per_agent[agent] == truth.agent(agent)["tool_calls"]["by_status"]["error"] > 0
    cache: dict[str, list[bytes]] = {}
    for r in records:
        lines = cache.setdefault(r["file"], read_lines(out / r["file"]))
        o = parse(lines[r["line_no"] - 1])
        call_id, text = _result_text(r["agent"], o)
        assert call_id == r["tool_call_id"]
        assert r["text"] in text
        assert FAMILIES[r["family"]].regex.fullmatch(r["text"]), r
    present = {f["id"]: f["count"] for f in truth["failure_families"] if f["count"]}
    assert len(FAMILIES) >= 12 and len(present) >= 12
    assert Counter(r["family"] for r in records) == present


def test_truth_is_internally_consistent(corpus):
    _out, truth = corpus
    for agent in ("claude", "codex", "pi"):
        a = truth.agent(agent)
        assert sum(a["tool_calls"]["by_status"].values()) == a["tool_calls"]["total"]
        per_tool = Counter()
        for tools in a["tools"].values():
            for t in tools.values():
                assert t["calls"] == t["ok"] + t["error"] + t["user_rejected"] + t["interrupted"] + t["no_result"]
                per_tool["error"] += t["error"]
                per_tool["total"] += t["calls"]
                if t["completed"]:
                    assert t["realized_error_rate"] == round(t["error"] / t["completed"], 6)
        assert per_tool["error"] == a["tool_calls"]["by_status"]["error"]
        assert per_tool["total"] == a["tool_calls"]["total"]
        weekly_errors = sum(c["errors"] for w in a["weekly"].values() for m in w.values() for c in m.values())
        assert weekly_errors == per_tool["error"]
        assert a["llm_calls"] == sum(a["llm_calls_by_model"].values()) == sum(v["llm_calls"] for d in a["tokens"]["canonical"].values() for v in d.values())
        assert a["sessions"]["total"] == a["files"]
    c = truth.agent("claude")
    assert c["sessions"]["subagent"] > 0 and c["sessions"]["warmup"] > 0 and c["events"]["resumes"] > 0
    assert truth.agent("codex")["events"]["forks"] > 0 and truth.agent("pi")["events"]["forks"] > 0
    assert truth.agent("pi")["events"]["branches"] > 0
    assert sum(truth.agent(a)["events"].get("compactions", 0) for a in ("claude", "codex", "pi")) > 0
    assert sum(truth.agent(a)["loops"]["count"] for a in ("claude", "codex", "pi")) > 0
    # Claude split groups: the undeduplicated view counts every line, so it exceeds the deduplicated one
    nat = truth.agent("claude")["tokens"]
    total = lambda t: sum(v["output_tokens"] for d in t.values() for v in d.values())  # noqa: E731
    assert total(nat["undeduplicated"]) > total(nat["native"])


def test_planted_regression_is_visible(tmp_path):
    truth = generate(tmp_path / "reg", agents=["claude"], sessions=60, weeks=2, seed=11, malformed_rate=0.0)
    reg = truth["planted_regression"]
    assert (reg["agent"], reg["model"], reg["tool"], reg["week"]) == ("claude", "claude-sonnet-4-5-20250929", "Edit", 1)
    weekly = truth.agent("claude")["weekly"]
    assert weekly["1"][reg["model"]]["Edit"]["error_prob"] == reg["prob"] > 4 * reg["prob_previous_week"]
    before, last = reg["realized"]["before"], reg["realized"]["last_week"]
    assert before["completed"] >= 30 and last["completed"] >= 30
    assert last["rate"] > 2.5 * before["rate"]
    # other models' Edit error rates did not jump
    others = [m for m in weekly["1"] if m != reg["model"] and "Edit" in weekly["1"][m]]
    assert all(weekly["1"][m]["Edit"]["error_prob"] < 0.2 for m in others)


def test_generate_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="Monday"):
        generate(tmp_path / "x", sessions=1, start=dt.date(2026, 10, 6))
    with pytest.raises(ValueError, match="either"):
        generate(tmp_path / "x", sessions=1, size_bytes=10)
    with pytest.raises(ValueError, match="agents"):
        generate(tmp_path / "x", sessions=1, agents=["gemini"])
    generate(tmp_path / "y", sessions=1, agents=["pi"])
    with pytest.raises(FileExistsError):
        generate(tmp_path / "y", sessions=1, agents=["pi"])
    generate(tmp_path / "y", sessions=1, agents=["codex"], overwrite=True)
    assert not (tmp_path / "y" / "pi").exists() and (tmp_path / "y" / "codex").is_dir()


def test_cli_json_summary(tmp_path):
    from tracelab.cli import cli

    res = CliRunner().invoke(cli, ["synth", "--out", str(tmp_path / "c"), "--sessions", "1", "--agents", "codex,pi", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    truth = Truth.load(tmp_path / "c" / "truth.json")
    assert set(summary["agents"]) == {"codex", "pi"} == set(truth["agents"])
    assert summary["totals"] == truth["totals"]
    bad = CliRunner().invoke(cli, ["synth", "--out", str(tmp_path / "d"), "--sessions", "1", "--size", "1MB"])
    assert bad.exit_code != 0 and "either" in bad.output


# --------------------------------------------------------------------------------------
# peer: ccusage on the generated corpus
# --------------------------------------------------------------------------------------


def _ccusage_rows(cc, exe, home: Path, agent: str) -> dict:
    result = cc.run_ccusage(agent, home, exe=exe)
    rows = {}
    for r in cc.daily_model_totals(result):
        vals = (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["cache_write_tokens"])
        if any(vals):  # aborted/errored pi turns list their model with zero usage
            rows[(r["day"], r["model"])] = vals
    return rows


@pytest.mark.peer
def test_ccusage_daily_totals_match_truth(corpus):
    """ccusage 20.0.24 per-UTC-day, per-model totals equal the truth:

    * Claude and Codex: the canonical (deduplicated) totals. ccusage dedups Claude split groups
      and resume copies by (message.id, requestId), skips Codex token_counts whose total did not
      advance, and drops a fork's replayed prefix by matching it against the parent.
    * Pi: the undeduplicated totals. The fork header's ``parentSession`` is an absolute path in
      the synthetic user's home (as pi writes it), which does not exist here, so ccusage cannot
      link the fork and counts the copied entries again; tracelab dedups them by entry id.
    """
    cc = pytest.importorskip("tracelab.devtools.ccusage")
    exe = cc.ensure_ccusage()
    if exe is None:
        pytest.skip(f"ccusage unavailable: {cc.ccusage_unavailable_reason()}")
    out, truth = corpus
    for agent in ("claude", "codex"):
        expected = {k: (v[0], v[3], v[1], v[2]) for k, v in _canonical(truth, agent).items()}
        assert _ccusage_rows(cc, exe, out / agent, agent) == expected, agent
    undedup = {}
    for day, models in truth.agent("pi")["tokens"]["undeduplicated"].items():
        for model, v in models.items():
            undedup[(day, f"[pi] {model}")] = (v["input"], v["output"], v["cacheRead"], v["cacheWrite"])
    canonical = {(d, f"[pi] {m}"): (v[0], v[3], v[1], v[2]) for (d, m), v in _canonical(truth, "pi").items()}
    assert truth.agent("pi")["events"]["forks"] > 0 and undedup != canonical
    assert _ccusage_rows(cc, exe, out / "pi", "pi") == undedup
