"""The store (tracelab/store/): one snapshot per command, read-only connections, snapshot
isolation across commits, and the warehouse faults it turns into one-line errors."""

from __future__ import annotations

import gc
import json
import os
import shutil
import stat
import subprocess
import sys

import duckdb
import pytest

import tracelab
from tracelab import failures as F
from tracelab import feedback as FB
from tracelab.errors import ParameterError, WarehouseCorrupt, WarehouseLocked, WarehouseMissing
from tracelab.pipeline import ingest
from tracelab.store import Store, scratch_connection
from tracelab.store import snapshot as snapshot_module
from tracelab.store.connection import refuse_writes
from tracelab.store.snapshot import SNAPSHOT, Snapshot, WarehouseFiles
from tracelab.store.warehouse import Warehouse


@pytest.fixture(scope="module")
def sample_files(claude_samples):
    files = sorted(claude_samples.rglob("*.jsonl"), key=lambda p: (p.stat().st_size, str(p)))
    return [f for f in files if f.stat().st_size > 2000][:5]


def _copy(files, d):
    d.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(files):
        shutil.copy(f, d / f"{i:02d}-{f.name}")


@pytest.fixture
def small_wh(tmp_path, sample_files):
    corpus = tmp_path / "corpus"
    _copy(sample_files[:2], corpus)
    wh = tmp_path / "wh"
    ingest([str(corpus)], wh, jobs=1)
    return wh


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tracelab", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


# ------------------------------------------------------------------------------ read-only


def test_connect_reads_the_views_and_refuses_writes_and_outside_files(small_wh, tmp_path):
    snap_before = (small_wh / "_snapshot.json").read_bytes()
    con = tracelab.connect(small_wh)
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] > 0
    assert con.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "UTC"
    refused = [
        f"COPY (SELECT 1 AS x) TO '{small_wh}/_snapshot.json' (FORMAT json)",
        f"COPY (SELECT 1 AS x) TO '{tmp_path}/out.csv'",
        f"COPY (SELECT * FROM events) TO '{small_wh}/events/x.parquet'",
        f"ATTACH '{tmp_path}/new.duckdb' AS other",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        f"EXPORT DATABASE '{tmp_path}/dump'",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
    ]
    for sql in refused:
        with pytest.raises(duckdb.Error):
            con.execute(sql)
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "new.duckdb").exists() and not (tmp_path / "dump").exists()
    assert (small_wh / "_snapshot.json").read_bytes() == snap_before
    # the warehouse still works, and the connection too
    assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == tracelab.connect(small_wh).execute("SELECT count(*) FROM sessions").fetchone()[0]
    # in-memory work is not a write to a file: temp tables are fine
    con.execute("CREATE TEMP TABLE t AS SELECT agent FROM sessions")
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] > 0


def test_read_only_false_lifts_it(small_wh, tmp_path):
    con = tracelab.connect(small_wh, read_only=False)
    con.execute(f"COPY (SELECT agent, count(*) AS n FROM sessions GROUP BY 1) TO '{tmp_path}/out.csv'")
    assert (tmp_path / "out.csv").read_text().startswith("agent,n")


def test_refuse_writes_names_the_statement():
    con = scratch_connection()
    with pytest.raises(ParameterError, match="COPY is not allowed"):
        refuse_writes(con, "SELECT 1; COPY (SELECT 1) TO 'x.parquet' (USE_TMP_FILE false)")
    with pytest.raises(ParameterError, match="ATTACH is not allowed"):
        refuse_writes(con, "ATTACH ':memory:' AS m")
    refuse_writes(con, "SELECT 1; CREATE TEMP TABLE t AS SELECT 2")  # reads and temp tables pass
    refuse_writes(con, "SELEC oops")  # a syntax error is the statement's own to report


def test_cli_sql_is_read_only_unless_write(small_wh, tmp_path):
    snap_before = (small_wh / "_snapshot.json").read_bytes()
    for sql in (
        f"COPY (SELECT 1 AS x) TO '{small_wh}/_snapshot.json' (FORMAT json)",
        f"COPY (SELECT * FROM events) TO '{small_wh}/events/x.parquet' (USE_TMP_FILE false)",
        "SELECT * FROM read_csv('/etc/passwd')",
        f"ATTACH '{tmp_path}/x.duckdb'",
    ):
        r = _cli("sql", sql, "--warehouse", str(small_wh))
        assert r.returncode != 0, sql
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "read-only" in r.stderr and "--write" in r.stderr
    assert (small_wh / "_snapshot.json").read_bytes() == snap_before
    assert not (small_wh / "events" / "x.parquet").exists() and not (tmp_path / "x.duckdb").exists()
    r = _cli("sql", "SELECT count(*) AS n FROM sessions", "--warehouse", str(small_wh), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["n"] > 0
    r = _cli("sql", f"COPY (SELECT agent FROM sessions) TO '{tmp_path}/agents.csv'", "--warehouse", str(small_wh), "--write")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "agents.csv").read_text().startswith("agent")


# ------------------------------------------------------------------------------ one snapshot per command


def test_store_reads_the_snapshot_once_and_hands_it_to_every_reader(small_wh, monkeypatch):
    reads = []
    real = WarehouseFiles.snapshot

    def counting(self):
        reads.append(self.root)
        return real(self)

    monkeypatch.setattr(WarehouseFiles, "snapshot", counting)
    with Store(small_wh) as store:
        f = F.load(store)
        fb = FB.load(store)
        assert f.snapshot is store.snapshot
        assert fb.height == 0
        assert store.con.execute("SELECT count(*) FROM failure_members").fetchone()[0] == f.members.height or not f.persisted
    assert len(reads) == 1


def test_missing_and_corrupt_warehouse_are_one_line_errors(tmp_path, small_wh):
    with pytest.raises(WarehouseMissing, match="no tracelab warehouse"):
        Store(tmp_path / "nothing")
    (small_wh / "_snapshot.json").write_text('{"version": 3, "tables": {"events": ["a"')
    with pytest.raises(WarehouseCorrupt, match="not valid JSON") as exc:
        tracelab.connect(small_wh)
    assert "\n" not in str(exc.value)
    for args in (("sql", "SELECT 1"), ("info",)):
        r = _cli(*args, "--warehouse", str(small_wh))
        assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
        assert "not valid JSON" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


# ------------------------------------------------------------------------------ snapshot isolation


def test_a_long_lived_connection_keeps_reading_its_snapshot_across_commits(tmp_path, sample_files):
    corpus = tmp_path / "corpus"
    _copy(sample_files[:1], corpus)
    wh = tmp_path / "wh"
    ingest([str(corpus)], wh, jobs=1)
    con = tracelab.connect(wh)
    q = "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM sessions), (SELECT count(*) FROM tool_calls), (SELECT count(*) FROM llm_calls)"
    first = con.execute(q).fetchone()
    versions = [Warehouse(wh).snapshot().version]
    for i in range(1, len(sample_files)):  # one commit per new file; each rewrites the derived tables
        _copy(sample_files[i : i + 1], corpus / f"more{i}")
        ingest([str(corpus)], wh, jobs=1)
        versions.append(Warehouse(wh).snapshot().version)
        assert con.execute(q).fetchone() == first  # no "No files found", and the same snapshot
        assert con.execute("SELECT count(DISTINCT session_key) FROM events").fetchone()[0] == first[1]
    assert len(set(versions)) == len(sample_files) >= 4
    now = tracelab.connect(wh).execute(q).fetchone()
    assert now[0] > first[0] and now[1] > first[1]
    snap = Warehouse(wh).snapshot()
    assert snap.retired and not set(snap.retired) & snap.live()
    assert all((wh / rel).exists() for rel in snap.retired)


def test_retired_parts_are_deleted_after_the_grace_period(small_wh, monkeypatch):
    wh = Warehouse(small_wh)
    with wh.lock():
        snap = wh.snapshot()
        old = snap.tables["sessions"][0]
        snap.tables["sessions"] = [wh.write_part("sessions", wh.read_table("sessions", snap), "regraced")]
        wh.commit(snap)
    assert old in wh.snapshot().retired and (small_wh / old).exists()
    monkeypatch.setattr(snapshot_module, "GRACE_SECONDS", 0.0)
    with wh.lock():
        wh.commit(wh.snapshot())
    assert old not in wh.snapshot().retired and not (small_wh / old).exists()


def _supersede_sessions(wh: Warehouse, name: str) -> str:
    """Commit a snapshot whose sessions part is a new copy; the old part's path."""
    with wh.lock():
        snap = wh.snapshot()
        old = snap.tables["sessions"][0]
        snap.tables["sessions"] = [wh.write_part("sessions", wh.read_table("sessions", snap), name)]
        wh.commit(snap)
    return old


def test_an_open_reader_keeps_its_parts_past_the_grace_period_until_it_closes(small_wh, monkeypatch):
    monkeypatch.setattr(snapshot_module, "GRACE_SECONDS", 0.0)
    wh = Warehouse(small_wh)
    store = Store(small_wh)
    n = store.con.execute("SELECT count(*) FROM sessions").fetchone()[0]
    leases = list((small_wh / snapshot_module.READERS).glob("*.lease"))
    assert len(leases) == 1 and json.loads(leases[0].read_text())["version"] == store.snapshot.version
    olds = [_supersede_sessions(wh, f"lease{i}") for i in range(3)]  # three commits while it reads
    assert all((small_wh / rel).exists() for rel in olds)
    assert store.con.execute("SELECT count(*) FROM sessions").fetchone()[0] == n
    # a reader opened later pins a later snapshot: the first part is still kept for the first reader
    later = tracelab.connect(small_wh)
    store.close()
    assert len(list((small_wh / snapshot_module.READERS).glob("*.lease"))) == 1
    _supersede_sessions(wh, "after-close")
    assert not (small_wh / olds[0]).exists() and not (small_wh / olds[1]).exists()  # no open reader's snapshot had them
    assert later.execute("SELECT count(*) FROM sessions").fetchone()[0] == n
    del later  # tracelab.connect hands out only the connection: dropping it releases the lease
    gc.collect()
    assert not list((small_wh / snapshot_module.READERS).glob("*.lease"))
    _supersede_sessions(wh, "all-closed")
    assert not any((small_wh / rel).exists() for rel in olds)


def test_a_lease_of_a_reader_that_died_is_dropped(small_wh, monkeypatch):
    monkeypatch.setattr(snapshot_module, "GRACE_SECONDS", 0.0)
    code = f"import os, tracelab; con = tracelab.connect({str(small_wh)!r}); con.execute('SELECT count(*) FROM sessions').fetchone(); os._exit(0)"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert len(list((small_wh / snapshot_module.READERS).glob("*.lease"))) == 1  # left behind, unlocked
    wh = Warehouse(small_wh)
    old = _supersede_sessions(wh, "dead-reader")
    assert (small_wh / old).exists()  # a part of the previous snapshot, the rollback target, until the next commit
    _supersede_sessions(wh, "dead-reader-2")  # a lease the dead reader still held would pin it past this one
    assert not (small_wh / old).exists() and not list((small_wh / snapshot_module.READERS).iterdir())


def test_a_commit_keeps_the_snapshot_it_replaces_and_its_parts_until_the_next(small_wh, monkeypatch):
    """``_snapshot.prev.json`` is the snapshot the last commit replaced, byte for byte in
    content; its parts survive that commit even with no grace period and no reader, and go at
    the commit after (when another snapshot becomes the one to roll back to)."""
    monkeypatch.setattr(snapshot_module, "GRACE_SECONDS", 0.0)
    wh = Warehouse(small_wh)
    before = json.loads((small_wh / SNAPSHOT).read_text())
    old = _supersede_sessions(wh, "prev1")
    prev = wh.previous_snapshot()
    assert prev is not None and prev.to_json() == Snapshot.from_json(before).to_json()
    assert old in prev.tables["sessions"] and (small_wh / old).exists() and old in wh.snapshot().retired
    assert not list(small_wh.glob("*.tmp"))
    middle = wh.snapshot()
    _supersede_sessions(wh, "prev2")
    assert wh.previous_snapshot().to_json() == middle.to_json()
    assert not (small_wh / old).exists()  # no snapshot to roll back to lists it any more
    assert all((small_wh / rel).exists() for rel in wh.previous_snapshot().live())


def test_no_previous_snapshot_is_kept_for_one_that_does_not_read(small_wh):
    wh = Warehouse(small_wh)
    _supersede_sessions(wh, "prev1")
    kept = (small_wh / snapshot_module.PREVIOUS).read_text()
    (small_wh / SNAPSHOT).write_text("{not json")
    with wh.lock():
        snap = Snapshot.from_json(json.loads(kept))
        wh.commit(snap)
    assert (small_wh / snapshot_module.PREVIOUS).read_text() == kept  # the corrupt one is not a rollback target


def test_a_read_only_warehouse_is_read_without_a_lease(small_wh, monkeypatch):
    def refused(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(snapshot_module.Path, "mkdir", refused)
    with Store(small_wh) as store:
        assert store.con.execute("SELECT count(*) FROM sessions").fetchone()[0] > 0
    assert not list(small_wh.glob(f"{snapshot_module.READERS}/*"))


def test_orphans_are_deleted_at_once(small_wh):
    wh = Warehouse(small_wh)
    orphan = small_wh / "events" / "month=2020-01" / "part-killed-0000.parquet"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(small_wh / wh.snapshot().tables["events"][0], orphan)
    with wh.lock():
        wh.commit(wh.snapshot())
    assert not orphan.exists()


# ------------------------------------------------------------------------------ commit and lock


def test_commit_fsyncs_the_snapshot_directory(small_wh, monkeypatch):
    synced_dirs = []
    real = os.fsync

    def spy(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            synced_dirs.append(os.readlink(f"/proc/self/fd/{fd}") if os.path.exists(f"/proc/self/fd/{fd}") else "dir")
        return real(fd)

    monkeypatch.setattr(snapshot_module.os, "fsync", spy)
    wh = Warehouse(small_wh)
    with wh.lock():
        wh.commit(wh.snapshot())
    assert synced_dirs and synced_dirs[-1] in (str(wh.root), "dir")


def test_a_refused_lock_keeps_the_holders_pid(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    with wh.lock():
        held = (wh.root / ".lock").read_text()
        assert held.startswith(f"pid {os.getpid()} since ")
        for _ in range(2):  # the second refusal still names the holder
            with pytest.raises(WarehouseLocked, match=f"pid {os.getpid()} since") as exc:
                with wh.lock():
                    pass
            assert (wh.root / ".lock").read_text() == held
        assert exc.value.context["holder"] == held
    assert (wh.root / ".lock").read_text() == ""  # released by its holder


# ------------------------------------------------------------------------------ public surface


def test_the_public_functions_stay_functions_after_their_modules_load():
    """``tracelab.query`` / ``tracelab.ingest`` are functions, also once ``tracelab.library`` and
    the ``tracelab.ingest`` package's modules are imported (no callable-module tricks)."""
    import inspect

    import tracelab.ingest.run  # noqa: F401
    import tracelab.library  # noqa: F401

    for name in tracelab.__all__:
        if name != "__version__":
            assert inspect.isfunction(getattr(tracelab, name)), name
    code = "import tracelab, tracelab.ingest.run, tracelab.pipeline, tracelab.library; print(type(tracelab.ingest).__name__, type(tracelab.query).__name__)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert r.stdout.split() == ["function", "function"]
    r = subprocess.run(
        [sys.executable, "-c", "import tracelab, sys; print(sorted(m for m in ('duckdb', 'polars', 'pyarrow') if m in sys.modules))"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert r.stdout.strip() == "[]"  # import tracelab stays cheap
