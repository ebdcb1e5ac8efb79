"""Stage 3 of an ingest, **stage**: the parse workers write their rows to ``.staging/`` as
uncompressed Arrow IPC (and each batch's line keys as a small Parquet file); the final Parquet
parts are written only once the commit stage knows which rows repeat lines of other batches or
of the warehouse (:func:`write_staged`, run in the workers again)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracelab import schema as S
from tracelab.store.warehouse import Warehouse

__all__ = ["STAGING", "StageJob", "dup_mask", "stage_events", "stage_groups", "stage_keys", "unstage_files", "write_staged"]

#: Workers write their rows here; removed at the end of every ingest (and at the start of the
#: next one, after a killed run).
STAGING = ".staging"


def _staged_path(wh: Warehouse, rel: str) -> str:
    (wh.root / STAGING).mkdir(parents=True, exist_ok=True)
    return str(wh.root / f"{rel}.tmp")


def stage_events(wh: Warehouse, table: pa.Table | Iterable[pa.Table], name: str) -> str:
    """Write one batch's ``events`` rows (a table, or tables of the ``events`` schema arriving
    one at a time) as ``.staging/<name>.arrow``; returns its relative path."""
    rel = f"{STAGING}/{name}.arrow"
    tmp = _staged_path(wh, rel)
    with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_file(sink, S.EVENTS) as writer:
        for t in [table] if isinstance(table, pa.Table) else table:
            writer.write_table(t, max_chunksize=64 * 1024)
    os.replace(tmp, wh.root / rel)
    return rel


def stage_keys(wh: Warehouse, keys: list[tuple[str, pa.Table]], name: str) -> str | None:
    """Stage the line keys of a batch's files, (path, line_no, line_key, has_rows), as a Parquet
    file that the duplicate-line query reads: the keys of a whole corpus (~70 bytes a line)
    never pass through the main process."""
    tables = [t.append_column("path", pa.array([path] * t.num_rows, pa.string())) for path, t in keys if t.num_rows]
    if not tables:
        return None
    rel = f"{STAGING}/{name}.keys.parquet"
    tmp = _staged_path(wh, rel)
    pq.write_table(pa.concat_tables(tables), tmp, compression="none")
    os.replace(tmp, wh.root / rel)
    return rel


def unstage_files(wh: Warehouse, staged: list[str], key_parts: list[str], reject_parts: list[str], paths: set[str]) -> None:
    """Remove the staged rows, line keys and rejects (parts the workers wrote, in no snapshot
    yet) of the files ``paths``: an append the commit stage will not use, the file being
    parsed again in full. Only the files that hold any of them are rewritten."""
    drop = pa.array(sorted(paths), pa.string())
    files = [(r, "source_file") for r in staged] + [(r, "path") for r in key_parts] + [(r, "source_file") for r in reject_parts]
    for rel, column in files:
        full = wh.root / rel
        if rel.endswith(".arrow"):
            with pa.OSFile(str(full)) as src:  # read into memory: the file is replaced below
                t = pa.ipc.open_file(src).read_all()
        else:
            t = pq.ParquetFile(full).read()  # the file alone (no partition columns from its path)
        keep = pc.invert(pc.is_in(t.column(column), value_set=drop))
        if pc.all(keep).as_py() is not False:
            continue
        t = t.filter(keep)
        tmp = f"{full}.tmp"
        if rel.endswith(".arrow"):
            with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_file(sink, t.schema) as writer:
                writer.write_table(t, max_chunksize=64 * 1024)
        else:
            # a staged key file is read once (uncompressed); a rejects part stays in the warehouse
            pq.write_table(t, tmp, compression="none" if rel.startswith(STAGING) else "zstd")
        os.replace(tmp, full)


@dataclass
class StageJob:
    """One worker's share of the final write: staged batches and the duplicate lines to drop."""

    root: str
    staged: list[str]
    #: source file -> line numbers whose rows are dropped
    dups: dict[str, list[int]]


def write_staged(job: StageJob) -> list[str]:
    """Worker: turn a group of staged batches into ``events`` Parquet parts, one per month (the
    group's rows streamed into one writer per month), without the rows of the duplicate lines
    listed in ``job.dups``; remove the staged files."""
    wh = Warehouse(job.root)
    rels, dups = job.staged, job.dups

    def rows() -> Iterator[pa.Table]:
        step = 4  # staged batches are 64k rows: Parquet row groups of 256k, as before
        for rel in rels:
            path = str(wh.root / rel)
            with pa.memory_map(path) as src:
                n = pa.ipc.open_file(src).num_record_batches
            for i in range(0, n, step):
                # memory-mapped (no copy of the staged bytes), a new map per group of batches:
                # the pages of a group leave this process once its rows are written, so a
                # staged file of millions of rows never counts whole as its memory
                with pa.memory_map(path) as src:
                    reader = pa.ipc.open_file(src)
                    t = pa.Table.from_batches([reader.get_batch(j) for j in range(i, min(i + step, n))], schema=reader.schema)
                yield t.filter(pc.invert(dup_mask(t, dups))) if dups else t
                del t, reader

    parts = wh.write_stream("events", rows(), rels[0][len(STAGING) + 1 : -len(".arrow")])
    for rel in rels:
        os.unlink(wh.root / rel)
    return parts


def stage_groups(wh: Warehouse, staged: list[str], jobs: int, target_bytes: int = 512 << 20) -> list[list[str]]:
    """Staged batches grouped for the final write: at least one group per worker, none much
    above ``target_bytes`` of staged Arrow (so a part stays a few hundred MB of Parquet at most),
    sizes balanced (largest first onto the smallest group). Fewer, larger parts than one per
    batch: a 1 GB ingest writes ~2 parts a month instead of ~25."""
    sizes = {rel: (wh.root / rel).stat().st_size for rel in staged}
    n = max(1, min(len(staged), max(jobs, -(-sum(sizes.values()) // target_bytes))))
    groups: list[list[str]] = [[] for _ in range(n)]
    load = [0] * n
    for rel in sorted(staged, key=lambda r: (-sizes[r], r)):
        i = load.index(min(load))
        groups[i].append(rel)
        load[i] += sizes[rel]
    return [sorted(g) for g in groups if g]


def dup_mask(t: pa.Table, dups: dict[str, list[int]]) -> pa.Array:
    """True for rows whose (source_file, line_no) is listed in ``dups``: one int64 key per row
    (file index << 32 | line), so the test is a single ``is_in`` whatever the number of files."""
    enc = pc.dictionary_encode(t.column("source_file")).combine_chunks()
    index = {f: i for i, f in enumerate(enc.dictionary.to_pylist())}
    keys = pc.add(pc.shift_left(enc.indices.cast(pa.int64()), 32), t.column("line_no").cast(pa.int64()))
    wanted = [(index[f] << 32) + ln for f, lines in dups.items() if f in index for ln in lines]
    return pc.is_in(keys, value_set=pa.array(wanted, pa.int64()))
