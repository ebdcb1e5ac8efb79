"""Readers during live ingests (issue #15, item 3): one process ingests in a loop while two
readers query the same warehouse the whole time, a fresh ``tracelab sql --json`` process after
another and one long-lived ``tracelab.connect()`` connection. No reader may fail, and every read
must show exactly one committed snapshot.

How the test knows the truth: the writer (a separate process) records, right after each commit,
the snapshot version and the answer of the readers' query on that snapshot. Every table count the
query returns comes from one statement, and ``sum(files.lines_total)`` grows with every commit
(each step appends lines), so each answer names one snapshot. A CLI read must equal the answer of
some committed snapshot; the long-lived connection must return the same answer on every read
until it is reopened (what :class:`tracelab.store.Store` promises), and its snapshot's parts must
stay readable across the commits it spans.

Nothing waits on the clock: the writer does a fixed number of commits and, after each, waits (on
its stdin) until both readers have finished a read since that commit; the readers loop until the
writer is done. The writer runs with ``TRACELAB_GC_GRACE_SECONDS=0``, so the parts the readers
use survive the commits only through the readers' leases, not through a grace period.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import tracelab
from tests.conftest import require_samples

# the writer, CLI readers and a connection compete for 2 cores: keep it off the other worker's tests
pytestmark = pytest.mark.xdist_group("concurrency")

COMMITS = 21
#: CLI reads per commit at most (they start while the next ingest runs)
CLI_READS = 2
#: commits the long-lived connection must span before it is reopened
SPAN = 3
#: a read that never finishes is a hang (a deadlock guard, not a timing assertion)
HANG_SECONDS = 300

QUERY = (
    "SELECT (SELECT sum(lines_total) FROM files) AS lines, (SELECT count(*) FROM files) AS files, "
    "(SELECT count(*) FROM events) AS events, (SELECT count(*) FROM sessions) AS sessions, "
    "(SELECT count(*) FROM llm_calls) AS llm_calls, (SELECT count(*) FROM tool_calls) AS tool_calls, "
    "(SELECT count(*) FROM rejects) AS rejects"
)
COLUMNS = ("lines", "files", "events", "sessions", "llm_calls", "tool_calls", "rejects")

WRITER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    from tracelab.pipeline import ingest
    from tracelab.store import snapshot as snapshot_module
    from tracelab.store.connection import Store

    warehouse, corpus, steps_file, query = sys.argv[1:5]
    steps = json.loads(Path(steps_file).read_text())
    real_commit = snapshot_module.WarehouseFiles.commit

    def recording_commit(self, snap, **kw):
        real_commit(self, snap, **kw)
        with Store(self.root) as store:  # the snapshot just published (this process holds the lock)
            assert store.snapshot.version == snap.version
            row = store.con.execute(query).fetchone()
        print(json.dumps({"commit": snap.version, "answer": [int(v or 0) for v in row], "retired": len(snap.retired)}), flush=True)

    snapshot_module.WarehouseFiles.commit = recording_commit
    for i, step in enumerate(steps):
        for name, text in step:
            with open(Path(corpus) / name, "a") as fh:
                fh.write(text)
        ingest([corpus], warehouse, jobs=1)
        print(json.dumps({"ingested": i}), flush=True)
        if sys.stdin.readline().strip() != "go":
            sys.exit("writer: stopped by the test")
    print(json.dumps({"done": True}), flush=True)
    """
)


def _steps(n: int) -> list[list[tuple[str, str]]]:
    """``n`` steps of appends: three real sessions (Claude Code, Codex, Pi) fed in a few whole
    lines at a time, the second and third starting later (new files mid-run). Every step
    appends at least one line."""
    sources = [
        (require_samples("claude-code") / "entire-cli__8e_0a64736bc7_0__full.jsonl", 0),
        (require_samples("codex") / "agent-sessions__codex_small.jsonl", 4),
        (require_samples("pi") / "pi-mono__large-session.jsonl", 9),
    ]
    steps: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    for path, start in sources:
        lines = path.read_text().splitlines(keepends=True)[:150]
        per = -(-len(lines) // (n - start))
        for k in range(start, n):
            chunk = lines[(k - start) * per : (k - start + 1) * per]
            if chunk:
                steps[k].append((path.name, "".join(chunk)))
    assert all(steps)
    return steps


@dataclass
class Opened:
    """One opening of the long-lived connection: commits seen when it opened and at its last
    read, and the answers it gave."""

    at: int
    last: int
    answers: list[tuple] = field(default_factory=list)


def _answer(row: tuple | None) -> tuple:
    assert row is not None
    return tuple(int(v or 0) for v in row)


@dataclass
class Readers:
    """What the readers did, shared with the thread that drives the writer."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    done: bool = False
    commits_seen: int = 0  # commit records received from the writer
    cli_reads: int = 0
    conn_reads: int = 0
    cli_answers: list[tuple] = field(default_factory=list)
    conn_sessions: list[Opened] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def progressed(self, kind: str) -> None:
        with self.cond:
            setattr(self, kind, getattr(self, kind) + 1)
            self.cond.notify_all()


def _cli_reader(wh: Path, r: Readers) -> None:
    env = {**os.environ, "TRACELAB_GC_GRACE_SECONDS": "0"}
    reads_at, commits_at = 0, -1
    while not r.done:
        # back to back, but at most CLI_READS per commit (each is a process start on 2 shared cores)
        with r.cond:
            if r.commits_seen != commits_at:
                reads_at, commits_at = 0, r.commits_seen
            elif reads_at >= CLI_READS:
                at = commits_at
                r.cond.wait_for(lambda: r.done or r.commits_seen != at, timeout=HANG_SECONDS)  # noqa: B023 - waited on here
                continue
        reads_at += 1
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "tracelab", "sql", QUERY, "-w", str(wh), "--json"], capture_output=True, text=True, env=env, timeout=HANG_SECONDS
            )
        except subprocess.TimeoutExpired:
            r.errors.append("cli: tracelab sql hung")
            return
        if proc.returncode != 0 or "Traceback" in proc.stderr:
            r.errors.append(f"cli: exit {proc.returncode}: {proc.stderr.strip()}")
        else:
            row = json.loads(proc.stdout)[0]
            r.cli_answers.append(tuple(int(row[c] or 0) for c in COLUMNS))
        r.progressed("cli_reads")


def _connection_reader(wh: Path, r: Readers) -> None:
    while not r.done:
        opened_at = r.commits_seen
        try:
            con = tracelab.connect(wh)
        except Exception as exc:  # reported, not raised: the thread must keep the count going
            r.errors.append(f"connect: {type(exc).__name__}: {exc}")
            r.progressed("conn_reads")
            continue
        session = Opened(opened_at, opened_at)
        r.conn_sessions.append(session)
        try:
            # keep it open across SPAN commits, re-querying all the while
            while not r.done and r.commits_seen - opened_at < SPAN:
                try:
                    session.answers.append(_answer(con.execute(QUERY).fetchone()))
                except Exception as exc:
                    r.errors.append(f"long-lived connection: {type(exc).__name__}: {exc}")
                session.last = r.commits_seen
                r.progressed("conn_reads")
                # the next read once something happened (a commit, a CLI read): continuous
                # reading without spinning a core the writer and the CLI need
                with r.cond:
                    seen = (r.commits_seen, r.cli_reads)
                    r.cond.wait_for(lambda: r.done or (r.commits_seen, r.cli_reads) != seen, timeout=HANG_SECONDS)  # noqa: B023 - waited on here
        finally:
            con.close()


def test_readers_see_one_committed_snapshot_during_repeated_ingests(tmp_path):
    corpus = tmp_path / "logs"
    corpus.mkdir()
    wh = tmp_path / "wh"
    steps_file = tmp_path / "steps.json"
    steps_file.write_text(json.dumps(_steps(COMMITS)))
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "TRACELAB_GC_GRACE_SECONDS": "0"}
    writer = subprocess.Popen(
        [sys.executable, str(script), str(wh), str(corpus), str(steps_file), QUERY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    r = Readers()
    committed: dict[tuple, int] = {}  # answer -> snapshot version
    baseline = (0, 0)
    kept_for_readers: list[int] = []  # superseded parts kept on disk after each commit
    threads = [threading.Thread(target=_cli_reader, args=(wh, r), daemon=True), threading.Thread(target=_connection_reader, args=(wh, r), daemon=True)]
    started = False
    try:
        assert writer.stdout is not None and writer.stdin is not None
        for line in writer.stdout:
            msg = json.loads(line)
            if "commit" in msg:
                answer = tuple(msg["answer"])
                assert answer not in committed, f"two snapshots give the same answer {answer}: the test cannot tell them apart"
                committed[answer] = msg["commit"]
                kept_for_readers.append(msg["retired"])
                with r.cond:
                    r.commits_seen += 1
                    # reads counted from here on finished after this commit (a reader starts a
                    # new read once it sees commits_seen move, so both counts will grow)
                    baseline = (r.cli_reads, r.conn_reads)
                    r.cond.notify_all()
                if not started:
                    for t in threads:
                        t.start()
                    started = True
            elif "ingested" in msg:
                # the next commit only once both readers finished a read after this one
                with r.cond:
                    cli, conn = baseline
                    ok = r.cond.wait_for(lambda: (r.cli_reads > cli and r.conn_reads > conn) or bool(r.errors), timeout=HANG_SECONDS)  # noqa: B023 - waited on here
                assert ok, "a reader hung"
                writer.stdin.write("go\n")
                writer.stdin.flush()
            elif msg.get("done"):
                break
    finally:
        with r.cond:
            r.done = True
            r.cond.notify_all()
        if writer.stdin is not None:
            writer.stdin.close()
        assert writer.wait(timeout=HANG_SECONDS) == 0, "the writer failed"
        for t in threads:
            t.join(HANG_SECONDS)
    assert not any(t.is_alive() for t in threads), "a reader hung"

    assert r.errors == [], "\n".join(r.errors[:3])
    assert len(committed) == COMMITS and r.commits_seen == COMMITS
    # with no grace period only the readers' leases kept superseded parts: they did
    assert sum(1 for n in kept_for_readers if n) >= COMMITS // 2, kept_for_readers
    assert r.cli_reads >= COMMITS - 1 and r.conn_reads >= COMMITS - 1

    # every CLI read is the answer of one committed snapshot
    unknown = [a for a in r.cli_answers if a not in committed]
    assert not unknown, f"{len(unknown)} CLI reads match no committed snapshot, e.g. {unknown[0]}"
    cli_versions = [committed[a] for a in r.cli_answers]
    assert len(set(cli_versions)) >= 3  # they followed the commits

    # the long-lived connection reads the snapshot it opened, and nothing else, until reopened
    versions_opened = []
    for opened in r.conn_sessions:
        answers = opened.answers
        if not answers:
            continue
        assert answers[0] in committed, f"a connection opened on no committed snapshot: {answers[0]}"
        assert set(answers) == {answers[0]}, f"a connection's answers changed while it was open: {sorted(set(answers))[:3]}"
        versions_opened.append(committed[answers[0]])
    assert versions_opened == sorted(versions_opened)
    spanning = [o for o in r.conn_sessions if o.last - o.at >= SPAN - 1 and o.answers]
    assert len(spanning) >= COMMITS // SPAN - 2, "the long-lived connection was not held across commits"

    # afterwards a new connection reads the last snapshot; its answer is the last one recorded
    con = tracelab.connect(wh)
    try:
        last = _answer(con.execute(QUERY).fetchone())
    finally:
        con.close()
    assert committed[last] == max(committed.values())
