"""A warehouse of the real samples of the four agent folders, built once per test module
(each module wraps :func:`build_samples_wh` in a module-scoped fixture)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SAMPLES, require_samples

AGENT_DIRS = ("claude-code", "claude-code-2.1", "codex", "pi")


def build_samples_wh(tmp_path_factory) -> Path:
    """Ingest the samples of ``AGENT_DIRS`` into a new warehouse (skips without the samples)."""
    for d in AGENT_DIRS:
        require_samples(d)
    from tracelab.pipeline import ingest

    w = tmp_path_factory.mktemp("session_wh")
    summary = ingest([str(SAMPLES / d) for d in AGENT_DIRS], w, jobs=1)
    assert summary.files_failed == 0, summary.errors
    return w
