"""Histories of an input tree, replayed as incremental ingests and compared with one clean
ingest of the final tree (``tracelab.verify.compare``): the helper behind
``tests/test_incremental_property.py`` and the named regression tests.

A history is a list of states; a state maps a path relative to the tree to the file's bytes.
Between ingests the tree is made to match the next state: files written (only when their
bytes changed), removed, moved. Every file carries one fixed mtime, so nothing but content
and paths differs between the incremental and the clean warehouse.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tracelab import verify
from tracelab.ingest.commit import row_counts
from tracelab.ingest.run import PublishRequest, run
from tracelab.pipeline import ingest
from tracelab.store import derive

FIXED_MTIME_NS = 1_767_225_600 * 10**9  # 2026-01-01T00:00:00Z

State = dict[str, bytes]


def apply(tree: Path, state: State) -> None:
    """Make ``tree`` hold exactly ``state``."""
    tree.mkdir(parents=True, exist_ok=True)
    for dirpath, _dirs, files in os.walk(tree):
        for f in files:
            p = Path(dirpath) / f
            if str(p.relative_to(tree)) not in state:
                p.unlink()
    for rel, data in state.items():
        p = tree / rel
        if p.exists() and p.read_bytes() == data:
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        os.utime(p, ns=(FIXED_MTIME_NS, FIXED_MTIME_NS))


def publish_derived(req: PublishRequest) -> None:
    """The publish step without failure clustering and compaction (both tested for
    incremental == full elsewhere): the derived tables, incrementally when possible, as the
    real step does. Keeps a history's many ingests fast."""
    affected = derive.refresh(req.wh, req.snap, req.batch, req.new_events) if req.new_events is not None else None
    if affected is None:
        derive.rebuild(req.wh, req.snap, req.batch)
    req.wh.commit(req.snap)
    req.summary.rows = row_counts(req.wh, req.snap)


def replay(tmp: Path, history: list[State], prune: bool = True, derived_only: bool = False) -> list[verify.TableDiff]:
    """Ingest after every state (the last one with ``prune``), then compare with a clean
    ingest of the last state; returns the differences (none: the invariant holds). With
    ``derived_only`` the failure tables are not built (faster)."""
    tree, inc, clean = tmp / "tree", tmp / "incremental", tmp / "clean"
    for d in (tree, inc, clean):
        shutil.rmtree(d, ignore_errors=True)

    def one(wh: Path, last: bool) -> None:
        if derived_only:
            s = run([str(tree)], wh, publish=publish_derived, jobs=1, use_cache=False, prune=prune and last)
        else:
            s = ingest([str(tree)], wh, jobs=1, use_cache=False, prune=prune and last)
        assert not s.errors, s.errors

    for i, state in enumerate(history):
        apply(tree, state)
        one(inc, i == len(history) - 1)
    one(clean, True)
    return verify.compare(inc, clean)


def lines_of(data: bytes) -> list[bytes]:
    """The file's lines, each with its newline."""
    return data.splitlines(keepends=True)


def cut(data: bytes, n_lines: int, partial: int = 0) -> bytes:
    """The first ``n_lines`` lines of ``data`` plus ``partial`` bytes of the next (a
    half-written line)."""
    ls = lines_of(data)
    head = b"".join(ls[:n_lines])
    if partial and n_lines < len(ls):
        head += ls[n_lines][: max(1, min(partial, len(ls[n_lines]) - 1))]
    return head
