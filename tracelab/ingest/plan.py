"""Stage 1 of an ingest, **plan**: list the inputs, detect each file's agent, and decide per file
from the manifest (``files`` table) what to read:

* same size, mtime, parser and schema version → *unchanged*: not opened at all;
* grew, and the bytes already ingested still hash to the stored fingerprint → *append*: only
  the new tail is parsed, continuing from the parser state saved in the manifest;
* anything else (new file, rewritten, truncated, parser upgraded) → *full* parse; a file that
  was in the warehouse before has its old rows removed first.

The result is a :class:`Plan`: the :class:`FileTask` list the parse stage runs.
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tracelab import schema as S
from tracelab.errors import InputError
from tracelab.ingest import registry
from tracelab.ingest.summary import IngestSummary

__all__ = ["FileTask", "IngestError", "Plan", "fingerprint", "input_roots", "make_plan", "prefix_unchanged", "resolve_inputs"]


class IngestError(InputError):
    """An input path named by the user cannot be used (no such file or directory)."""


@dataclass
class FileTask:
    """One file for the parse stage: where to start reading and with which parser state."""

    path: str
    agent: str | None  # None: detect in the worker
    mode: str  # full | append | reparse (an append the adapter turned into a full parse)
    start_offset: int = 0
    start_line: int = 0
    state: dict | None = None
    size: int = 0
    mtime_ns: int = 0


@dataclass
class Plan:
    """What an ingest will read: the tasks, the files whose old rows go, what was looked at."""

    tasks: list[FileTask] = field(default_factory=list)
    #: files in the warehouse that are parsed again from the start (their old rows are removed)
    removed_paths: set[str] = field(default_factory=set)
    #: path -> (size, mtime_ns) of every input, for the no-op stat cache
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: files that matched no adapter (recorded so the stat cache knows them)
    skipped_paths: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------- discovery
def resolve_inputs(
    paths: Iterable[str],
    agent: str | None = None,
    skipped: list[str] | None = None,
    sources: list[dict] | None = None,
    known: dict[str, str] | None = None,
    skipped_paths: list[str] | None = None,
    defer_detection: bool = False,
) -> list[tuple[Path, registry.Adapter | None]]:
    """Expand files, directories and globs into (file, adapter) pairs; with no paths, every
    adapter's default locations. Content decides the agent unless ``agent`` is given.
    ``*.jsonl`` files inside a directory whose content matches no adapter are listed in
    ``skipped`` (a file named explicitly is always ingested). With ``defer_detection`` a new
    file found in a directory comes back with adapter None: the parser process reads its head
    (in parallel) and skips it there if it matches no adapter."""
    ads = registry.adapters()
    forced = registry.get(agent) if agent else None
    out: dict[Path, registry.Adapter | None] = {}
    ad: registry.Adapter | None
    paths = list(paths)
    if not paths:
        for ad in [forced] if forced else ads.values():
            for root in ad.default_roots():
                n = 0
                if root.is_dir():
                    for p in ad.discover(root):
                        out.setdefault(p.resolve(), ad)
                        n += 1
                if sources is not None:
                    sources.append({"agent": ad.name, "root": str(root), "exists": root.is_dir(), "files": n})
        return sorted(out.items(), key=lambda kv: str(kv[0]))
    for raw in paths:
        expanded = [Path(p) for p in glob.glob(os.path.expanduser(raw), recursive=True)] if any(c in raw for c in "*?[") else [Path(os.path.expanduser(raw))]
        if not expanded:
            raise IngestError(f"{raw}: no such file or directory", path=raw)
        for p in expanded:
            if p.is_dir():
                root = p.resolve()
                for f in registry.candidate_files(p):
                    # resolve() stats every path component; only links need it
                    rf = f.resolve() if f.is_symlink() else root / f.relative_to(p)
                    # a file already in the manifest keeps its agent: no need to read its head
                    ad = forced or (ads.get(known[str(rf)]) if known and str(rf) in known else None)
                    if ad is None and defer_detection:
                        out.setdefault(rf, None)
                        continue
                    ad = ad or registry.detect(f)
                    if ad is not None:
                        out.setdefault(rf, ad)
                    elif skipped is not None and f.stat().st_size > 0:
                        message = registry.report_unmatched(f)
                        if message:
                            skipped.append(message)
                        if skipped_paths is not None:
                            skipped_paths.append(str(f))
            elif p.is_file():
                ad = forced or registry.detect(p)
                if ad is None:
                    if p.stat().st_size == 0:
                        ad = next(iter(ads.values()))  # an empty file: recorded with 0 lines
                    else:
                        if skipped is not None:
                            skipped.append(f"{p}: {_why_unrecognised(p)}; pass --agent to force an adapter")
                        if skipped_paths is not None:
                            skipped_paths.append(str(p))
                        continue
                out.setdefault(p.resolve(), ad)
            else:
                raise IngestError(f"{p}: no such file or directory", path=str(p))
    return sorted(out.items(), key=lambda kv: str(kv[0]))


def _why_unrecognised(p: Path) -> str:
    """A short reason a file matched no adapter (e.g. a whole JSON document, not JSONL)."""
    known = registry.unsupported_format(p)
    if known:
        return known
    try:
        with open(p, "rb") as fh:
            head = fh.read(1 << 20)
        if len(head) < (1 << 20):
            obj = orjson.loads(head)
            return f"a single JSON {type(obj).__name__} document, not a JSONL session file"
    except (orjson.JSONDecodeError, OSError):
        pass
    return f"content matches no known agent format ({registry.known_formats()})"


def input_roots(paths: list[str], agent: str | None) -> list[str]:
    """The directories whose listing decides the inputs: the given directories, or with no
    paths the default locations of every (or the forced) adapter."""
    if paths:
        return [os.path.abspath(os.path.expanduser(p)) for p in paths if os.path.isdir(os.path.expanduser(p))]
    ads = [registry.get(agent)] if agent else list(registry.adapters().values())
    return [str(root) for ad in ads for root in ad.default_roots()]


# ---------------------------------------------------------------------------------- fingerprints
def _hash_prefix(h: Any, path: str, nbytes: int) -> Any:
    """Feed the first ``nbytes`` bytes of ``path`` to the hash object ``h``."""
    with open(path, "rb") as fh:
        remaining = nbytes
        while remaining > 0:
            chunk = fh.read(min(remaining, 1 << 20))
            if not chunk:
                break
            h.update(chunk)
            remaining -= len(chunk)
    return h


def fingerprint(path: str, nbytes: int) -> str:
    """``sha256:<hex>`` of the first ``nbytes`` bytes (the part already ingested) and their
    count. A full hash, not a sample: a file edited anywhere in the ingested part (a secret
    removed by hand, say) must be re-parsed, never treated as an append. SHA-256 runs on the
    CPU's SHA instructions, about twice as fast as BLAKE2b here."""
    h = _hash_prefix(hashlib.sha256(), path, nbytes)
    h.update(b"|" + str(nbytes).encode())
    return "sha256:" + h.hexdigest()


def _legacy_fingerprint(path: str, nbytes: int) -> str:
    """The fingerprint manifests written before ``sha256:`` (BLAKE2b-128, length first)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(str(nbytes).encode())
    return _hash_prefix(h, path, nbytes).hexdigest()


def prefix_unchanged(path: str, nbytes: int, stored: str) -> bool:
    """Do the first ``nbytes`` bytes of ``path`` still hash to ``stored`` (either format)?"""
    if stored.startswith("sha256:"):
        return fingerprint(path, nbytes) == stored
    return _legacy_fingerprint(path, nbytes) == stored


# ---------------------------------------------------------------------------------- the plan
def make_plan(paths: list[str], agent: str | None, manifest: dict[str, dict], policy: str | None, summary: IngestSummary) -> Plan:
    """List the inputs and decide, file by file against ``manifest`` (path -> ``files`` row),
    whether it is unchanged, appended or parsed in full; counts go to ``summary``."""
    plan = Plan()
    known = {p: r["agent"] for p, r in manifest.items()}
    inputs = resolve_inputs(paths, agent, summary.skipped, summary.sources, known, plan.skipped_paths, defer_detection=True)
    summary.files_seen = len(inputs)
    for path, ad in inputs:
        sp = str(path)
        st = os.stat(sp)
        plan.stats[sp] = (st.st_size, st.st_mtime_ns)
        prev = manifest.get(sp)
        if ad is None:  # new file, agent detected by the worker that parses it
            plan.tasks.append(FileTask(sp, None, "full", 0, 0, None, st.st_size, st.st_mtime_ns))
            continue
        same_version = (
            prev is not None
            and prev["parser_version"] == ad.parser_version
            and prev["schema_version"] == S.SCHEMA_VERSION
            and prev.get("redaction_policy") == policy
        )
        if prev is not None and same_version and prev["size_bytes"] == st.st_size and prev["mtime_ns"] == st.st_mtime_ns:
            summary.files_unchanged += 1
            continue
        if (
            prev is not None
            and same_version
            and st.st_size > prev["bytes_ingested"]
            and prev["bytes_ingested"] > 0
            and prefix_unchanged(sp, prev["bytes_ingested"], prev["fingerprint"])
        ):
            state = orjson.loads(prev["parser_state"]) if prev.get("parser_state") else None
            start_line = (state or {}).get("__end_line", 0)
            plan.tasks.append(FileTask(sp, ad.name, "append", prev["bytes_ingested"], start_line, state, st.st_size, st.st_mtime_ns))
            summary.files_appended += 1
            continue
        if prev is not None:
            plan.removed_paths.add(sp)
        plan.tasks.append(FileTask(sp, ad.name, "full", 0, 0, None, st.st_size, st.st_mtime_ns))
    return plan
