"""Every input entry is recorded and none aborts a run (issue #15 item 4): odd entries are
skipped with a reason (kept in ``files`` with ``status``/``reason``, counted in the summary),
FIFOs are never opened, gzip JSONL is read transparently; deleted inputs keep their rows
(``status = 'missing'``) until ``--prune``; a moved file is recognised by its content."""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import require_samples

import tracelab
from tracelab import verify
from tracelab.cli import cli
from tracelab.info import warehouse_info
from tracelab.ingest import run as run_mod
from tracelab.pipeline import ingest


def _sample(agent: str = "claude-code") -> Path:
    return sorted(require_samples(agent).rglob("*.jsonl"))[0]


def _files(wh: Path) -> dict[str, tuple[str, str | None]]:
    con = tracelab.connect(wh)
    try:
        return {p: (s, r) for p, s, r in con.execute("SELECT path, status, reason FROM files").fetchall()}
    finally:
        con.close()


def _count(wh: Path, sql: str) -> int:
    con = tracelab.connect(wh)
    try:
        return con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


def _ingest_with_deadline(*args, seconds: float = 120, **kw):
    """Run an ingest in a thread: a FIFO that gets opened would block it forever."""
    out: dict = {}

    def target() -> None:
        try:
            out["summary"] = ingest(*args, **kw)
        except BaseException as exc:  # reported below
            out["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "ingest hung (an entry was opened that blocks, e.g. a FIFO)"
    if "error" in out:
        raise out["error"]
    return out["summary"]


def test_odd_entries_in_a_directory_are_skipped_with_reasons_and_recorded(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copyfile(_sample(), d / "good.jsonl")
    os.symlink(d / "loop-b.jsonl", d / "loop-a.jsonl")
    os.symlink(d / "loop-a.jsonl", d / "loop-b.jsonl")
    os.symlink(tmp_path / "nowhere.jsonl", d / "dangling.jsonl")
    (d / "folder.jsonl").mkdir()
    os.mkfifo(d / "pipe.jsonl")
    (d / "notes.jsonl").write_text('{"hello": "world"}\n')
    wh = tmp_path / "wh"
    s = _ingest_with_deadline([str(d)], wh, jobs=1)
    assert s.files_parsed == 1 and s.agents == {"claude": 1} and not s.errors
    assert s.skipped_by_reason == {"symbolic link loop": 2, "dangling symbolic link": 1, "directory": 1, "FIFO": 1, "unrecognised format": 1}
    files = _files(wh)
    assert files[str(d / "good.jsonl")] == ("ok", None)
    assert files[str(d / "loop-a.jsonl")] == ("skipped", "a symbolic link loop")
    assert files[str(d / "dangling.jsonl")][0] == "skipped" and "does not exist" in files[str(d / "dangling.jsonl")][1]
    assert files[str(d / "folder.jsonl")] == ("skipped", "a directory, not a session file")
    assert files[str(d / "pipe.jsonl")] == ("skipped", "a FIFO, not a regular file (never opened)")
    assert files[str(d / "notes.jsonl")] == ("unrecognised", "content matches no known agent format")
    out, err = s.text_lines()
    assert any(line.startswith("skipped    6 entries: symbolic link loop 2") for line in out)
    assert sum(1 for line in err if line.startswith("skipped ")) == 6
    # the same entries again: nothing changes, nothing is committed
    version = (wh / "_snapshot.json").read_text()
    s2 = _ingest_with_deadline([str(d)], wh, jobs=1, use_cache=False)
    assert s2.skipped_by_reason == s.skipped_by_reason and (wh / "_snapshot.json").read_text() == version


def test_a_fifo_or_socket_named_on_the_command_line_is_skipped_not_missing(tmp_path):
    short = Path(tempfile.mkdtemp(prefix="tl-", dir="/tmp"))  # a socket path must be short
    try:
        fifo = short / "p.jsonl"
        os.mkfifo(fifo)
        sock_path = short / "s.jsonl"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(sock_path))
        good = tmp_path / "good.jsonl"
        shutil.copyfile(_sample(), good)
        wh = tmp_path / "wh"
        s = _ingest_with_deadline([str(fifo), str(sock_path), str(good)], wh, jobs=1)
        sock.close()
        assert s.files_parsed == 1 and s.skipped_by_reason == {"FIFO": 1, "socket": 1}
        assert _files(wh)[str(sock_path)] == ("skipped", "a socket, not a regular file (never opened)")
    finally:
        shutil.rmtree(short, ignore_errors=True)


def test_a_path_that_does_not_exist_is_still_an_input_error(tmp_path):
    with pytest.raises(tracelab.errors.InputError, match="no such file or directory"):
        ingest([str(tmp_path / "nope.jsonl")], tmp_path / "wh", jobs=1)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode; test_cli_faults runs this case for root with CAP_DAC_OVERRIDE dropped")
def test_an_unreadable_file_is_skipped_with_a_reason(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copyfile(_sample(), d / "good.jsonl")
    bad = d / "secret.jsonl"
    shutil.copyfile(_sample(), bad)
    bad.chmod(0)
    s = ingest([str(d)], tmp_path / "wh", jobs=1)
    assert s.files_parsed == 1 and s.skipped_by_reason == {"unreadable": 1}


def test_a_file_deleted_between_listing_and_reading_is_skipped(tmp_path, monkeypatch):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copyfile(_sample(), d / "good.jsonl")
    shutil.copyfile(_sample("codex"), d / "gone.jsonl")
    real = run_mod.make_plan

    def plan_then_delete(*args, **kw):
        plan = real(*args, **kw)
        (d / "gone.jsonl").unlink()  # listed and planned; the parser finds it gone
        return plan

    monkeypatch.setattr(run_mod, "make_plan", plan_then_delete)
    wh = tmp_path / "wh"
    s = ingest([str(d)], wh, jobs=1)
    assert s.files_parsed == 1 and s.files_failed == 0 and s.skipped_by_reason == {"vanished": 1}
    assert _files(wh)[str(d / "gone.jsonl")][0] == "skipped"
    assert _count(wh, "SELECT count(*) FROM events") > 0


def test_gzip_jsonl_is_read_transparently(tmp_path):
    src = _sample("codex")
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    plain.mkdir()
    packed.mkdir()
    shutil.copyfile(src, plain / src.name)
    (packed / (src.name + ".gz")).write_bytes(gzip.compress(src.read_bytes()))
    (packed / "disguised.jsonl").write_bytes(gzip.compress(_sample().read_bytes()))
    shutil.copyfile(_sample(), plain / "disguised.jsonl")
    a = ingest([str(plain)], tmp_path / "a", jobs=1)
    b = ingest([str(packed)], tmp_path / "b", jobs=1)
    assert b.files_parsed == 2 and not b.skipped and not b.errors
    assert a.lines_total == b.lines_total and a.lines_ingested == b.lines_ingested
    assert _count(tmp_path / "b", "SELECT count(*) FROM llm_calls") > 0
    for t in ("events", "llm_calls", "tool_calls", "sessions"):
        sql = f"SELECT count(*) FROM {t}"
        assert _count(tmp_path / "a", sql) == _count(tmp_path / "b", sql)
    tokens = "SELECT sum(input_tokens) + sum(output_tokens) FROM llm_calls"
    assert _count(tmp_path / "a", tokens) == _count(tmp_path / "b", tokens)
    # a compressed file that changed is read again whole (no append into gzip streams)
    again = ingest([str(packed)], tmp_path / "b", jobs=1, use_cache=False)
    assert again.files_unchanged == 2


def test_deleted_files_keep_rows_marked_missing_and_prune_removes_them(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    a, b = d / "a.jsonl", d / "b.jsonl"
    shutil.copyfile(_sample(), a)
    shutil.copyfile(_sample("codex"), b)
    wh = tmp_path / "wh"
    ingest([str(d)], wh, jobs=1)
    events = _count(wh, "SELECT count(*) FROM events")
    b.unlink()
    s = ingest([str(d)], wh, jobs=1)
    assert s.files_seen == 1 and s.files_missing == 1
    assert _files(wh)[str(b)][0] == "missing" and _count(wh, "SELECT count(*) FROM events") == events
    assert warehouse_info(wh)["entries"] == [{"status": "missing", "reason": None, "files": 1}]
    r = CliRunner().invoke(cli, ["info", "-w", str(wh)])
    assert "missing    1 files: rows kept; tracelab ingest --prune removes them" in r.output, r.output
    assert any("1 missing (rows kept; --prune removes them)" in line for line in s.text_lines()[0] if line.startswith("files"))
    # restored: ok again, nothing duplicated
    shutil.copyfile(_sample("codex"), b)
    os.utime(b, ns=(os.stat(a).st_mtime_ns, os.stat(a).st_mtime_ns))
    s = ingest([str(d)], wh, jobs=1)
    assert _files(wh)[str(b)][0] == "ok" and _count(wh, "SELECT count(*) FROM events") == events
    b.unlink()
    s = ingest([str(d)], wh, jobs=1, prune=True)
    assert s.files_pruned == 1 and str(b) not in _files(wh)
    assert not verify.against_clean(wh, [str(d)], jobs=1)


def test_a_moved_file_is_recognised_by_content_and_not_duplicated(tmp_path):
    d = tmp_path / "in"
    (d / "old").mkdir(parents=True)
    (d / "new").mkdir()
    shutil.copyfile(_sample(), d / "old" / "s.jsonl")
    shutil.copyfile(_sample("codex"), d / "old" / "c.jsonl")
    wh = tmp_path / "wh"
    ingest([str(d)], wh, jobs=1)
    os.rename(d / "old" / "s.jsonl", d / "new" / "s.jsonl")
    os.rename(d / "old" / "c.jsonl", d / "new" / "c.jsonl")
    s = ingest([str(d)], wh, jobs=1)
    assert s.files_moved == 2 and s.files_missing == 0
    assert _count(wh, "SELECT count(*) FROM events WHERE kind = 'session_start'") == _count(
        wh, "SELECT count(DISTINCT session_key) FROM events WHERE kind = 'session_start'"
    )
    assert not verify.against_clean(wh, [str(d)], jobs=1)


def test_verify_cli_reports_equal_and_different_warehouses(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copyfile(_sample(), d / "a.jsonl")
    wh = tmp_path / "wh"
    ingest([str(d)], wh, jobs=1)
    r = CliRunner().invoke(cli, ["verify", "--against-clean", str(d), "-w", str(wh)])
    assert r.exit_code == 0 and "equal" in r.output, r.output
    other = tmp_path / "other"
    shutil.copyfile(_sample("codex"), d / "b.jsonl")
    ingest([str(d)], other, jobs=1)
    r = CliRunner().invoke(cli, ["verify", "--against", str(other), "-w", str(wh), "--json"])
    assert r.exit_code == 1 and '"equal": false' in r.output


@pytest.mark.parametrize("how", ["ctrl-c in derive", "sigterm in parse", "ctrl-c in failure clustering"])
def test_interrupted_ingest_is_aborted_and_keeps_the_previous_snapshot(tmp_path, monkeypatch, how):
    import signal

    from tracelab import pipeline
    from tracelab.ingest import parse as parse_mod

    d = tmp_path / "in"
    d.mkdir()
    shutil.copyfile(_sample(), d / "a.jsonl")
    wh = tmp_path / "wh"
    ingest([str(d)], wh, jobs=1)
    before = (wh / "_snapshot.json").read_text()
    shutil.copyfile(_sample("codex"), d / "b.jsonl")

    def interrupt(*_a, **_k):
        if how.startswith("sigterm"):
            os.kill(os.getpid(), signal.SIGTERM)
        raise KeyboardInterrupt

    if how == "ctrl-c in derive":
        monkeypatch.setattr(pipeline.derive, "refresh", interrupt)
    elif how == "sigterm in parse":
        monkeypatch.setattr(parse_mod, "fingerprint", interrupt)
    else:
        monkeypatch.setattr(pipeline.failures, "rebuild_in_snapshot", interrupt)
        monkeypatch.setattr(pipeline.failures, "refresh_in_snapshot", interrupt)
    handler = signal.getsignal(signal.SIGTERM)
    with pytest.raises(tracelab.errors.Aborted, match="previous snapshot"):
        ingest([str(d)], wh, jobs=1, use_cache=False)
    assert signal.getsignal(signal.SIGTERM) == handler  # restored
    assert (wh / "_snapshot.json").read_text() == before and not (wh / ".staging").exists()
    monkeypatch.undo()
    s = ingest([str(d)], wh, jobs=1, use_cache=False)  # the next run completes normally
    assert s.files_parsed == 1 and _count(wh, "SELECT count(DISTINCT source_file) FROM events") == 2
