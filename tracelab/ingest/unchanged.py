"""The no-op ingest, answered from a stat cache without importing pyarrow or any adapter.

Re-running ``tracelab ingest`` over a corpus that has not changed is the most common call (a cron
job, a notebook cell, the start of every report), so it must cost about as much as listing the
files. The full path reads the ``files`` manifest from Parquet, walks the inputs and detects
every new file's agent; that is ~0.6 s of imports and I/O before it can say "nothing to do".

After every ingest the engine writes ``_unchanged.json`` beside the snapshot. It records:

* the request: the input paths as given (made absolute), ``--agent`` and, when no paths were
  given, the environment that decides the default locations;
* the snapshot version it describes and a stamp of the ingest code (size and mtime of every
  module under ``tracelab/ingest``, of ``tracelab/schema.py``, the derive step and its SQL), so
  a new parser, schema or derivation never takes the shortcut;
* every directory under every input directory with its mtime (a file created, deleted or
  renamed in a directory changes that directory's mtime), every input file with the size and
  mtime the manifest holds for it, and every skipped file with its stat;
* what the summary reports (files seen, skipped, default locations, row counts).

:func:`check` answers only if all of that still holds, and otherwise returns ``None`` so the
full path runs. It is deliberately conservative: globs, ``--redact``, symbolic links to
directories, files that failed to parse and entries modified in the last two seconds (mtime
granularity: a change within the same clock tick would not move the mtime) all disable the
shortcut for the next run.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tracelab.ingest.agents import ADAPTER_MODULES
from tracelab.ingest.summary import IngestSummary

CACHE = "_unchanged.json"
SNAPSHOT = "_snapshot.json"
FORMAT = 1
#: entries modified this recently are not trusted (same-tick changes keep the mtime)
RACY_NS = 2_000_000_000
_ENV = ("HOME", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "PI_AGENT_DIR")
_GLOB = set("*?[")


def code_stamp() -> list[list[Any]]:
    """(relative path, size, mtime_ns) of the ingest code and the schema module."""
    pkg = Path(__file__).resolve().parents[1]
    out: list[list[Any]] = []
    for p in sorted([pkg / "schema.py", pkg / "store" / "derive.py", *(pkg / "ingest").rglob("*.py"), *(pkg / "sql").glob("*.sql")]):
        st = p.stat()
        out.append([p.relative_to(pkg).as_posix(), st.st_size, st.st_mtime_ns])
    return out


def request(paths: Iterable[str], agent: str | None) -> dict[str, Any] | None:
    """The part of the call the answer depends on; None when it cannot be cached (globs)."""
    paths = list(paths)
    if any(_GLOB & set(p) for p in paths):
        return None
    return {
        "paths": [os.path.abspath(os.path.expanduser(p)) for p in paths],
        "agent": agent,
        "env": {k: os.environ.get(k) for k in _ENV} if not paths else {},
    }


def walk_dirs(roots: Iterable[str]) -> dict[str, int | None] | None:
    """mtime of every directory under ``roots`` (None for a root that does not exist); None if
    a directory holds a symbolic link to a directory (discovery follows those)."""
    out: dict[str, int | None] = {}
    for root in roots:
        if not os.path.isdir(root):
            out[root] = None
            continue
        for dirpath, dirnames, _ in os.walk(root):
            for d in dirnames:
                if os.path.islink(os.path.join(dirpath, d)):
                    return None
            out[dirpath] = os.stat(dirpath).st_mtime_ns
    return out


def record(
    root: Path,
    req: dict[str, Any] | None,
    dirs: dict[str, int | None] | None,
    files: dict[str, tuple[int, int]],
    skipped_files: list[str],
    summary: IngestSummary,
    snapshot_version: int,
) -> None:
    """Write the cache after an ingest (called with the warehouse lock held); removes a stale
    one when this ingest cannot be answered from a cache next time."""
    path = root / CACHE
    now = time.time_ns()
    ok = req is not None and dirs is not None and not summary.errors
    extra: dict[str, list[int]] = {}
    if ok:
        for p in skipped_files:
            try:
                st = os.stat(p)
            except OSError:
                ok = False
                break
            extra[p] = [st.st_size, st.st_mtime_ns]
    if ok:
        stamps = [m for m in (dirs or {}).values() if m is not None]
        stamps += [m for _, m in files.values()] + [m for _, m in extra.values()]
        ok = all(now - m > RACY_NS for m in stamps)
    if not ok:
        try:
            path.unlink()
        except OSError:  # gone already, or a read-only warehouse (the cache is only a shortcut)
            pass
        return
    doc = {
        "format": FORMAT,
        "snapshot_version": snapshot_version,
        "derive_stamp": _derive_stamp(root),
        "request": req,
        "code": code_stamp(),
        "dirs": dirs,
        "files": {p: [s, m] for p, (s, m) in files.items()},
        "skipped_files": extra,
        "result": {
            "files_seen": summary.files_seen,
            "skipped": summary.skipped,
            "skipped_by_reason": summary.skipped_by_reason,
            "files_missing": summary.files_missing,
            "sources": summary.sources,
            "rows": summary.rows,
        },
    }
    tmp = root / f"{CACHE}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w") as fh:
            json.dump(doc, fh, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:  # a read-only warehouse: the next run takes the full path
        pass


def check(paths: Iterable[str], warehouse: str | os.PathLike, agent: str | None = None) -> IngestSummary | None:
    """The summary of an ingest that would change nothing, or None if one might."""
    t0 = time.perf_counter()
    req = request(paths, agent)
    root = Path(warehouse).expanduser().resolve()
    if req is None or not (root / CACHE).is_file():
        return None
    lock = root / ".lock"
    try:
        fh = open(lock, "a+")
    except OSError:
        try:
            fh = open(lock)  # a read-only warehouse can still be locked, and answered
        except OSError:
            return None
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:  # another ingest is running: let the full path report it
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return None
            raise
        try:
            return _check_locked(root, req, t0)
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()


def _derive_stamp(root: Path) -> str | None:
    """The derive stamp the warehouse's snapshot records (None when it records none)."""
    try:
        with open(root / SNAPSHOT, "rb") as f:
            stamp = ((json.load(f).get("extra") or {}).get("derive") or {}).get("stamp")
    except (OSError, ValueError, AttributeError):
        return None
    return stamp if isinstance(stamp, str) else None


def _check_locked(root: Path, req: dict[str, Any], t0: float) -> IngestSummary | None:
    try:
        with open(root / CACHE, "rb") as f:
            doc = json.load(f)
        with open(root / SNAPSHOT, "rb") as f:
            version = json.load(f).get("version")
    except (OSError, ValueError):
        return None
    if doc.get("format") != FORMAT or doc.get("snapshot_version") != version or doc.get("request") != req or doc.get("code") != code_stamp():
        return None
    if doc.get("derive_stamp") != _derive_stamp(root):  # derived tables rebuilt or stale: the full path decides
        return None
    for d, mtime in doc["dirs"].items():
        try:
            st = os.stat(d)
        except FileNotFoundError:
            if mtime is None:
                continue
            return None
        if mtime is None or st.st_mtime_ns != mtime:
            return None
    for group in (doc["files"], doc["skipped_files"]):
        for p, (size, mtime) in group.items():
            try:
                st = os.stat(p)
            except OSError:
                return None
            if st.st_size != size or st.st_mtime_ns != mtime:
                return None
    res = doc["result"]
    return IngestSummary(
        warehouse=str(root),
        files_seen=res["files_seen"],
        files_unchanged=len(doc["files"]),
        rows=res["rows"],
        skipped=res["skipped"],
        skipped_by_reason=res.get("skipped_by_reason", {}),
        files_missing=res.get("files_missing", 0),
        sources=res["sources"],
        seconds=time.perf_counter() - t0,
    )


_AGENTS = ADAPTER_MODULES


def _ingest_args(args: list[str]) -> tuple[list[str], str, str | None, bool] | None:
    """(paths, warehouse, agent, as_json) of ``tracelab ingest ARGS`` when ARGS use only the
    plain options below; None for anything else (``--redact``, ``--help``, ``--``, bundled or
    unknown flags, a bad value), which the click command then parses and reports."""
    paths: list[str] = []
    warehouse = os.environ.get("TRACELAB_WAREHOUSE", "warehouse")
    agent: str | None = None
    as_json = False
    it = iter(args)
    for a in it:
        name, eq, inline = a.partition("=") if a.startswith("--") else (a, "", "")
        if not a.startswith("-") or a == "-":
            paths.append(a)
        elif a in ("--json",):
            as_json = True
        elif a in ("--quiet", "-q"):
            pass
        elif name in ("--warehouse", "-w", "--agent", "--jobs", "-j"):
            value = inline if eq else next(it, None)
            if not value or (not eq and value.startswith("-")):
                return None
            if name in ("--warehouse", "-w"):
                warehouse = value
            elif name == "--agent":
                if value not in _AGENTS:
                    return None
                agent = value
            elif not value.isdigit():
                return None
        else:
            return None
    if not warehouse:
        return None
    return paths, warehouse, agent, as_json


def answer_command_line(args: list[str]) -> bool:
    """Answer ``tracelab ingest ARGS`` (ARGS after ``ingest``) from the stat cache before the
    command-line framework is imported (~25 ms of a ~70 ms no-op run); True if it printed the
    summary, False if the click command must run."""
    parsed = _ingest_args(args)
    if parsed is None:
        return False
    paths, warehouse, agent, as_json = parsed
    try:
        cached = check(paths, warehouse, agent)
    except OSError:
        return False
    if cached is None:
        return False
    if as_json:
        print(cached.to_json())
    else:
        out, err = cached.text_lines()
        print("\n".join(out))
        for line in err:
            print(line, file=sys.stderr)
    return True
