"""``tracelab suggest``: measured against the planted truth of ``tracelab synth --plant``,
the documented Claude Code permission-rule grammar, and the real samples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from conftest import require_samples
from hypothesis import given, settings
from hypothesis import strategies as st

import tracelab
from tracelab.cli import cli
from tracelab.suggest import measure, render
from tracelab.suggest.patch import apply, diff, planned_changes, write_patch
from tracelab.suggest.shell import common_prefix, simplify
from tracelab.synth import generate

SEEDS = (1, 2, 3)


def _corpus(root: Path, seed: int) -> tuple[Path, dict]:
    from tracelab.pipeline import ingest

    truth = generate(root / "corpus", sessions=4, seed=seed, plant=True, plant_sessions=28, jobs=1)
    wh = root / "wh"
    summary = ingest([str(root / "corpus" / a) for a in ("claude", "codex", "pi")], wh, jobs=1)
    assert summary.files_failed == 0
    return wh, truth


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    return {seed: _corpus(tmp_path_factory.mktemp(f"suggest{seed}"), seed) for seed in SEEDS}


@pytest.fixture(scope="module")
def frames(corpora):
    return {seed: tracelab.suggest(wh) for seed, (wh, _truth) in corpora.items()}


# ------------------------------------------------------------------ acceptance on planted truth
@pytest.mark.parametrize("seed", SEEDS)
def test_planted_rules_precision_recall(seed, corpora, frames):
    _wh, truth = corpora[seed]
    s = measure.score(frames[seed], truth["planted"])
    for kind in ("permission", "instruction"):
        assert s[kind]["precision"] >= 0.9, (kind, s[kind])
        assert s[kind]["recall"] >= 0.9, (kind, s[kind])
    assert s["broader_allow"] == []


@pytest.mark.parametrize("seed", SEEDS)
def test_pattern_that_stops_halfway_does_not_hold(seed, corpora, frames):
    _wh, truth = corpora[seed]
    s = measure.score(frames[seed], truth["planted"])
    for rule in truth["planted"]["instruction_rules"]:
        expected = "does not hold" if rule["id"] in truth["planted"]["stops_halfway"] else "holds"
        assert s["oot"][rule["id"]] == expected, rule["id"]


def test_allow_backtest_measures_the_planted_approval_waits(corpora, frames):
    _wh, truth = corpora[1]
    df = frames[1].filter((pl.col("project") == truth["planted"]["project"]) & (pl.col("decision") == "allow"))
    for rule in truth["planted"]["permission_rules"]:
        if rule["decision"] != "allow":
            continue
        row = df.filter(pl.col("rule") == rule["claude_rule"]).row(0, named=True)
        assert row["backtest_calls"] == rule["approvals"]
        # the wait is estimated as latency minus the fastest matching call's latency
        assert 0.5 <= row["backtest_minutes"] / (rule["approval_wait_ms"] / 60_000) <= 1.2, (rule["id"], row["backtest_minutes"])


def test_deny_backtest_blocks_exactly_the_rejected_calls(corpora, frames):
    _wh, truth = corpora[2]
    df = frames[2].filter(pl.col("project") == truth["planted"]["project"])
    for rule in truth["planted"]["permission_rules"]:
        if rule["decision"] == "deny":
            row = df.filter((pl.col("decision") == "deny") & (pl.col("rule") == rule["claude_rule"])).row(0, named=True)
            assert row["backtest_calls"] == row["n_events"] == rule["rejections"]
            assert row["n_sessions"] == rule["sessions"]


def test_evidence_columns(frames):
    df = frames[3]
    assert df["id"].n_unique() == df.height
    for r in df.iter_rows(named=True):
        assert r["n_events"] >= 1 and r["first_seen"] <= r["last_seen"]
        assert 1 <= len(r["examples"]) <= 3
        assert all(re.fullmatch(r"tracelab session \S+ --around \d+", e) for e in r["examples"])
        assert r["oot"] in ("holds", "does not hold", "untested", "new", "n/a")
    instr = df.filter(pl.col("kind") == "instruction")
    assert instr.height and all(c.startswith("te-") for cs in instr["cluster_ids"] for c in cs)


def test_deterministic(corpora, frames):
    wh, _truth = corpora[1]
    again = tracelab.suggest(wh)
    assert again.drop("details").equals(frames[1].drop("details"))


# ------------------------------------------------------------------ Claude Code rule grammar
# Written from the permission-rule grammar in Claude Code's settings/permissions docs:
# a rule is `Tool` or `Tool(specifier)`; Bash specifiers are an exact command or a prefix
# followed by `:*`; MCP rules name `mcp__server` or `mcp__server__tool`.
_TOOLS = r"(?:Bash|Read|Edit|Write|MultiEdit|NotebookEdit|WebFetch|WebSearch|Glob|Grep|LS|Task|TodoWrite)"
RULE = re.compile(rf"^(?:{_TOOLS}(?:\((?:[^()]+)\))?|mcp__[A-Za-z0-9_-]+(?:__[A-Za-z0-9_-]+)?)$")
BASH_PREFIX = re.compile(r"^Bash\((?P<prefix>[^():*][^()]*?)(?P<wild>:\*)?\)$")
DOC_EXAMPLES = [
    "Bash(npm run build)",
    "Bash(npm run test:*)",
    "Bash(git diff:*)",
    "Read(./.env)",
    "Read(./secrets/**)",
    "Edit(/src/**/*.ts)",
    "WebFetch(domain:example.com)",
    "mcp__puppeteer",
    "mcp__puppeteer__puppeteer_navigate",
    "Bash",
]


@pytest.mark.parametrize("rule", DOC_EXAMPLES)
def test_grammar_fixture_accepts_doc_examples(rule):
    assert RULE.match(rule)


def test_claude_settings_snippet_is_valid(frames, tmp_path):
    files = write_patch(frames[1], tmp_path / "out")
    settings_files = [p for p in files if p.name == "settings.json" and p.parent.name == ".claude"]
    assert settings_files
    for p in settings_files:
        data = json.loads(p.read_text())
        assert set(data) <= {"permissions", "hooks"}
        for decision, rules in data.get("permissions", {}).items():
            assert decision in ("allow", "deny", "ask")
            for rule in rules:
                assert RULE.match(rule), rule
                if rule.startswith("Bash("):
                    m = BASH_PREFIX.match(rule)
                    assert m and m["prefix"].strip() == m["prefix"], rule
        for entry in data.get("hooks", {}).get("PreToolUse", []):
            assert entry["matcher"] and all(h["type"] == "command" and h["command"] for h in entry["hooks"])


def test_patch_snippets_exclude_rules_that_do_not_hold(frames, tmp_path):
    write_patch(frames[1], tmp_path / "out")
    claude_md = (tmp_path / "out" / "ledger-sync" / "CLAUDE.md").read_text()
    assert claude_md.startswith(render.SECTION)
    assert "uv run pytest" in claude_md and "black" not in claude_md
    assert "did not hold" in (tmp_path / "out" / "README.md").read_text()


EXISTING = {
    "model": "opus",
    "env": {"FOO": "1"},
    "permissions": {"allow": ["Bash(make test:*)", "Bash(git diff:*)"], "deny": ["Read(./.env)"], "defaultMode": "acceptEdits"},
    "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "notify"}]}]},
}


def _keys(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield prefix + (k,)
            yield from _keys(v, prefix + (k,))


def test_merge_into_existing_settings_keeps_every_key(frames, tmp_path):
    proj = tmp_path / "proj"
    (proj / ".claude").mkdir(parents=True)
    (proj / ".claude" / "settings.json").write_text(json.dumps(EXISTING, indent=2))
    (proj / "CLAUDE.md").write_text("# Project\n\nUse tabs.\n")
    df = frames[1].filter(pl.col("project") == "ledger-sync")
    changes = planned_changes(df, proj)
    assert {p.name for p, _o, _n in changes} == {"settings.json", "CLAUDE.md"}
    assert '+      "Bash(uv run pytest:*)"' in diff(changes)
    done = apply(changes, confirm=lambda _text: True)
    assert all(b is not None and b.exists() for _p, b in done)
    merged = json.loads((proj / ".claude" / "settings.json").read_text())
    assert set(_keys(EXISTING)) <= set(_keys(merged))
    assert merged["model"] == "opus" and merged["permissions"]["defaultMode"] == "acceptEdits"
    assert merged["permissions"]["allow"][:2] == EXISTING["permissions"]["allow"]
    assert "Bash(uv run pytest:*)" in merged["permissions"]["allow"] and "Bash(rm -rf:*)" in merged["permissions"]["deny"]
    md = (proj / "CLAUDE.md").read_text()
    assert md.startswith("# Project\n\nUse tabs.\n") and render.SECTION in md
    # applying again changes nothing
    assert planned_changes(df, proj) == []


def test_apply_declined_writes_nothing(frames, tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    changes = planned_changes(frames[1].filter(pl.col("project") == "ledger-sync"), proj)
    assert apply(changes, confirm=lambda _t: False) == []
    assert not (proj / ".claude").exists() and not (proj / "CLAUDE.md").exists()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(base=st.dictionaries(st.text(max_size=4), json_values, max_size=4), patch=st.dictionaries(st.text(max_size=4), json_values, max_size=4))
def test_merge_never_loses_a_key_or_value(base, patch):
    merged = render.merge(base, patch)
    assert set(_keys(base)) <= set(_keys(merged))

    def scalars_kept(b, m):
        if isinstance(b, dict):
            return isinstance(m, dict) and all(scalars_kept(v, m[k]) for k, v in b.items())
        if isinstance(b, list):
            return isinstance(m, list) and m[: len(b)] == b
        return b == m

    assert scalars_kept(base, merged)


# ------------------------------------------------------------------ shell parsing
@pytest.mark.parametrize(
    "command, text, head",
    [
        ("uv run pytest -q tests/x.py", "uv run pytest -q tests/x.py", ("uv", "run", "pytest")),
        ("cd /repo && npm run build 2>&1 | tail -3", "npm run build", ("npm", "run", "build")),
        ("git diff HEAD~1", "git diff HEAD~1", ("git", "diff")),
        ("FOO=1 make docs", "make docs", ("make", "docs")),
        ("git status && git diff", None, ()),
        ("(source .venv/bin/activate && pytest)", None, ()),
    ],
)
def test_simplify(command, text, head):
    s = simplify(command)
    assert s.text == text and s.head == head


@given(st.lists(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=4), min_size=1, max_size=5))
def test_common_prefix_is_a_prefix_of_every_row(rows):
    p = common_prefix(rows)
    assert all(tuple(r[: len(p)]) == p for r in rows)
    assert len(p) == min(len(r) for r in rows) or len({r[len(p)] for r in rows}) > 1


# ------------------------------------------------------------------ CLI
def test_cli_json_and_table(corpora):
    wh, _truth = corpora[1]
    r = CliRunner().invoke(cli, ["suggest", "-w", str(wh), "--json", "--kind", "permission"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert rows and {x["kind"] for x in rows} == {"permission"}
    r = CliRunner().invoke(cli, ["suggest", "-w", str(wh), "--limit", "3"])
    assert r.exit_code == 0 and "sg-" in r.output


def test_cli_missing_warehouse_is_one_line(tmp_path):
    r = CliRunner().invoke(cli, ["suggest", "-w", str(tmp_path / "nope")])
    assert r.exit_code != 0 and "no tracelab warehouse" in r.output and "Traceback" not in r.output


def test_cli_patch_writes_only_to_out(corpora, tmp_path, monkeypatch):
    wh, _truth = corpora[1]
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["suggest", "-w", str(wh), "--format", "patch", "--out", "snips"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snips"]
    assert (tmp_path / "snips" / "ledger-sync" / ".claude" / "settings.json").exists()


# ------------------------------------------------------------------ feedback
def test_rejected_label_hides_a_suggestion(corpora, frames, tmp_path):
    import shutil

    wh, _truth = corpora[2]
    copy = tmp_path / "wh"
    shutil.copytree(wh, copy)
    sid = frames[2].filter(pl.col("kind") == "permission")["id"][0]
    r = CliRunner().invoke(cli, ["label", f"suggestion:{sid}", "--label", "rejected", "-w", str(copy)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["label", "suggestion:sg-nothex", "--label", "rejected", "-w", str(copy)])
    assert r.exit_code != 0 and "sg-0123456789ab" in r.output
    assert sid not in tracelab.suggest(copy)["id"].to_list()
    assert sid in tracelab.suggest(copy, include_rejected=True)["id"].to_list()
    assert tracelab.suggest(copy).height == frames[2].height - 1


def test_weekly_report_lists_suggested_changes(corpora, tmp_path):
    wh, truth = corpora[1]
    r = CliRunner().invoke(cli, ["report", "weekly", "-w", str(wh), "-o", str(tmp_path), "-f", "md"])
    assert r.exit_code == 0, r.output
    md = next(tmp_path.glob("weekly-*.md")).read_text()
    section = md.split("## Suggested harness changes", 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("| sg-")]
    assert 1 <= len(rows) <= 5
    assert "tracelab session" in section and truth["planted"]["project"] in section


def test_evals_export_for_a_suggestion(corpora, frames, tmp_path):
    wh, _truth = corpora[1]
    df = frames[1].filter(pl.col("project") == "ledger-sync")
    instr = df.filter(pl.col("kind") == "instruction").row(0, named=True)
    r = CliRunner().invoke(cli, ["evals", "export", "-w", str(wh), "--suggestion", instr["id"], "-o", str(tmp_path / "ev"), "-f", "openai", "--json"])
    assert r.exit_code == 0, r.output
    cases = [json.loads(x) for x in (tmp_path / "ev" / "openai_evals.jsonl").read_text().splitlines()]
    assert 1 <= len(cases) <= 5
    for c in cases:
        assert c["ideal"].startswith(instr["rule"]) if "ideal" in c else instr["rule"] in json.dumps(c)
        assert c["metadata"]["project"] == "ledger-sync" and c["metadata"]["cluster_id"] in instr["cluster_ids"]
    allow = df.filter(pl.col("decision") == "allow")["id"][0]
    r = CliRunner().invoke(cli, ["evals", "export", "-w", str(wh), "--suggestion", allow, "-o", str(tmp_path / "ev2")])
    assert r.exit_code != 0 and "allow rule" in r.output


def test_cli_apply_shows_diff_asks_and_keeps_backup(corpora, tmp_path):
    wh, _truth = corpora[1]
    proj = tmp_path / "proj"
    (proj / ".claude").mkdir(parents=True)
    (proj / ".claude" / "settings.json").write_text(json.dumps(EXISTING))
    base = ["suggest", "-w", str(wh), "--project", "ledger-sync", "--apply", str(proj)]
    r = CliRunner().invoke(cli, base, input="n\n")
    assert r.exit_code == 0 and "+++ b/" in r.output and "nothing written" in r.output
    assert json.loads((proj / ".claude" / "settings.json").read_text()) == EXISTING
    r = CliRunner().invoke(cli, [*base, "--yes"])
    assert r.exit_code == 0 and "backup" in r.output
    assert len(list((proj / ".claude").glob("settings.json.*.bak"))) == 1
    assert "Bash(rm -rf:*)" in json.loads((proj / ".claude" / "settings.json").read_text())["permissions"]["deny"]


@pytest.mark.parametrize(
    "prefix, ok",
    [
        (("git", "status"), True),
        (("uv", "run", "pytest"), True),
        (("mise", "run", "test"), True),
        (("git",), False),
        (("git", "-C"), False),
        (("uv", "run"), False),
        (("rm", "-rf"), False),
        (("act",), False),
        (("act", "-l"), False),
        (("docker", "compose", "up"), False),
        (("./scripts/deploy.sh",), False),
    ],
)
def test_allow_is_never_suggested_for_unsafe_prefixes(prefix, ok):
    from tracelab.suggest.shell import allow_safe

    assert allow_safe(prefix) is ok


# ------------------------------------------------------------------ calls whose input is unknown
def test_calls_without_recorded_input_never_make_a_suggestion(tmp_path):
    """The OTel samples carry `bash` spans without arguments: 66 identical-looking calls in runs
    of up to 31. They once became "Do not repeat `` unchanged"; no suggestion may have an empty
    pattern, and no loop may rest on calls whose input was not recorded."""
    from tracelab.pipeline import ingest

    otel = require_samples("otel")
    wh = tmp_path / "wh"
    ingest([str(otel)], wh, jobs=1)
    con = tracelab.connect(wh)
    try:
        calls = con.sql("SELECT count(*) FROM tool_calls WHERE agent = 'otel' AND input_json IS NULL AND repeat_run_no IS NOT NULL").fetchall()[0]
    finally:
        con.close()
    assert calls is not None and calls[0] >= 30  # the case is really there
    df = tracelab.suggest(wh, min_events=1, min_sessions=1)
    assert df.filter(pl.col("pattern").str.strip_chars() == "").is_empty(), df.select("kind", "tool", "pattern")
    assert df.filter((pl.col("kind") == "loop") & (pl.col("tool") == "bash")).is_empty()


def test_loop_needs_a_known_input():
    from tracelab.suggest.hooks import _loops
    from tracelab.suggest.model import Thresholds

    def frame(known: bool, preview: str | None) -> pl.DataFrame:
        n = 6
        return pl.DataFrame(
            {
                "session_key": ["s1"] * 3 + ["s2"] * 3,
                "is_sidechain": [False] * n,
                "repeat_run_no": [1] * n,
                "agent": ["otel"] * n,
                "project": ["p"] * n,
                "tool_name": ["bash"] * n,
                "input_hash": [7] * n,
                "simple": [None] * n,
                "input_preview": [preview] * n,
                "input_known": [known] * n,
            },
            schema_overrides={"input_hash": pl.UInt64, "simple": pl.String, "input_preview": pl.String},
        )

    th = Thresholds.of(1, 1)
    assert _loops(frame(False, None), th) == []
    assert _loops(frame(True, ""), th) == []  # known but empty: nothing to name
    [s] = _loops(frame(True, '{"query": "x"}'), th)
    assert s.pattern == '{"query": "x"}'
