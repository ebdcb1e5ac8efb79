"""``tracelab ingest hf://datasets/ORG/NAME[@REV]`` offline, from a Hub cache that
huggingface_hub's own cache functions lay out in the test (no network), and ``sessions.source``."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

import tracelab
from tracelab.cli import cli
from tracelab.errors import InputError
from tracelab.ingest.hub import parse_url, resolve_dataset
from tracelab.pipeline import ingest

SHARED = Path(os.environ["TRACELAB_SHARED"]) if os.environ.get("TRACELAB_SHARED") else Path(__file__).resolve().parents[1].parent / "shared"
SAMPLES = SHARED / "samples"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
SESSION = "0ccf1a04-1b4c-43b6-8aa5-79e41db43a68"  # claude-code-2.1: a session with subagents/


def _lay_out_cache(cache: Path, repo_id: str, files: dict[str, Path]) -> None:
    """A dataset snapshot in huggingface_hub's cache layout, written by huggingface_hub's own
    helpers: blobs/<hash>, snapshots/<commit>/<path> symlinks into them, refs/main."""
    from huggingface_hub import file_download as fd

    storage = cache / fd.repo_folder_name(repo_id=repo_id, repo_type="dataset")
    for rel, src in files.items():
        data = src.read_bytes()
        blob = storage / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        pointer = Path(fd._get_pointer_path(str(storage), COMMIT, rel))
        pointer.parent.mkdir(parents=True, exist_ok=True)
        fd._create_symlink(str(blob), str(pointer), new_blob=False)
    fd._cache_commit_hash_for_specific_revision(str(storage), "main", COMMIT)
    (storage / "refs").mkdir(exist_ok=True)
    (storage / "refs" / "main").write_text(COMMIT)


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES} (set TRACELAB_SHARED)")
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRACELAB_HUB_DIR", str(tmp_path / "mirror"))

    def no_network(*a, **k):
        raise AssertionError("network access")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    base = SAMPLES / "claude-code-2.1"
    files = {f"claude/{p.relative_to(base).as_posix()}": p for p in sorted(base.rglob("*")) if p.is_file() and SESSION in p.relative_to(base).as_posix()}
    files["pi/agent-sessions__pi_small.jsonl"] = SAMPLES / "pi" / "agent-sessions__pi_small.jsonl"
    _lay_out_cache(cache, "acme/agent-traces", files)
    return tmp_path, files


def test_parse_url():
    assert parse_url("hf://datasets/acme/traces") == ("acme/traces", None)
    assert parse_url("hf://datasets/acme/traces@v2") == ("acme/traces", "v2")
    for bad in ("hf://datasets/acme", "hf://models/a/b", "hf://datasets/a/b/c"):
        with pytest.raises(InputError):
            parse_url(bad)


def test_hub_dataset_ingests_offline_with_its_source(offline_hub):
    tmp, files = offline_hub
    assert any("/subagents/" in k for k in files)
    from huggingface_hub import scan_cache_dir

    info = scan_cache_dir()
    assert [r.repo_id for r in info.repos] == ["acme/agent-traces"]  # huggingface_hub reads the cache it laid out
    folder = resolve_dataset("hf://datasets/acme/agent-traces")
    assert folder.name == f"agent-traces@{COMMIT}" and not any(p.is_symlink() for p in folder.rglob("*"))
    # the same folder, by the revision or the commit
    assert resolve_dataset(f"hf://datasets/acme/agent-traces@{COMMIT}") == folder

    wh = tmp / "wh"
    ingest(["hf://datasets/acme/agent-traces@main"], wh)
    local = tmp / "wh-local"
    copy = tmp / "copy"
    for rel, src in files.items():
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, copy / rel)
    ingest([str(copy)], local)
    q = "SELECT agent, session_id, subagent_id, n_events, input_tokens + output_tokens, source FROM sessions ORDER BY agent, session_id, subagent_id NULLS FIRST"
    con, con2 = tracelab.connect(wh), tracelab.connect(local)
    hub_rows, local_rows = con.execute(q).fetchall(), con2.execute(q).fetchall()
    assert [r[:5] for r in hub_rows] == [r[:5] for r in local_rows] and len(hub_rows) >= 3
    assert any(r[2] for r in hub_rows)  # the subagent sessions came along, linked to their parent
    assert {r[5] for r in hub_rows} == {f"hf://datasets/acme/agent-traces@{COMMIT}"}
    assert {r[5] for r in local_rows} == {str(copy / "claude"), str(copy / "claude" / SESSION / "subagents"), str(copy / "pi")}


def test_uncached_dataset_offline_is_one_clear_error(offline_hub):
    tmp, _ = offline_hub
    res = CliRunner().invoke(cli, ["ingest", "hf://datasets/acme/not-cached", "-w", str(tmp / "wh"), "-q"])
    assert res.exit_code != 0 and "not in the Hugging Face cache" in res.output and "Traceback" not in res.output
