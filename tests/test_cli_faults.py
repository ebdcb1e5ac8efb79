"""Faults a user meets (a held lock, a part file gone, a read-only warehouse) end in one line on
stderr and a non-zero exit, never a traceback; the warehouse is left as it was.

The read-only case needs file permissions to bite. Tests run as root here, and root ignores them,
so the command runs in a child process whose capability bounding set lacks CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH (``setpriv``): it is still uid 0 but permission bits apply to it. Without
``setpriv`` (or the right to drop capabilities) a root run skips that test, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import require_samples
from tracelab.cli import cli
from tracelab.pipeline import ingest
from tracelab.store.warehouse import Warehouse

OLD = 1_767_225_600  # inputs older than the stat cache's racy window


def _inputs(tmp_path: Path, n: int = 3) -> Path:
    src = require_samples("claude-code")
    d = tmp_path / "logs"
    d.mkdir()
    for f in sorted(src.glob("*.jsonl"))[:n]:
        shutil.copy(f, d / f.name)
        os.utime(d / f.name, (OLD, OLD))
    os.utime(d, (OLD, OLD))
    return d


def _one_line(res_stderr: str, where: object) -> str:
    lines = res_stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracelab: ") and "Traceback" not in res_stderr, (where, res_stderr)
    return lines[0]


def test_held_lock_names_the_holder_and_survives_refusals(tmp_path):
    logs = _inputs(tmp_path)
    wh = tmp_path / "wh"
    ingest([str(logs)], wh, jobs=1)
    (logs / "new.jsonl").write_text((next(logs.glob("*.jsonl"))).read_text())
    with Warehouse(wh).lock():
        holder = (wh / ".lock").read_text()
        assert holder.startswith(f"pid {os.getpid()} since ")
        for _ in range(2):  # a refused attempt leaves the holder's pid in place for the next one
            res = CliRunner().invoke(cli, ["ingest", str(logs), "-w", str(wh), "-q"])
            line = _one_line(res.stderr, "ingest")
            assert res.exit_code == 4 and f"({holder})" in line, line
            assert (wh / ".lock").read_text() == holder
        res = CliRunner().invoke(cli, ["compact", "-w", str(wh)])
        assert res.exit_code == 4 and f"pid {os.getpid()}" in _one_line(res.stderr, "compact")
    assert (wh / ".lock").read_text() == ""  # released


@pytest.mark.parametrize(
    "args",
    [["sql", "select count(*) from events"], ["info"], ["query", "run", "session_stats"], ["failures", "build"], ["usage", "daily"]],
    ids=lambda a: " ".join(a[:2]),
)
def test_missing_part_is_one_line(args, tmp_path):
    logs = _inputs(tmp_path)
    wh = tmp_path / "wh"
    ingest([str(logs)], wh, jobs=1)
    snap = json.loads((wh / "_snapshot.json").read_text())
    for table in ("events", "llm_calls", "sessions", "files"):
        (wh / snap["tables"][table][0]).unlink()
    before = (wh / "_snapshot.json").read_bytes()
    res = CliRunner().invoke(cli, [*args, "-w", str(wh)])
    line = _one_line(res.stderr, args)
    assert res.exit_code == 3 and "missing" in line and "doctor" in line, line
    assert (wh / "_snapshot.json").read_bytes() == before


def _without_dac_override() -> list[str] | None:
    """A command prefix under which permission bits apply even to root, or None."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]
    probe = subprocess.run([*prefix, "true"], capture_output=True)
    return prefix if probe.returncode == 0 else None


def _chmod_tree(root: Path, writable: bool) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            p.chmod(p.stat().st_mode | stat.S_IWUSR if writable else p.stat().st_mode & ~0o222)
        d = Path(dirpath)
        d.chmod(d.stat().st_mode | stat.S_IWUSR if writable else d.stat().st_mode & ~0o222)


def test_read_only_warehouse_answers_reads_and_refuses_writes_in_one_line(tmp_path):
    prefix = _without_dac_override()
    if prefix is None:
        pytest.skip("running as root without setpriv (or the right to drop CAP_DAC_OVERRIDE): file permissions cannot be tested")
    logs = _inputs(tmp_path)
    wh = tmp_path / "wh"
    ingest([str(logs)], wh, jobs=1)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, sys.executable, "-m", "tracelab", *args], capture_output=True, text=True, env=env, timeout=300)

    _chmod_tree(wh, writable=False)
    try:
        # a no-op re-run: answered from the stat cache, then (cache removed) by the full path
        res = run("ingest", str(logs), "-w", str(wh), "--json")
        assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
        assert json.loads(res.stdout)["files_unchanged"] == 3
        _chmod_tree(wh, writable=True)
        (wh / "_unchanged.json").unlink()
        _chmod_tree(wh, writable=False)
        res = run("ingest", str(logs), "-w", str(wh), "--json")
        assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
        assert json.loads(res.stdout)["files_unchanged"] == 3
        # reads work
        res = run("sql", "select count(*) as n from sessions", "-w", str(wh), "--json")
        assert res.returncode == 0 and json.loads(res.stdout)[0]["n"] > 0, res.stderr
        # a write is refused in one line, and the snapshot is untouched
        before = (wh / "_snapshot.json").read_bytes()
        (logs / "new.jsonl").write_text(next(logs.glob("*.jsonl")).read_text())
        res = run("ingest", str(logs), "-w", str(wh), "-q")
        line = _one_line(res.stderr, "ingest")
        assert res.returncode == 3 and "cannot write" in line, line
        assert (wh / "_snapshot.json").read_bytes() == before
        # a read-only folder where the warehouse should be created
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        res = run("ingest", str(logs), "-w", str(ro / "wh"), "-q")
        line = _one_line(res.stderr, "ingest into read-only folder")
        assert res.returncode == 3 and "cannot be written" in line, line
    finally:
        _chmod_tree(wh, writable=True)
        (tmp_path / "ro").chmod(0o755) if (tmp_path / "ro").exists() else None


def test_ingest_of_a_missing_path_creates_nothing(tmp_path):
    wh = tmp_path / "wh"
    for args in (["ingest", "/nonexistent/path", "-w", str(wh)], ["ingest", str(tmp_path / "nope*.jsonl"), "-w", str(wh)]):
        res = CliRunner().invoke(cli, args)
        line = _one_line(res.stderr, args)
        assert res.exit_code == 2 and "no such file or directory" in line and "nothing was created" in line
        assert not wh.exists()
    proc = subprocess.run([sys.executable, "-m", "tracelab", "ingest", "/nonexistent/path", "-w", str(wh)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and not wh.exists(), proc.stderr


def test_ingest_into_a_folder_that_is_not_a_warehouse_is_refused(tmp_path):
    logs = _inputs(tmp_path, n=1)
    other = tmp_path / "my-project"
    other.mkdir()
    (other / "README.md").write_text("mine\n")
    res = CliRunner().invoke(cli, ["ingest", str(logs), "-w", str(other)])
    line = _one_line(res.stderr, "ingest")
    assert res.exit_code == 2 and "not a tracelab warehouse and not empty (README.md)" in line
    assert sorted(p.name for p in other.iterdir()) == ["README.md"]
    # an empty folder, and an existing warehouse, are fine
    empty = tmp_path / "empty"
    empty.mkdir()
    assert CliRunner().invoke(cli, ["ingest", str(logs), "-w", str(empty), "-q"]).exit_code == 0
    assert CliRunner().invoke(cli, ["ingest", str(logs), "-w", str(empty), "-q"]).exit_code == 0
