"""`tracelab redact`: layouts, the --check gate, reports, rule files, literals, keys."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracelab.cli import cli

SHARED = Path(os.environ["TRACELAB_SHARED"]) if os.environ.get("TRACELAB_SHARED") else Path(__file__).resolve().parents[1].parent / "shared"
GH = "ghp_" + "Zr4Tq8Wm2Xn6Yb1Vc5Ud9Se3Rf7Pg0Hk2Jl4"
PW = "Kx7!mQ2#vB9p"


def _claude_tree(root: Path) -> Path:
    proj = root / "projects" / "-Users-alicew-src-app"
    (proj / "sess-1" / "subagents").mkdir(parents=True)
    main = [
        {"type": "user", "cwd": "/Users/alicew/src/app", "sessionId": "sess-1", "message": {"role": "user", "content": f"use {GH} for the push"}},
        {
            "type": "assistant",
            "cwd": "/Users/alicew/src/app",
            "message": {"content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": f"DB_PASSWORD={PW} ./migrate"}}]},
        },
        {"type": "summary", "summary": "Fix the deploy", "leafUuid": "x"},
    ]
    (proj / "sess-1.jsonl").write_text("".join(json.dumps(x) + "\n" for x in main), encoding="utf-8")
    (proj / "sess-1" / "subagents" / "agent-a1.jsonl").write_text(
        json.dumps({"type": "user", "message": {"content": "no secrets, just text"}}) + "\n", encoding="utf-8"
    )
    (proj / "sess-1" / "subagents" / "agent-a1.meta.json").write_text(
        json.dumps({"agentType": "general-purpose", "worktreePath": "/Users/alicew/wt"}), encoding="utf-8"
    )
    (proj / "notes.md").write_text(f"token {GH}\n", encoding="utf-8")
    return root / "projects"


def _run(args: list[str], env: dict | None = None):
    return CliRunner().invoke(cli, ["redact", *args], env={"TRACELAB_REDACT_KEY": "cli-key", **(env or {})})


def test_help():
    res = CliRunner().invoke(cli, ["redact", "--help"])
    assert res.exit_code == 0 and "--check" in res.output and "--rules" in res.output


def test_out_is_required_without_check(tmp_path):
    res = _run([str(_claude_tree(tmp_path))])
    assert res.exit_code == 2 and "--out" in res.output


def test_redact_directory_keeps_layout_and_gate_passes(tmp_path):
    src = _claude_tree(tmp_path / "in")
    out = tmp_path / "out"
    res = _run([str(src), "--out", str(out), "--report", str(tmp_path / "rep.json"), "-q"])
    assert res.exit_code == 0, res.output
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert len(files) == 3 and not any("alicew" in f for f in files)
    proj = files[0].split("/")[0]
    assert proj.startswith("-Users-user_") and proj.endswith("-src-app")
    assert files == [f"{proj}/sess-1.jsonl", f"{proj}/sess-1/subagents/agent-a1.jsonl", f"{proj}/sess-1/subagents/agent-a1.meta.json"]
    text = (out / files[0]).read_text(encoding="utf-8")
    assert GH not in text and PW not in text and "alicew" not in text
    lines = [json.loads(x) for x in text.splitlines()]
    assert [x["type"] for x in lines] == ["user", "assistant", "summary"]
    assert lines[0]["message"]["content"] == "use [REDACTED:github_token] for the push"
    assert (out / files[1]).read_bytes() == (src / "-Users-alicew-src-app" / "sess-1" / "subagents" / "agent-a1.jsonl").read_bytes()
    rep = json.loads((tmp_path / "rep.json").read_text())
    assert rep["mode"] == "redact" and rep["policy_version"].startswith("tracelab-redact")
    assert rep["totals"]["skipped_files"] == 1 and rep["by_kind"]["github_token"] == 1
    blob = json.dumps(rep)
    assert GH not in blob and PW not in blob and "alicew" not in blob
    gate_in = _run(["--check", str(src), "-q"])
    gate_out = _run(["--check", str(out), "-q"])
    assert gate_in.exit_code == 1 and gate_out.exit_code == 0


def test_keep_names_and_multiple_inputs(tmp_path):
    src = _claude_tree(tmp_path / "in")
    single = src / "-Users-alicew-src-app" / "sess-1.jsonl"
    out = tmp_path / "out"
    res = _run([str(src), str(single), "--out", str(out), "--keep-names", "-q"])
    assert res.exit_code == 0, res.output
    assert (out / "projects" / "-Users-alicew-src-app" / "sess-1.jsonl").exists()
    assert (out / "sess-1.jsonl").exists()


def test_refuses_to_write_inside_the_input(tmp_path):
    src = _claude_tree(tmp_path / "in")
    res = _run([str(src), "--out", str(src / "shared")])
    assert res.exit_code == 2 and "inside input" in res.output


def test_same_key_same_pseudonyms_across_runs(tmp_path):
    src = _claude_tree(tmp_path / "in")
    outs = []
    for i, key in enumerate(["k1", "k1", "k2"]):
        out = tmp_path / f"o{i}"
        assert _run([str(src), "--out", str(out), "-q"], env={"TRACELAB_REDACT_KEY": key}).exit_code == 0
        outs.append(sorted(p.name for p in out.iterdir()))
    assert outs[0] == outs[1] != outs[2]


def test_json_report_on_stdout_and_check_findings(tmp_path):
    src = _claude_tree(tmp_path / "in")
    res = _run(["--check", "--json", str(src)])
    assert res.exit_code == 1
    rep = json.loads(res.output)
    assert rep["mode"] == "check" and not rep["clean"]
    f = next(x for x in rep["findings"] if x["detector"] == "github-token")
    assert f["line"] == 1 and f["path"] == "$.message.content" and f["length"] == len(GH)
    assert GH not in res.output


def test_deny_secret_file_and_literals(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "s.jsonl").write_text(json.dumps({"type": "user", "message": {"content": "ProjectFalcon uses zq-41-internal-value-77"}}) + "\n", encoding="utf-8")
    secrets = tmp_path / "secrets.txt"
    secrets.write_text("# my values\nzq-41-internal-value-77\n", encoding="utf-8")
    out = tmp_path / "out"
    res = _run([str(d / "s.jsonl"), "--out", str(out), "--deny", "projectfalcon", "--secret-file", str(secrets), "-q"])
    assert res.exit_code == 0, res.output
    content = json.loads((out / "s.jsonl").read_text())["message"]["content"]
    assert content == "[REDACTED:deny] uses [REDACTED:known_secret]"


def test_secret_named_environment_values_are_known_secrets(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "s.jsonl").write_text(json.dumps({"message": {"content": "value plainlookingvalue99 here"}}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert _run([str(d), "--out", str(out), "-q"], env={"MYAPP_API_TOKEN": "plainlookingvalue99"}).exit_code == 0
    assert "plainlookingvalue99" not in (out / "s.jsonl").read_text()
    out2 = tmp_path / "out2"
    assert _run([str(d), "--out", str(out2), "--no-env-secrets", "-q"], env={"MYAPP_API_TOKEN": "plainlookingvalue99"}).exit_code == 0
    assert "plainlookingvalue99" in (out2 / "s.jsonl").read_text()


def test_gitleaks_rules_file(tmp_path):
    toml = SHARED / "redaction" / "gitleaks" / "config" / "gitleaks.toml"
    if not toml.exists():
        pytest.skip(f"gitleaks rules not found at {toml} (set TRACELAB_SHARED)")
    d = tmp_path / "in"
    d.mkdir()
    (d / "s.jsonl").write_text(json.dumps({"message": {"content": "sgp_0D697F54cb24238EefB29af05Abf1b505E90950F"}}) + "\n", encoding="utf-8")
    res = _run(["--check", "--json", "--no-builtin", "--rules", str(toml), str(d)])
    rep = json.loads(res.output)
    assert res.exit_code == 1 and rep["by_detector"] == {"sourcegraph-access-token": 1}
    assert [e["id"] for e in rep["rule_errors"]] == ["pkcs12-file"]


def test_redact_and_check_print_one_policy_hash_without_a_key(tmp_path):
    src = _claude_tree(tmp_path / "in")
    out = tmp_path / "out"
    env = {"TRACELAB_REDACT_KEY": ""}
    red = CliRunner().invoke(cli, ["redact", str(src), "--out", str(out), "--json"], env=env)
    chk = CliRunner().invoke(cli, ["redact", "--check", str(out), "--json"], env=env)
    assert red.exit_code == 0 and chk.exit_code == 0, (red.output, chk.output)
    a, b = json.loads(red.stdout), json.loads(chk.stdout)
    assert a["policy_fingerprint"] == b["policy_fingerprint"] and a["policy_version"] == b["policy_version"] == "tracelab-redact/2"
    assert b["clean"] and not a["clean"]
