"""A directory mixing every supported format (Claude Code incl. 2.1 subagent folders, Codex, Pi,
Gemini CLI documents, Copilot CLI event logs, OpenTelemetry exports) ingests with no flags to
the same tables as ingesting each sample folder on its own; recognised but unsupported files
are named, other JSON is passed over."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from conftest import SAMPLES

from tracelab.catalog import connect
from tracelab.ingest import registry
from tracelab.pipeline import ingest

DIRS = {"claude-code": "claude", "claude-code-2.1": "claude", "codex": "codex", "pi": "pi", "gemini-cli": "gemini", "copilot-cli": "copilot", "otel": "otel"}


def _sessions_files(d: Path) -> list[Path]:
    return sorted(p for p in d.rglob("*") if p.is_file() and (p.suffix == ".jsonl" or (d.name == "gemini-cli" and p.suffix == ".json")))


def _dump(wh: Path) -> dict:
    con = connect(wh)
    out = {}
    for t in ("events", "llm_calls", "tool_calls", "sessions", "rejects"):
        cols = [c[0] for c in con.execute(f"DESCRIBE {t}").fetchall()]
        out[t] = con.execute("SELECT " + ", ".join(f'"{c}"' for c in cols) + f" FROM {t} ORDER BY ALL").fetchall()
    out["files"] = con.execute("SELECT path, agent, lines_total, lines_ingested, lines_duplicate, lines_rejected FROM files ORDER BY path").fetchall()
    con.close()
    return out


@pytest.fixture(scope="module")
def mixed_dir(tmp_path_factory):
    for d in DIRS:
        if not (SAMPLES / d).is_dir():
            pytest.skip(f"shared samples missing: {SAMPLES / d}")
    mixed = tmp_path_factory.mktemp("mixed_all")
    for d in DIRS:
        for f in sorted(p for p in (SAMPLES / d).rglob("*") if p.is_file()):
            rel = f.relative_to(SAMPLES / d)
            # no layout hints: one folder, names prefixed (Claude 2.1 keeps its subagents/ folder,
            # which is where those files live)
            parts = rel.parts if d == "claude-code-2.1" else ("__".join(rel.parts),)
            dest = mixed / "all" / (d.replace("-", "_").replace(".", "_") + "__" + parts[0])
            dest = dest.joinpath(*parts[1:])
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(f, dest)
    return mixed


def test_every_format_detected_by_content(mixed_dir, tmp_path):
    s = ingest([str(mixed_dir)], tmp_path / "wh", jobs=1)
    assert s.files_failed == 0, s.errors
    expected: dict[str, int] = {}
    for d, a in DIRS.items():
        expected[a] = expected.get(a, 0) + len(_sessions_files(SAMPLES / d))
    con = connect(tmp_path / "wh")
    got = dict(con.execute("SELECT agent, count(*) FROM files GROUP BY 1").fetchall())
    assert got == expected
    for path, agent in con.execute("SELECT path, agent FROM files").fetchall():
        assert DIRS[Path(path).relative_to(SAMPLES.resolve()).parts[0]] == agent, path
    con.close()
    # metadata .json beside the sessions (Entire metadata, subagent .meta.json, pi's fixture) is
    # passed over silently, never reported as a failed session
    assert not [m for m in s.skipped if m.endswith(".json")]


def test_mixed_equals_each_format_separately(mixed_dir, tmp_path):
    ingest([str(mixed_dir)], tmp_path / "mixed", jobs=1)
    for d in DIRS:
        ingest([str(SAMPLES / d)], tmp_path / "separate", jobs=1)
    a, b = _dump(tmp_path / "mixed"), _dump(tmp_path / "separate")
    for table in a:
        assert a[table] == b[table], table


def test_unsupported_formats_are_named(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    db = d / "opencode.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE session (id TEXT, data TEXT)")
    con.commit()
    con.close()
    (d / "settings.json").write_text('{"theme": "dark"}')
    (d / "notes.jsonl").write_text('{"hello": "world"}\n')
    s = ingest([str(d)], tmp_path / "wh", jobs=1)
    assert s.files_parsed == 0
    assert any("opencode.db: an OpenCode SQLite database" in m for m in s.skipped), s.skipped
    assert any(m.endswith("notes.jsonl: content matches no known agent format") for m in s.skipped)
    assert not any("settings.json" in m for m in s.skipped)
    assert "OpenCode" in registry.unsupported_format(db)
    # named explicitly, the message names the format too
    s = ingest([str(db)], tmp_path / "wh2", jobs=1)
    assert any("OpenCode SQLite database" in m for m in s.skipped), s.skipped


@pytest.mark.parametrize("agent", ["gemini", "copilot", "otel"])
def test_agent_flag_accepts_new_names(agent, tmp_path):
    src = {
        "gemini": SAMPLES / "gemini-cli" / "aim-supabase_ssr-vanilla_session.json",
        "copilot": SAMPLES / "copilot-cli" / "agent-engram-07c40cd0-events.jsonl",
        "otel": SAMPLES / "otel" / "agentsview-sample-1_VSGitHubCopilot_traces.jsonl",
    }[agent]
    if not src.exists():
        pytest.skip("samples missing")
    from click.testing import CliRunner

    from tracelab.cli import cli

    r = CliRunner().invoke(cli, ["ingest", str(src), "--agent", agent, "-w", str(tmp_path / "wh"), "--json", "-q"])
    assert r.exit_code == 0, r.output
    con = connect(tmp_path / "wh")
    assert con.execute("SELECT DISTINCT agent FROM files").fetchall() == [(agent,)]
    con.close()
