"""Faults a user meets end in one line on stderr and a non-zero exit, never a traceback, and the
warehouse is left as it was (issue #15, item 5): a held lock (the holder's pid and start time
survive refusals), a part file gone, a read-only warehouse, a full disk (ENOSPC from pyarrow;
a real EFBIG under RLIMIT_FSIZE), a corrupt or lost snapshot, Ctrl-C or SIGTERM in every phase of
an ingest ("Aborted", exit 130, the previous snapshot and its parts untouched). Odd input entries
(item 4) are one ``skipped`` line each in a run that exits 0 and ingests the good files beside them.

The read-only case needs file permissions to bite. Tests run as root here, and root ignores them,
so the command runs in a child process whose capability bounding set lacks CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH (``setpriv``): it is still uid 0 but permission bits apply to it. Without
``setpriv`` (or the right to drop capabilities) a root run skips that test, saying why.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import tracelab
from tests.conftest import require_samples
from tracelab import pipeline, verify
from tracelab.cli import cli
from tracelab.errors import Aborted
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
    before = (wh / "_snapshot.json").read_bytes()
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
    assert (wh / "_snapshot.json").read_bytes() == before


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


# ------------------------------------------------------------------------------ interrupted in any phase

#: a command line run as ``python -c DRIVER PHASE SIGNAL tracelab-args...``: the function of
#: PHASE sends the process SIGNAL (a real signal, through the CLI's own handling) when it is
#: reached, then the command goes on as it would
DRIVER = """
import os, signal, sys
phase, signame, *args = sys.argv[1:]
import tracelab.pipeline as pipeline
from tracelab.ingest import run
from tracelab.store import snapshot
targets = {
    "list": [(run, "make_plan")],
    "parse": [(run, "run_parsers")],
    "write": [(run, "commit")],
    "derive": [(pipeline.derive, "refresh"), (pipeline.derive, "rebuild")],
    "failures": [(pipeline.failures, "refresh_in_snapshot"), (pipeline.failures, "rebuild_in_snapshot")],
    "compact": [(pipeline, "compact")],
    "snapshot": [(snapshot.WarehouseFiles, "commit")],
}[phase]
for owner, name in targets:
    real = getattr(owner, name)
    def hooked(*a, _real=real, **k):
        os.kill(os.getpid(), getattr(signal, signame))
        return _real(*a, **k)
    setattr(owner, name, hooked)
sys.argv = ["tracelab", *args]
from tracelab.cli import main
main()
"""

PHASES = [
    ("list", "SIGTERM"),
    ("parse", "SIGINT"),
    ("write", "SIGTERM"),
    ("derive", "SIGINT"),
    ("failures", "SIGTERM"),
    ("compact", "SIGINT"),
    ("snapshot", "SIGTERM"),
]


@pytest.mark.parametrize(("phase", "signame"), PHASES, ids=[f"{s} in {p}" for p, s in PHASES])
def test_a_signal_in_any_phase_aborts_and_keeps_the_previous_snapshot(phase, signame, tmp_path):
    logs = _inputs(tmp_path)
    wh = tmp_path / "wh"
    ingest([str(logs)], wh, jobs=1)
    before = (wh / "_snapshot.json").read_bytes()
    files_before = sorted(p.relative_to(wh).as_posix() for p in wh.rglob("*.parquet"))
    extra = sorted(require_samples("codex").glob("*.jsonl"))[0]
    shutil.copy(extra, logs / "new.jsonl")
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, phase, signame, "ingest", str(logs), "-w", str(wh), "-q", "-j", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = _one_line(proc.stderr, (phase, signame))
    assert proc.returncode == 130 and line == "tracelab: Aborted; the warehouse keeps its previous snapshot", (proc.returncode, line)
    assert (wh / "_snapshot.json").read_bytes() == before
    assert sorted(p.relative_to(wh).as_posix() for p in wh.rglob("*.parquet")) == files_before  # every part kept, none added
    assert not (wh / ".staging").exists() and not list(wh.rglob("*.tmp"))
    # the next run completes and reads the new file
    s = ingest([str(logs)], wh, jobs=1)
    assert s.files_parsed == 1 and not s.errors


# ------------------------------------------------------------------------------ full disk


def test_full_disk_during_ingest_is_one_line_and_keeps_the_previous_snapshot(tmp_path, monkeypatch):
    """Every Parquet write fails as pyarrow fails on a full disk (OSError errno 28, no file name)."""
    logs = _inputs(tmp_path)
    wh = tmp_path / "wh"
    ingest([str(logs)], wh, jobs=1)
    before = (wh / "_snapshot.json").read_bytes()
    shutil.copy(sorted(require_samples("codex").glob("*.jsonl"))[0], logs / "new.jsonl")

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")

    monkeypatch.setattr(pq, "write_table", full)
    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    res = CliRunner().invoke(cli, ["ingest", str(logs), "-w", str(wh), "-q", "-j", "1"])
    line = _one_line(res.stderr, "ingest")
    assert res.exit_code == 3 and "No space left on device" in line and "internal error" not in line, line
    assert (wh / "_snapshot.json").read_bytes() == before and not (wh / ".staging").exists()
    monkeypatch.undo()
    s = ingest([str(logs)], wh, jobs=1)
    assert s.files_parsed == 1 and not s.errors


def test_a_file_size_limit_during_ingest_is_one_line_and_keeps_the_previous_snapshot(tmp_path):
    """A real write failure from the kernel: the ingest runs under RLIMIT_FSIZE (EFBIG, as a
    quota or a full disk would stop it part-way)."""
    logs = _inputs(tmp_path)
    wh = tmp_path / "wh"
    ingest([str(logs)], wh, jobs=1)
    before = (wh / "_snapshot.json").read_bytes()
    big = max(require_samples("claude-code").rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    shutil.copy(big, logs / "new.jsonl")
    limit = 8 * 1024

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "-m", "tracelab", "ingest", str(logs), "-w", str(wh), "-q", "-j", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limited,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    line = _one_line(proc.stderr, "ingest under RLIMIT_FSIZE")
    assert proc.returncode == 3 and "File too large" in line and "internal error" not in line, line
    assert (wh / "_snapshot.json").read_bytes() == before and not (wh / ".staging").exists()
    s = ingest([str(logs)], wh, jobs=1)
    assert s.files_parsed == 1 and not s.errors


# ------------------------------------------------------------------------------ a damaged warehouse meets an ingest


def test_ingest_into_a_corrupt_snapshot_is_one_line_and_changes_nothing(tmp_path):
    logs = _inputs(tmp_path)
    wh = tmp_path / "wh"
    ingest([str(logs)], wh, jobs=1)
    text = (wh / "_snapshot.json").read_text()
    (wh / "_snapshot.json").write_text(text[: len(text) // 2])
    parts = sorted(p.relative_to(wh).as_posix() for p in wh.rglob("*.parquet"))
    (logs / "new.jsonl").write_text(next(logs.glob("*.jsonl")).read_text())
    for args in (["ingest", str(logs), "-w", str(wh), "-q"], ["sql", "select 1", "-w", str(wh)], ["info", "-w", str(wh)]):
        res = CliRunner().invoke(cli, args)
        line = _one_line(res.stderr, args)
        assert res.exit_code == 3 and "_snapshot.json" in line and "not valid JSON" in line, line
    assert (wh / "_snapshot.json").read_text() == text[: len(text) // 2]
    assert sorted(p.relative_to(wh).as_posix() for p in wh.rglob("*.parquet")) == parts


def test_a_warehouse_whose_snapshot_is_gone_is_not_overwritten(tmp_path):
    """Table folders without ``_snapshot.json``: an ingest would publish only this run's files
    and delete every other part as an orphan; it refuses, and readers say what happened."""
    logs = _inputs(tmp_path)
    wh = tmp_path / "wh"
    ingest([str(logs)], wh, jobs=1)
    (wh / "_snapshot.json").unlink()
    parts = sorted(p.relative_to(wh).as_posix() for p in wh.rglob("*.parquet"))
    for args in (["ingest", str(logs), "-w", str(wh), "-q"], ["sql", "select 1", "-w", str(wh)], ["info", "-w", str(wh)]):
        res = CliRunner().invoke(cli, args)
        line = _one_line(res.stderr, args)
        assert res.exit_code == 3 and "_snapshot.json" in line and "doctor" in line, line
    assert not (wh / "_snapshot.json").exists()
    assert sorted(p.relative_to(wh).as_posix() for p in wh.rglob("*.parquet")) == parts
    # what the message says to do works: the repaired warehouse equals a clean ingest
    res = CliRunner().invoke(cli, ["doctor", "-w", str(wh), "--repair"])
    assert res.exit_code == 0 and "healthy now" in res.stdout, res.output
    assert verify.against_clean(wh, [str(logs)], jobs=1) == []


def test_ingest_with_a_missing_part_is_one_line_and_keeps_the_snapshot(tmp_path):
    logs = _inputs(tmp_path)
    wh = tmp_path / "wh"
    ingest([str(logs)], wh, jobs=1)
    snap = json.loads((wh / "_snapshot.json").read_text())
    (wh / snap["tables"]["files"][0]).unlink()
    before = (wh / "_snapshot.json").read_bytes()
    (logs / "new.jsonl").write_text(next(logs.glob("*.jsonl")).read_text())
    res = CliRunner().invoke(cli, ["ingest", str(logs), "-w", str(wh), "-q"])
    line = _one_line(res.stderr, "ingest")
    assert res.exit_code == 3 and "missing" in line and "doctor" in line, line
    assert (wh / "_snapshot.json").read_bytes() == before


# ------------------------------------------------------------------------------ entries that cannot be read


def _files_table(wh: Path) -> dict[str, tuple[str, str | None]]:
    con = tracelab.connect(wh)
    try:
        return {p: (st, why) for p, st, why in con.execute("SELECT path, status, reason FROM files").fetchall()}
    finally:
        con.close()


def _skip_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("skipped ")]


def test_an_unreadable_file_is_skipped_and_the_others_ingested_even_for_root(tmp_path):
    prefix = _without_dac_override()
    if prefix is None:
        pytest.skip("running as root without setpriv (or the right to drop CAP_DAC_OVERRIDE): an unreadable file cannot be made")
    logs = _inputs(tmp_path, n=2)
    secret = logs / "secret.jsonl"
    shutil.copy(next(logs.glob("*.jsonl")), secret)
    secret.chmod(0)
    wh = tmp_path / "wh"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "tracelab", "ingest", str(logs), "-w", str(wh), "-q", "-j", "1"], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert _skip_lines(proc.stderr) == [f"skipped    {secret}: cannot be read: permission denied"], proc.stderr
    assert "skipped    1 entries: unreadable 1" in proc.stdout and "2 parsed" in proc.stdout, proc.stdout
    files = _files_table(wh)
    assert files[str(secret)] == ("skipped", "cannot be read: permission denied")
    assert sum(1 for st, _ in files.values() if st == "ok") == 2


def test_a_device_is_never_opened(tmp_path):
    """``zero.jsonl`` -> /dev/zero would be read forever, ``null.jsonl`` -> /dev/null is empty:
    both are character devices, skipped without being opened; the good file beside them is read."""
    logs = _inputs(tmp_path, n=1)
    os.symlink("/dev/zero", logs / "zero.jsonl")
    os.symlink("/dev/null", logs / "null.jsonl")
    wh = tmp_path / "wh"
    proc = subprocess.run([sys.executable, "-m", "tracelab", "ingest", str(logs), "-w", str(wh), "-q", "-j", "1"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    why = "a character device, not a regular file (never opened)"
    assert sorted(_skip_lines(proc.stderr)) == [f"skipped    {logs / 'null.jsonl'}: {why}", f"skipped    {logs / 'zero.jsonl'}: {why}"], proc.stderr
    assert "skipped    2 entries: character device 2" in proc.stdout and "1 parsed" in proc.stdout, proc.stdout
    files = _files_table(wh)
    assert files[str(logs / "zero.jsonl")] == ("skipped", why) and files[str(logs / "null.jsonl")] == ("skipped", why)
    assert sum(1 for st, _ in files.values() if st == "ok") == 1


def test_an_interrupted_first_ingest_leaves_nothing_behind(tmp_path, monkeypatch):
    """The parts a first ingest wrote before Ctrl-C go with it, so the next run starts a new
    warehouse (it is not mistaken for one whose snapshot was lost)."""
    logs = _inputs(tmp_path)
    wh = tmp_path / "wh"

    def interrupt(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.derive, "rebuild", interrupt)
    with pytest.raises(Aborted):
        ingest([str(logs)], wh, jobs=1)
    assert not (wh / "_snapshot.json").exists() and not list(wh.rglob("*.parquet")) and not (wh / ".staging").exists()
    monkeypatch.undo()
    s = ingest([str(logs)], wh, jobs=1)
    assert s.files_parsed == 3 and not s.errors


def test_odd_entries_beside_good_files_end_in_one_line_each_and_exit_0(tmp_path):
    """The command-line view of every entry kind (the engine side is in test_ingest_entries):
    each odd entry is one ``skipped`` line naming it, the run exits 0, the good files of the
    same run (plain and gzip) are ingested and the rows of the previous snapshot stay."""
    short = Path(tempfile.mkdtemp(prefix="tl-", dir="/tmp"))  # a socket's path must be short
    try:
        logs = short / "logs"
        shutil.copytree(_inputs(tmp_path, n=1), logs)
        wh = tmp_path / "wh"
        ingest([str(logs)], wh, jobs=1)
        before = _files_table(wh)
        codex = sorted(require_samples("codex").glob("*.jsonl"))[0]
        shutil.copy(codex, logs / "new.jsonl")
        (logs / "packed.jsonl.gz").write_bytes(gzip.compress(sorted(require_samples("pi").glob("*.jsonl"))[0].read_bytes()))
        os.symlink(logs / "loop-b.jsonl", logs / "loop-a.jsonl")
        os.symlink(logs / "loop-a.jsonl", logs / "loop-b.jsonl")
        os.symlink(tmp_path / "nowhere.jsonl", logs / "dangling.jsonl")
        (logs / "folder.jsonl").mkdir()
        os.mkfifo(logs / "pipe.jsonl")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(logs / "sock.jsonl"))
        os.symlink("/dev/zero", logs / "zero.jsonl")
        (logs / "notes.jsonl").write_text('{"hello": "world"}\n')
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "tracelab", "ingest", str(logs), "-w", str(wh), "-q", "-j", "1"], capture_output=True, text=True, timeout=300
            )
        finally:
            sock.close()
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        lines = _skip_lines(proc.stderr)
        odd = ("loop-a", "loop-b", "dangling", "folder", "pipe", "sock", "zero", "notes")
        for name in odd:
            mine = [ln for ln in lines if f"{logs / name}.jsonl:" in ln]
            assert len(mine) == 1, (name, proc.stderr)
        assert len(lines) == len(odd), proc.stderr
        assert "2 parsed" in proc.stdout, proc.stdout
        files = _files_table(wh)
        assert files[str(logs / "new.jsonl")] == ("ok", None) and files[str(logs / "packed.jsonl.gz")] == ("ok", None)
        assert all(files[p] == v for p, v in before.items())  # the previous rows stay
        assert {files[str(logs / f"{n}.jsonl")][0] for n in odd} == {"skipped", "unrecognised"}
    finally:
        shutil.rmtree(short, ignore_errors=True)


VANISH = """
import os, sys
from tracelab.ingest import run
gone, *args = sys.argv[1:]
real = run.make_plan
def plan_then_delete(*a, **k):
    plan = real(*a, **k)
    os.unlink(gone)  # listed and planned; the parser finds it gone
    return plan
run.make_plan = plan_then_delete
sys.argv = ["tracelab", *args]
from tracelab.cli import main
main()
"""


def test_a_file_that_vanishes_mid_run_is_one_line_and_the_others_are_ingested(tmp_path):
    logs = _inputs(tmp_path, n=2)
    wh = tmp_path / "wh"
    ingest([str(logs)], wh, jobs=1)
    before = _files_table(wh)
    gone = logs / "gone.jsonl"
    shutil.copy(sorted(require_samples("codex").glob("*.jsonl"))[0], gone)
    shutil.copy(sorted(require_samples("pi").glob("*.jsonl"))[0], logs / "new.jsonl")
    proc = subprocess.run(
        [sys.executable, "-c", VANISH, str(gone), "ingest", str(logs), "-w", str(wh), "-q", "-j", "1"], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert _skip_lines(proc.stderr) == [f"skipped    {gone}: deleted before it could be read (No such file or directory)"], proc.stderr
    files = _files_table(wh)
    assert files[str(logs / "new.jsonl")] == ("ok", None) and files[str(gone)][0] == "skipped"
    assert all(files[p] == v for p, v in before.items())
