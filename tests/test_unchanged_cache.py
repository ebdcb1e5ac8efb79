"""The no-op ingest shortcut (tracelab.ingest.unchanged): it answers exactly what the full path
would, and steps aside whenever anything that could change the answer has changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import require_samples

from tracelab.ingest import unchanged
from tracelab.pipeline import ingest
from tracelab.store.warehouse import Warehouse

OLD = time.time() - 3600  # an hour ago: outside the racy window


def _age(root: Path) -> None:
    """Set every file's and directory's mtime an hour back, deepest first."""
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        for f in filenames:
            os.utime(os.path.join(dirpath, f), (OLD, OLD))
        os.utime(dirpath, (OLD, OLD))


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A few real sample files of each agent in nested directories, plus one non-session file."""
    root = tmp_path / "corpus"
    for agent, n in (("claude-code", 4), ("codex", 3), ("pi", 2)):
        src = require_samples(agent)
        for i, f in enumerate(sorted(src.rglob("*.jsonl"))[:n]):
            dest = root / agent / f"d{i % 2}" / f.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
    (root / "notes.jsonl").write_text('{"hello": "world"}\n')
    _age(root)
    return root


def _comparable(s) -> dict:
    d = s.to_dict()
    d.pop("seconds")  # timings differ by nature
    d.pop("phases")
    return d


def test_answers_what_the_full_path_answers(corpus, tmp_path):
    wh = tmp_path / "wh"
    first = ingest([str(corpus)], wh, jobs=1)
    assert first.files_parsed == 9 and first.skipped and not first.errors
    assert (wh / unchanged.CACHE).is_file()
    cached = unchanged.check([str(corpus)], wh)
    assert cached is not None
    full = ingest([str(corpus)], wh, jobs=1, use_cache=False)
    assert full.files_parsed == 0 and full.files_unchanged == 9
    assert _comparable(cached) == _comparable(full)
    assert cached.rows["events"] > 0 and cached.skipped == first.skipped


@pytest.mark.parametrize("change", ["append", "new_file", "new_subdir_file", "delete", "rename", "touch_same_size", "skipped_file"])
def test_any_change_to_the_inputs_disables_it(corpus, tmp_path, change):
    wh = tmp_path / "wh"
    ingest([str(corpus)], wh, jobs=1)
    assert unchanged.check([str(corpus)], wh) is not None
    files = sorted((corpus / "claude-code").rglob("*.jsonl"))
    if change == "append":
        line = files[0].read_bytes().splitlines()[-1]
        with open(files[0], "ab") as fh:
            fh.write(line + b"\n")
    elif change == "new_file":
        shutil.copyfile(files[0], corpus / "claude-code" / "d0" / "copy.jsonl")
    elif change == "new_subdir_file":
        (corpus / "pi" / "d1" / "deeper").mkdir()
        shutil.copyfile(files[0], corpus / "pi" / "d1" / "deeper" / "x.jsonl")
    elif change == "delete":
        files[0].unlink()
    elif change == "rename":
        files[0].rename(files[0].with_name("renamed.jsonl"))
    elif change == "touch_same_size":
        os.utime(files[0], None)
    elif change == "skipped_file":
        with open(corpus / "notes.jsonl", "a") as fh:
            fh.write('{"more": 1}\n')
    assert unchanged.check([str(corpus)], wh) is None
    s = ingest([str(corpus)], wh, jobs=1)
    if change == "append":
        assert s.files_appended == 1 and s.lines_total == 1
    if change in ("new_file", "new_subdir_file"):
        assert s.files_parsed == 1


def test_other_requests_and_states_are_not_answered(corpus, tmp_path, monkeypatch):
    wh = tmp_path / "wh"
    claude = corpus / "claude-code"
    ingest([str(corpus)], wh, jobs=1)
    # a different set of paths, a forced agent, a glob
    assert unchanged.check([str(claude)], wh) is None
    assert unchanged.check([str(corpus)], wh, agent="claude") is None
    assert unchanged.check([str(corpus / "*")], wh) is None
    # the same request from another working directory, given relatively, is the same request
    monkeypatch.chdir(corpus.parent)
    assert unchanged.check(["corpus"], wh) is not None
    # another ingest into the warehouse moves the snapshot on: the cache no longer describes it
    other = tmp_path / "other"
    other.mkdir()
    shutil.copyfile(sorted(claude.rglob("*.jsonl"))[0], other / "x.jsonl")
    os.utime(other / "x.jsonl", (OLD, OLD))
    snap_before = json.loads((wh / "_snapshot.json").read_text())["version"]
    s = ingest([str(other)], wh, jobs=1)
    assert s.files_parsed == 1
    assert json.loads((wh / "_snapshot.json").read_text())["version"] == snap_before + 1
    assert unchanged.check([str(corpus)], wh) is None
    # new ingest code (a parser change) never takes the shortcut
    ingest([str(corpus)], wh, jobs=1)
    assert unchanged.check([str(corpus)], wh) is not None
    monkeypatch.setattr(unchanged, "code_stamp", lambda: [["tracelab/ingest/claude/parse.py", 1, 2]])
    assert unchanged.check([str(corpus)], wh) is None


def test_busy_warehouse_and_racy_entries(corpus, tmp_path, monkeypatch):
    wh = tmp_path / "wh"
    ingest([str(corpus)], wh, jobs=1)
    with Warehouse(wh).lock():
        assert unchanged.check([str(corpus)], wh) is None  # the full path reports the lock
    # a file written just now: its mtime could still move within the same tick, so no cache
    # (the window widened so that a slow ingest cannot outlive it: the test must not depend
    # on how long the ingest takes)
    monkeypatch.setattr(unchanged, "RACY_NS", 600 * 10**9)
    f = sorted((corpus / "codex").rglob("*.jsonl"))[0]
    with open(f, "ab") as fh:
        fh.write(f.read_bytes().splitlines()[-1] + b"\n")
    ingest([str(corpus)], wh, jobs=1)
    assert not (wh / unchanged.CACHE).exists()
    assert unchanged.check([str(corpus)], wh) is None


def test_default_locations(tmp_path, monkeypatch):
    home = tmp_path / "claude-home"
    proj = home / "projects" / "-w-demo"
    proj.mkdir(parents=True)
    src = sorted(require_samples("claude-code").rglob("*.jsonl"))[0]
    shutil.copyfile(src, proj / "s.jsonl")
    _age(home)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    wh = tmp_path / "wh"
    first = ingest([], wh, jobs=1)
    assert first.files_parsed == 1
    cached = unchanged.check([], wh)
    assert cached is not None and cached.sources == first.sources
    # the Codex home appearing later is a change (it did not exist when the cache was written)
    codex = Path(os.environ["CODEX_HOME"]) / "sessions"
    codex.mkdir(parents=True)
    assert unchanged.check([], wh) is None
    codex.rmdir()
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "elsewhere"))
    assert unchanged.check([], wh) is None


def test_cli_no_op_run_does_not_import_pyarrow(corpus, tmp_path):
    wh = tmp_path / "wh"
    ingest([str(corpus)], wh, jobs=1)
    code = (
        "import sys\n"
        "from tracelab.cli import cli\n"
        f"try:\n    cli(['ingest', {str(corpus)!r}, '-w', {str(wh)!r}, '--json'], standalone_mode=False)\n"
        "finally:\n    print('PYARROW' if 'pyarrow' in sys.modules else 'NO-PYARROW', file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "NO-PYARROW"
    summary = json.loads(out.stdout)
    assert summary["files_unchanged"] == 9 and summary["files_parsed"] == 0 and summary["rows"]["events"] > 0


@pytest.mark.parametrize(
    "args, expected",
    [
        (["a", "b", "-w", "W"], (["a", "b"], "W", None, False)),
        (["--warehouse=W", "--agent", "pi", "--json", "-q", "-j", "2", "a"], (["a"], "W", "pi", True)),
        (["--agent=codex", "--jobs=4", "--quiet", "-"], (["-"], "warehouse", "codex", False)),
    ],
)
def test_plain_command_lines_are_read_before_click(args, expected, monkeypatch):
    monkeypatch.delenv("TRACELAB_WAREHOUSE", raising=False)
    assert unchanged._ingest_args(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["--redact", "a"],
        ["--help"],
        ["a", "--", "-b"],
        ["-qj2"],
        ["--agent", "opencode"],
        ["--jobs", "x"],
        ["-w"],
        ["-w", "--json"],
        ["--warehouse="],
        ["--json=1"],
        ["--unknown"],
        ["--redact-key", "k"],
    ],
)
def test_anything_else_goes_to_click(args):
    assert unchanged._ingest_args(args) is None


def test_entry_point_answers_before_importing_click(corpus, tmp_path):
    """``tracelab ingest`` (the console script and ``python -m tracelab``) answers an unchanged
    corpus without importing click, printing exactly what the click command prints."""
    from click.testing import CliRunner

    from tracelab.cli import cli

    wh = tmp_path / "wh"
    ingest([str(corpus)], wh, jobs=1)
    code = (
        "import sys\n"
        f"sys.argv = ['tracelab', 'ingest', {str(corpus)!r}, '--warehouse', {str(wh)!r}] + sys.argv[1:]\n"
        "from tracelab.__main__ import main\n"
        "try:\n    main()\n"
        "finally:\n    print('CLICK' if 'click' in sys.modules else 'NO-CLICK', file=sys.stderr)\n"
    )
    for extra in ([], ["--json", "-q"]):
        fast = subprocess.run([sys.executable, "-c", code, *extra], capture_output=True, text=True, check=True)
        assert fast.stderr.strip().splitlines()[-1] == "NO-CLICK"
        slow = CliRunner().invoke(cli, ["ingest", str(corpus), "-w", str(wh), *extra])
        assert slow.exit_code == 0, slow.output
        if extra:
            a, b = json.loads(fast.stdout), json.loads(slow.stdout)
            assert a.pop("seconds") >= 0 and b.pop("seconds") >= 0
            assert a == b and a["files_unchanged"] == 9
        else:
            # the same lines but the timing one
            drop = lambda text: [ln for ln in text.splitlines() if not ln.startswith("parsed ")]  # noqa: E731
            assert drop(fast.stdout) == drop(slow.stdout) and "9 unchanged" in fast.stdout
    # a changed corpus is not answered there: the click command runs and parses the new file
    (corpus / "claude-code" / "d0" / "extra.jsonl").write_bytes(next((corpus / "claude-code" / "d0").glob("*.jsonl")).read_bytes())
    ran = subprocess.run([sys.executable, "-c", code, "--json"], capture_output=True, text=True, check=True)
    assert ran.stderr.strip().splitlines()[-1] == "CLICK"
    assert json.loads(ran.stdout)["files_parsed"] == 1
