"""Row digests of every table a clean ingest of the real samples produces.

A guard for refactors that must not change behaviour: ``tests/test_table_digest.py`` ingests the
samples of the agents listed in ``AGENT_DIRS`` and compares one digest per table (the sorted
SHA-256 of every row, as canonical JSON) with ``tests/golden/table_digest.json``.

Keys and ids hash the input path (Claude's and Codex's per-file tags), so the samples are copied to
one fixed directory with fixed modification times before the ingest: the digest is then the same
on every machine and checkout. Columns that record when the ingest ran are left out.

Regenerate after a deliberate change of output (say why in the commit)::

    .venv/bin/python -m tests.table_digest --write
"""

from __future__ import annotations

import argparse
import datetime as _dt
import fcntl
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import orjson

GOLDEN = Path(__file__).resolve().parent / "golden" / "table_digest.json"
#: the sample folders whose tables are pinned (newer formats join as their adapters land)
AGENT_DIRS = ("claude-code", "claude-code-2.1", "codex", "pi")
#: fixed, so that path-derived keys are the same everywhere
FIXED_ROOT = Path("/tmp/tracelab-table-digest")
FIXED_MTIME = 1_767_225_600  # 2026-01-01T00:00:00Z
#: columns that say when the ingest ran, not what it read
VOLATILE = {"files": {"ingested_at"}}


def _default(obj: object) -> object:
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    if isinstance(obj, bytes):
        return obj.hex()
    raise TypeError(type(obj).__name__)


def stage_samples(samples: Path, root: Path = FIXED_ROOT) -> Path:
    """Copy ``AGENT_DIRS`` of ``samples`` under ``root`` with fixed mtimes; return the copy."""
    dest = root / "samples"
    if root.exists():
        shutil.rmtree(root)
    for name in AGENT_DIRS:
        shutil.copytree(samples / name, dest / name)
    for dirpath, _dirs, files in os.walk(dest):
        for f in files:
            os.utime(Path(dirpath) / f, (FIXED_MTIME, FIXED_MTIME))
    return dest


def table_digests(warehouse: Path) -> dict[str, dict[str, object]]:
    """``{table: {"rows": n, "sha256": digest}}`` for every table of the warehouse's snapshot."""
    import tracelab
    from tracelab.store.snapshot import LAYOUT_TABLES

    con = tracelab.connect(warehouse)
    snap = json.loads((Path(warehouse) / "_snapshot.json").read_text())
    out: dict[str, dict[str, object]] = {}
    for table in sorted(set(snap["tables"]) - LAYOUT_TABLES):  # the search index maps row numbers of parts, not data
        cols = [c[0] for c in con.execute(f'DESCRIBE "{table}"').fetchall() if c[0] not in VOLATILE.get(table, set())]
        rows = con.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{table}"').fetchall()
        hashes = sorted(
            hashlib.sha256(orjson.dumps(dict(zip(cols, r)), default=_default, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)).hexdigest() for r in rows
        )
        out[table] = {"rows": len(rows), "sha256": hashlib.sha256("\n".join(hashes).encode()).hexdigest()}
    con.close()
    return out


def build(samples: Path) -> dict[str, dict[str, object]]:
    """Stage, ingest and digest; one process at a time (the staging path is fixed)."""
    from tracelab.pipeline import ingest

    with open(f"{FIXED_ROOT}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        staged = stage_samples(samples)
        wh = FIXED_ROOT / "warehouse"
        summary = ingest([str(staged / name) for name in AGENT_DIRS], wh, jobs=1)
        if summary.files_failed:
            raise RuntimeError(f"sample ingest failed: {summary.errors}")
        return table_digests(wh)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=Path, default=Path(os.environ.get("TRACELAB_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "samples")
    ap.add_argument("--write", action="store_true", help=f"store the digests in {GOLDEN}")
    args = ap.parse_args(argv)
    got = build(args.samples)
    text = json.dumps(got, indent=2, sort_keys=True) + "\n"
    if args.write:
        GOLDEN.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
