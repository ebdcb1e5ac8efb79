"""``tracelab share`` on the real samples of every agent: the gate, re-ingest, card and manifest."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import tracelab
from tracelab.cli import cli
from tracelab.pipeline import ingest
from tracelab.redact import Policy, Redactor
from tracelab.redact.files import redact_paths
from tracelab.share import ShareOptions, ShareRefused, StripOptions, build_share
from tracelab.share.card import size_category
from tracelab.share.strip import strip_line

SHARED = Path(os.environ["TRACELAB_SHARED"]) if os.environ.get("TRACELAB_SHARED") else Path(__file__).resolve().parents[1].parent / "shared"
SAMPLES = SHARED / "samples"
AGENT_DIRS = ("claude-code", "claude-code-2.1", "codex", "pi")
KEY = b"share-tests"
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")


def _totals(warehouse) -> dict:
    con = tracelab.connect(warehouse)
    try:
        rows = con.execute(
            "SELECT agent, count(*), sum(n_events), sum(n_llm_calls), sum(n_tool_calls), "
            + ", ".join(f"sum({t})" for t in TOKENS)
            + ", list(session_id ORDER BY session_id) FROM sessions GROUP BY agent ORDER BY agent"
        ).fetchall()
    finally:
        con.close()
    return {r[0]: r[1:] for r in rows}


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES} (set TRACELAB_SHARED)")
    root = tmp_path_factory.mktemp("share")
    wh = root / "wh"
    ingest([str(SAMPLES / d) for d in AGENT_DIRS], wh)
    out = root / "out"
    res = build_share(wh, out, options=ShareOptions(recall_secrets=120), policy=Policy(key=KEY), confirm=lambda r: True, report_path=root / "report.json")
    return wh, out, res, root


def test_every_agent_is_shared_and_the_output_passes_the_gate(shared):
    wh, out, res, _ = shared
    assert res.written and out.is_dir() and not out.with_name(out.name + ".tracelab-staging").exists()
    assert {p.name for p in out.iterdir() if p.is_dir()} == {"claude", "codex", "pi"}
    check = redact_paths(Redactor(Policy(key=KEY)), [str(out)], None, check=True)
    assert check.clean, check.counts("detector")
    cli_check = CliRunner().invoke(cli, ["redact", "--check", str(out), "-q"])
    assert cli_check.exit_code == 0, cli_check.output
    # the authors' usernames are gone from contents (the manifest and card too) and names
    authors = re.compile(rb"(?<![A-Za-z])(?:dain|badlogic)(?![A-Za-z])")
    for p in out.rglob("*"):
        assert "dain" not in p.relative_to(out).as_posix()
        if p.is_file():
            assert not authors.search(p.read_bytes()), p


def test_card_counts_main_and_subagent_sessions_as_info_does(shared):
    """The card's per-agent "main sessions" / "subagent sessions" are ``tracelab info``'s
    "main sessions" / "subagent sessions" (one definition: subagents apart)."""
    from tracelab.info import warehouse_info

    wh, out, res, _ = shared
    info = {a["agent"]: (a["sessions"], a["subagent_sessions"]) for a in warehouse_info(wh)["agents"]}
    assert res.sessions == sum(m + s for m, s in info.values())  # every session of the warehouse is shared
    card = (out / "README.md").read_text(encoding="utf-8")
    table = _table(card, "| agent | main sessions | subagent sessions | LLM calls | tool calls | tokens | first day | last day |")
    assert {t[0]: (int(t[1]), int(t[2])) for t in table} == {a: c for a, c in info.items() if sum(c)}
    assert any(s for _, s in info.values())  # the samples have subagent sessions: the two columns differ
    text = CliRunner().invoke(cli, ["info", "-w", str(wh)]).stdout
    assert any(line.startswith("│ main sessions ") for line in text.splitlines()) and "│ subagent sessions" in text


def test_reingest_gives_the_same_sessions_events_and_tokens(shared, tmp_path):
    wh, out, res, _ = shared
    wh2 = tmp_path / "wh2"
    ingest([str(out / a) for a in ("claude", "codex", "pi")], wh2)
    before, after = _totals(wh), _totals(wh2)
    # session ids that Claude takes from a file name carry the name's pseudonymised username
    # (the same key gives the same pseudonym): the one place where redacted text is an id
    r = Redactor(Policy(key=KEY, usernames=("dain",)))  # the samples' author, learned from home paths
    before = {a: v[:-1] + (sorted(r.redact_text(i)[0] for i in v[-1]),) for a, v in before.items()}
    after = {a: v[:-1] + (sorted(v[-1]),) for a, v in after.items()}
    assert before == after
    assert sum(v[0] for v in after.values()) == res.sessions == len(res.manifest)


def test_subagent_files_sit_beside_their_parents(shared):
    _, out, res, _ = shared
    subs = [r for r in res.manifest if r["is_subagent"] and r["parent_session_id"]]
    assert subs
    by_id = {r["session_id"]: r for r in res.manifest if not r["is_subagent"]}
    beside = 0
    for r in subs:
        parent = by_id.get(r["parent_session_id"])
        if parent is None:
            continue
        pfile = Path(parent["files"][0]["path"])
        for f in r["files"]:
            p = Path(f["path"])
            assert p.parts[0] == pfile.parts[0]  # same agent folder
            assert p.parent == pfile.parent or pfile.with_suffix("") in p.parents
            beside += 1
    assert beside > 0


def test_manifest_hashes_match_the_files(shared):
    _, out, res, _ = shared
    rows = [json.loads(x) for x in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows == res.manifest
    listed = set()
    for row in rows:
        h = hashlib.sha256()
        for f in row["files"]:
            data = (out / f["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"]
            h.update(f"{f['path']}\0{f['sha256']}\n".encode())
            listed.add(f["path"])
        assert h.hexdigest() == row["content_sha256"]
        assert row["redaction"]["policy_version"] == "tracelab-redact/2"
        assert row["redaction"]["policy_hash"] == Policy(key=KEY).policy_hash()
        assert row["started_at"] is None or row["started_at"].endswith("Z")
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"README.md", "manifest.jsonl"}
    assert on_disk == listed


def _front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def _table(text: str, header: str) -> list[list[str]]:
    lines = text.splitlines()
    i = lines.index(header)
    rows = []
    for ln in lines[i + 2 :]:
        if not ln.startswith("|"):
            break
        rows.append([c.strip() for c in ln.strip("|").split("|")])
    return rows


def test_card_yaml_parses_and_its_statistics_equal_the_manifest(shared):
    _, out, res, _ = shared
    card = (out / "README.md").read_text(encoding="utf-8")
    meta = _front_matter(card)
    assert meta["license"] == "cc-by-4.0" and "traces" in meta["tags"] and meta["size_categories"] == [size_category(res.sessions)] == ["n<1K"]
    assert "not official model facts" in card and "provider telemetry" in card and "evaluation material" in card
    assert "Measured recall of this policy" in card
    rows = [json.loads(x) for x in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    agents: dict = defaultdict(Counter)
    for r in rows:
        a = agents[r["agent"]]
        a["sessions"] += 1
        a["subagents"] += r["is_subagent"]
        a["calls"] += r["counts"]["n_llm_calls"]
        a["tools"] += r["counts"]["n_tool_calls"]
        a["tokens"] += sum(r["tokens"][k] for k in TOKENS[:4])
    table = _table(card, "| agent | main sessions | subagent sessions | LLM calls | tool calls | tokens | first day | last day |")
    assert {t[0]: [int(x) for x in t[1:6]] for t in table} == {
        a: [c["sessions"] - c["subagents"], c["subagents"], c["calls"], c["tools"], c["tokens"]] for a, c in agents.items()
    }
    models: dict = defaultdict(Counter)
    for r in rows:
        for m, u in r["model_usage"].items():
            models[m]["sessions"] += 1
            models[m]["calls"] += u["calls"]
    mtable = _table(card, "| model | sessions with it | LLM calls | tokens |")
    assert {t[0]: [int(t[1]), int(t[2])] for t in mtable} == {m: [c["sessions"], c["calls"]] for m, c in models.items()}
    assert sum(int(t[2]) for t in mtable) == sum(r["counts"]["n_llm_calls"] for r in rows)


def test_report_counts_what_was_removed_without_values(shared):
    _, out, res, root = shared
    rep = json.loads((root / "report.json").read_text())
    assert rep["removed"]["stripped"]["signatures"] > 0 and rep["removed"]["stripped"]["images"] > 0
    assert rep["removed"]["redacted_by_kind"]["username"] > 0 and rep["check"]["clean"]
    text = json.dumps(rep)
    assert "dain" not in text and "badlogic" not in text and "@" not in text
    # signatures emptied, images replaced by a size marker, in the written files
    data = b"".join(p.read_bytes() for p in (out / "claude").rglob("*.jsonl"))
    assert b'"signature":""' in data.replace(b" ", b"") and b"[image removed: image/png, " in data


def test_gate_refuses_without_confirmation_and_writes_nothing(shared, tmp_path):
    wh = shared[0]
    out = tmp_path / "o"
    with pytest.raises(ShareRefused, match="not confirmed"):
        build_share(wh, out, options=ShareOptions(agent="pi", measure_recall=False), policy=Policy(key=KEY), confirm=lambda r: False)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_gate_refuses_when_the_check_is_not_clean(shared, tmp_path, monkeypatch):
    """A check that still finds something (here: a stricter check policy naming a model as a
    known secret, standing in for a detector the redaction pass missed) blocks the share."""
    import tracelab.share.build as B

    real = B.redact_paths

    def stricter(redactor, inputs, out_dir, **kw):
        return real(Redactor(Policy(key=KEY, known_secrets=("claude-sonnet-4",))), inputs, out_dir, **kw)

    monkeypatch.setattr(B, "redact_paths", stricter)
    out = tmp_path / "o"
    with pytest.raises(ShareRefused, match="not clean: known-secret"):
        build_share(wh := shared[0], out, options=ShareOptions(agent="claude", measure_recall=False), policy=Policy(key=KEY), confirm=lambda r: True)
    assert wh.exists() and not out.exists() and not list(tmp_path.iterdir())


def test_deny_drops_whole_sessions_and_max_sessions_keeps_the_latest(shared, tmp_path):
    wh = shared[0]
    res = build_share(
        wh, tmp_path / "a", options=ShareOptions(agent="codex", deny=("rate.?limit",), measure_recall=False), policy=Policy(key=KEY), confirm=lambda r: True
    )
    assert res.denied and res.sessions < _totals(wh)["codex"][0]
    assert all(b"rate_limit" not in p.read_bytes().lower() and b"rate limit" not in p.read_bytes().lower() for p in (tmp_path / "a").rglob("*.jsonl"))
    two = build_share(
        wh, tmp_path / "b", options=ShareOptions(agent="pi", max_sessions=2, measure_recall=False), policy=Policy(key=KEY), confirm=lambda r: True
    )
    assert two.sessions == 2 and two.over_limit == _totals(wh)["pi"][0] - 2


def test_strip_env_dump_image_and_signature_keep_the_line_shape():
    env = "\n".join(f"VAR_{i}=value{i}" for i in range(8)) + "\nPATH=/usr/bin\n"
    line = json.dumps(
        {
            "type": "assistant",
            "message": {"content": [{"type": "thinking", "thinking": "hm", "signature": "EqQBCkYIBRgCKkB" * 8}]},
            "toolUseResult": {"stdout": env},
            "image": {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo" * 40}},
            "url": "data:image/jpeg;base64," + "AAAA" * 30,
        }
    ).encode()
    new, counts, removed = strip_line(line + b"\n", StripOptions())
    obj = json.loads(new)
    assert counts == Counter({"signatures": 1, "images": 2, "env_dumps": 1}) and removed > 0
    assert obj["message"]["content"][0] == {"type": "thinking", "thinking": "hm", "signature": ""}
    assert obj["toolUseResult"]["stdout"] == "[environment dump removed: 9 variables]"
    assert obj["image"]["source"]["data"] == "[image removed: image/png, 330 bytes]"
    assert obj["url"] == "[image removed: image/jpeg, 90 bytes]"
    assert list(obj) == list(json.loads(line)) and new.endswith(b"\n")
    kept, c2, _ = strip_line(line, StripOptions(signatures=False, images=False, env_dumps=False))
    assert kept is line and not c2
    prose = json.dumps({"text": "Set A=1 and B=2 in the config, then run it."}).encode()
    assert strip_line(prose, StripOptions())[0] is prose


def test_cli_push_dry_run_lists_operations_without_network(shared, tmp_path, monkeypatch):
    def no_network(*a, **k):
        raise AssertionError("network access during --dry-run")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "o"
    res = CliRunner().invoke(
        cli,
        ["share", str(out), "-w", str(shared[0]), "--agent", "pi", "--no-recall", "--yes", "--push", "me/traces", "--dry-run"],
        env={"TRACELAB_REDACT_KEY": "k"},
    )
    assert res.exit_code == 0, res.output
    assert "dry run: would open a pull request on datasets/me/traces" in res.output
    assert "  add README.md (" in res.output and "  add manifest.jsonl (" in res.output and "  add pi/" in res.output


def test_cli_without_yes_refuses_in_one_line(shared, tmp_path):
    res = CliRunner().invoke(cli, ["share", str(tmp_path / "o"), "-w", str(shared[0]), "--agent", "pi", "--no-recall"])
    assert res.exit_code == 1
    assert "not confirmed" in res.output and "Traceback" not in res.output and not (tmp_path / "o").exists()


def test_learned_usernames_left_as_words_fail_the_gate(tmp_path):
    from tracelab.share.build import _leftover_usernames

    (tmp_path / "a.jsonl").write_text('{"text": "cd /Users/user_3f2a9c && echo dain; daina Dain"}\n')
    assert _leftover_usernames(tmp_path, frozenset({"dain"})) == 1  # whole words, case as learned
    assert _leftover_usernames(tmp_path, frozenset()) == 0


def test_cli_errors_are_one_line(shared, tmp_path):
    bad = CliRunner().invoke(cli, ["share", str(tmp_path / "o"), "-w", str(shared[0]), "--deny", "(", "--yes", "--no-recall"])
    assert bad.exit_code == 2 and "--deny '(': not a valid pattern" in bad.output and "Traceback" not in bad.output
    none = CliRunner().invoke(cli, ["share", str(tmp_path / "o"), "-w", str(tmp_path / "nowh"), "--yes"])
    assert none.exit_code != 0 and "no tracelab warehouse" in none.output and "Traceback" not in none.output
    assert not (tmp_path / "o").exists()


# --format auto / sts: Claude Code, Codex and Pi as their own files, every other agent as Hub
# Session Trace Simple files, through the same strip, redaction, gate, manifest and card

ALL_DIRS = ("claude-code", "claude-code-2.1", "codex", "pi", "gemini-cli", "copilot-cli", "otel", "other")
STS_AGENTS = {"gemini", "copilot", "otel"}


@pytest.fixture(scope="module")
def auto_share(tmp_path_factory):
    if not all((SAMPLES / d).is_dir() for d in ALL_DIRS):
        pytest.skip(f"shared samples not found at {SAMPLES} (set TRACELAB_SHARED)")
    root = tmp_path_factory.mktemp("share-auto")
    wh = root / "wh"
    ingest([str(SAMPLES / d) for d in ALL_DIRS], wh)
    out = root / "out"
    res = build_share(wh, out, options=ShareOptions(measure_recall=False), policy=Policy(key=KEY), confirm=lambda r: True)
    return wh, out, res


def _shapes(warehouse, agents) -> dict[str, list]:
    """Per agent, the sorted shapes of the STS documents of its sessions: every message's role,
    model, tool call names and whether it has content, reasoning and a tool call id (the fields
    STS carries, without the text that redaction may change)."""
    from tracelab.ingest.sts.write import sts_documents

    out: dict[str, list] = defaultdict(list)
    for header, msgs in sts_documents(warehouse).values():
        if header["harness"] not in agents:
            continue
        shape = [
            (
                m["role"],
                m.get("model"),
                tuple(c["function"]["name"] for c in m.get("toolCalls", ())),
                bool(m["content"]),
                "reasoningContent" in m,
                "toolCallId" in m,
            )
            for m in msgs
        ]
        out[header["harness"]].append(shape)
    return {a: sorted(v) for a, v in out.items()}


def test_auto_shares_every_agent_native_or_sts_and_passes_the_gate(auto_share):
    wh, out, res = auto_share
    assert res.written and res.check_clean
    con = tracelab.connect(wh)
    agents = {a for (a,) in con.execute("SELECT DISTINCT agent FROM sessions").fetchall()}
    con.close()
    assert STS_AGENTS <= agents and {"claude", "codex", "pi"} <= agents
    assert {p.name for p in out.iterdir() if p.is_dir()} == agents
    assert {r["agent"]: r["format"] for r in res.manifest} == {a: ("sts" if a in STS_AGENTS else "native") for a in agents}
    check = redact_paths(Redactor(Policy(key=KEY)), [str(out)], None, check=True)
    assert check.clean, check.counts("detector")
    cli_check = CliRunner().invoke(cli, ["redact", "--check", str(out), "-q"])
    assert cli_check.exit_code == 0, cli_check.output
    # every STS file is one session: a header with the agent as harness, then messages
    for r in res.manifest:
        if r["format"] == "sts":
            assert len(r["files"]) == 1
            lines = [json.loads(x) for x in (out / r["files"][0]["path"]).read_text(encoding="utf-8").splitlines()]
            assert lines[0]["type"] == "session" and lines[0]["harness"] == r["agent"] and all(x["type"] == "message" for x in lines[1:])
            assert "tracelab" not in lines[0]  # the export's session_key extension stays home
    authors = re.compile(rb"(?<![A-Za-z])(?:dain|badlogic)(?![A-Za-z])")
    for p in out.rglob("*"):
        if p.is_file():
            assert not authors.search(p.read_bytes()), p


def test_auto_manifest_hashes_match_and_card_totals_equal_the_manifest(auto_share):
    _, out, res = auto_share
    rows = [json.loads(x) for x in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows == res.manifest
    listed = set()
    for row in rows:
        h = hashlib.sha256()
        for f in row["files"]:
            data = (out / f["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"]
            h.update(f"{f['path']}\0{f['sha256']}\n".encode())
            listed.add(f["path"])
        assert h.hexdigest() == row["content_sha256"]
        assert row["redaction"]["policy_hash"] == Policy(key=KEY).policy_hash()
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"README.md", "manifest.jsonl"}
    assert on_disk == listed
    card = (out / "README.md").read_text(encoding="utf-8")
    meta = _front_matter(card)
    assert "traces" in meta["tags"] and {"gemini-cli", "copilot-cli", "otel"} <= set(meta["tags"])
    assert "Session Trace Simple" in card
    agents: dict = defaultdict(Counter)
    for r in rows:
        a = agents[r["agent"]]
        a["sessions"] += 1
        a["subagents"] += r["is_subagent"]
        a["calls"] += r["counts"]["n_llm_calls"]
        a["tools"] += r["counts"]["n_tool_calls"]
        a["tokens"] += sum(r["tokens"][k] for k in TOKENS[:4])
    table = _table(card, "| agent | main sessions | subagent sessions | LLM calls | tool calls | tokens | first day | last day |")
    assert {t[0]: [int(x) for x in t[1:6]] for t in table} == {
        a: [c["sessions"] - c["subagents"], c["subagents"], c["calls"], c["tools"], c["tokens"]] for a, c in agents.items()
    }
    assert all(agents[a]["sessions"] > 0 for a in STS_AGENTS)


def test_auto_reingest_gives_the_same_sessions_messages_and_tool_calls(auto_share, tmp_path):
    wh, out, res = auto_share
    wh2 = tmp_path / "wh2"
    s = ingest([str(out / a) for a in sorted(STS_AGENTS)], wh2)
    assert s.files_failed == 0 and s.lines_rejected == 0  # every STS line written is read back
    ingest([str(p) for p in sorted(out.iterdir()) if p.is_dir() and p.name not in STS_AGENTS], wh2)
    before, after = _totals(wh), _totals(wh2)
    # native agents: the same sessions, events and tokens (ids as in the native test)
    r = Redactor(Policy(key=KEY, usernames=("dain",)))
    native = {a: v[:-1] + (sorted(r.redact_text(i)[0] for i in v[-1]),) for a, v in before.items() if a not in STS_AGENTS}
    assert native == {a: v[:-1] + (sorted(v[-1]),) for a, v in after.items() if a not in STS_AGENTS}
    # STS agents: every session comes back under its agent, with the same messages and tool calls
    assert {a: v[0] for a, v in after.items() if a in STS_AGENTS} == {a: v[0] for a, v in before.items() if a in STS_AGENTS}
    assert sum(v[0] for v in after.values()) == res.sessions
    sb, sa = _shapes(wh, STS_AGENTS), _shapes(wh2, STS_AGENTS)
    assert sa == sb and sum(len(m) for v in sa.values() for m in v) > 1000

    def tools(w, key):
        con = tracelab.connect(w)
        try:
            return con.execute(
                f"SELECT agent, tool_name, count(*) FILTER (WHERE {key}), count(*) FROM tool_calls WHERE agent IN ('gemini', 'copilot', 'otel') GROUP BY ALL ORDER BY ALL"
            ).fetchall()
        finally:
            con.close()

    assert tools(wh2, "status <> 'no_result'") == tools(wh, "tool_call_id IS NOT NULL AND status <> 'no_result'")


def test_format_sts_writes_native_agents_as_sts_too(shared, tmp_path):
    wh = shared[0]
    res = build_share(wh, tmp_path / "o", options=ShareOptions(agent="pi", format="sts", measure_recall=False), policy=Policy(key=KEY), confirm=lambda r: True)
    assert res.check_clean and {r["format"] for r in res.manifest} == {"sts"} and res.files == res.sessions == _totals(wh)["pi"][0]
    wh2 = tmp_path / "wh2"
    ingest([str(tmp_path / "o" / "pi")], wh2)
    assert _totals(wh2)["pi"][0] == res.sessions
    assert _shapes(wh2, {"pi"}) == _shapes(wh, {"pi"})
    nat = build_share(
        wh, tmp_path / "n", options=ShareOptions(agent="pi", format="native", measure_recall=False), policy=Policy(key=KEY), confirm=lambda r: True
    )
    assert {r["format"] for r in nat.manifest} == {"native"}
    bad = CliRunner().invoke(cli, ["share", str(tmp_path / "x"), "-w", str(wh), "--format", "parquet", "--yes", "--no-recall"])
    assert bad.exit_code == 2 and "parquet" in bad.output and not (tmp_path / "x").exists()
