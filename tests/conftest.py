"""Shared fixtures: where ../shared is, and warehouses built once per test session (per worker)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    env = os.environ.get("TRACELAB_SHARED")
    return Path(env) if env else REPO.parent / "shared"


SHARED = shared_dir()
SAMPLES = SHARED / "samples"


def require_samples(agent: str = "claude-code") -> Path:
    d = SAMPLES / agent
    if not d.is_dir():
        pytest.skip(f"shared samples not found at {d} (set TRACELAB_SHARED)")
    return d


def copy_samples(tmp_path_factory, name: str, agents: tuple[str, ...]) -> Path:
    """A fresh directory (``name``, numbered) holding a copy of the samples of ``agents``, one
    folder each: inputs a test may change, or whose paths no other test's warehouse shares."""
    import shutil

    root = tmp_path_factory.mktemp(name)
    for agent in agents:
        shutil.copytree(require_samples(agent), root / agent)
    return root


def clean_ingest(tmp_path_factory, name: str, paths: list[Path]) -> Path:
    """A warehouse (``<name>/wh``) from one ingest of ``paths`` (the reference a repaired or
    rolled-back warehouse is compared with)."""
    from tracelab.pipeline import ingest

    wh = tmp_path_factory.mktemp(name) / "wh"
    summary = ingest([str(p) for p in paths], wh, jobs=1)
    assert summary.files_failed == 0, summary.errors
    return wh


def nonblank_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


@pytest.fixture(scope="session")
def claude_samples() -> Path:
    return require_samples("claude-code")


@pytest.fixture(scope="session")
def claude_wh(tmp_path_factory, claude_samples) -> Path:
    """A warehouse holding every Claude Code sample."""
    from tracelab.pipeline import ingest

    wh = tmp_path_factory.mktemp("claude_wh")
    summary = ingest([str(claude_samples)], wh, jobs=1)
    assert summary.files_failed == 0, summary.errors
    return wh


def samples_warehouse(tmp_path_factory) -> Path:
    """A warehouse built from all of ``../shared/samples`` (every agent, read in place): the
    real-data corpus of the read side (charts, report sections, notebooks). Built once per test
    run; a file lock makes xdist workers share it."""
    import fcntl

    from tracelab.pipeline import ingest

    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES} (set TRACELAB_SHARED)")
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    d = root / "samples-warehouse"
    with open(root / "samples-warehouse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (d / "done").exists():
            import shutil

            shutil.rmtree(d, ignore_errors=True)
            summary = ingest([str(SAMPLES)], d / "wh", jobs=1)
            assert summary.files_failed == 0, summary.errors
            (d / "done").write_text("ok")
    return d / "wh"


@pytest.fixture(scope="session")
def samples_wh(tmp_path_factory) -> Path:
    return samples_warehouse(tmp_path_factory)


@pytest.fixture(autouse=True)
def _isolate_home(tmp_path, monkeypatch):
    """Never read the real machine's agent logs from tests."""
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "no-claude"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "no-codex"))
    monkeypatch.setenv("PI_AGENT_DIR", str(tmp_path / "no-pi"))
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path / "no-gemini"))
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "no-copilot"))
