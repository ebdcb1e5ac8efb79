"""The search index at 10M events: ``tracelab search WORD`` and ``tracelab sessions --search
WORD`` through the index against the full scan (``--no-index``) and ``grep -r`` over the raw
files, the index's build cost as a share of a cold ingest, and its size as a share of the
Parquet.

Not a test. Usage::

    cp -r /work/bench/q10m/big_bloom /tmp/me/q10m       # never build into a shared warehouse
    .venv/bin/python -m benchmarks.search_index_bench --warehouse /tmp/me/q10m \\
        --corpus /work/bench/q10m/corpus --base-warehouse /work/bench/q10m/base_wh \\
        --ingest-corpus /work/bench/synth1g --repeat 3

* ``--warehouse``: the query benchmark's replicated warehouse (``benchmarks/query_bench.py``,
  Parquet parts replicated with fresh keys, so made without ingest): its index is built here
  with ``tracelab index build`` when it is not complete (timed: wall and CPU of the process tree);
* each search runs as a user runs it, a new ``tracelab`` process (start-up included), once to
  warm up and ``--repeat`` times (median), alternating index and scan: ``--json -n 50`` (the
  search alone) with the index and with ``--no-index`` (the outputs must be equal), the default
  table output with the index (which adds the ``tracelab session … --around N`` hint of each
  hit), and ``tracelab sessions --search WORD --json`` with and without the index;
* ``grep -r -c WORD`` over the raw files the warehouse holds: ``--corpus`` once per replica
  (the replica count from ``--base-warehouse``; a shell loop, timed as one command);
* the build cost as a share of a cold ingest is measured inside one ingest of
  ``--ingest-corpus`` (default ``--corpus``) into a fresh warehouse: the ingest's ``index``
  phase against its whole run (the same process indexes the parts it writes).

Results go to ``benchmarks/results/search_index.md`` (and ``.json``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks import ingest_bench as IB

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "search_index.md"
TRACELAB = [sys.executable, "-m", "tracelab"]


def timed_pair(a: list[str], b: list[str], repeat: int, ok=(0,)) -> tuple[dict, dict]:
    """Median wall and CPU seconds (and the last stdout) of ``a`` and ``b``, run alternately
    ``repeat`` times each after one warm-up of each."""
    IB.measure(a, check=False)
    IB.measure(b, check=False)
    runs: dict[int, list] = {0: [], 1: []}
    for _ in range(repeat):
        for i, argv in enumerate((a, b)):
            m = IB.measure(argv, check=False)
            if m.returncode not in ok:
                raise RuntimeError(f"{argv}: exit {m.returncode}: {m.stderr[-400:]}")
            runs[i].append(m)
    out = []
    for i in (0, 1):
        rs = sorted(runs[i], key=lambda m: m.wall_s)
        out.append(
            {
                "wall_s": rs[len(rs) // 2].wall_s,
                "cpu_s": statistics.median(m.cpu_s for m in rs),
                "runs_wall_s": [m.wall_s for m in runs[i]],
                "stdout": rs[-1].stdout,
            }
        )
    return out[0], out[1]


def parquet_bytes(root: Path, top: str | None = None) -> int:
    base = root / top if top else root
    return sum(p.stat().st_size for p in base.rglob("*.parquet")) if base.exists() else 0


def _strip(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "stdout"}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", type=Path, required=True, help="a copy of the replicated 10M-event warehouse (the index is built into it)")
    ap.add_argument("--corpus", type=Path, required=True, help="the raw corpus one replica was ingested from (grep)")
    ap.add_argument("--ingest-corpus", type=Path, help="the corpus cold-ingested for the index's share of ingest time (default: --corpus)")
    ap.add_argument(
        "--base-warehouse", type=Path, help="the warehouse of one replica (the --corpus ingested): the replica count, so grep reads the corpus that many times"
    )
    ap.add_argument("--words", default="ENOENT,Traceback", help="comma-separated words searched")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args(argv)
    load0 = os.getloadavg()
    wh = str(a.warehouse)
    ingest_corpus = a.ingest_corpus or a.corpus
    out: dict = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": IB.machine(),
        "command": " ".join(
            ["python -m benchmarks.search_index_bench", f"--warehouse {a.warehouse} --corpus {a.corpus} --ingest-corpus {ingest_corpus}"]
            + ([f"--base-warehouse {a.base_warehouse}"] if a.base_warehouse else [])
            + [f"--words {a.words} --repeat {a.repeat}"]
        ),
        "load_start": load0,
    }
    status = json.loads(IB.measure([*TRACELAB, "index", "status", "-w", wh, "--json"]).stdout)
    if not status["complete"]:
        m = IB.measure([*TRACELAB, "index", "build", "-w", wh, "--json"])
        out["build"] = {"wall_s": m.wall_s, "cpu_s": m.cpu_s, "peak_rss_mb": m.peak_rss_mb, "load": os.getloadavg()}
        status = json.loads(IB.measure([*TRACELAB, "index", "status", "-w", wh, "--json"]).stdout)
    import pyarrow.parquet as pq

    snap = json.loads((a.warehouse / "_snapshot.json").read_text())
    events = sum(pq.ParquetFile(a.warehouse / r).metadata.num_rows for r in snap["tables"]["events"])
    out["warehouse"] = {
        "events": events,
        "index_bytes": status["index_bytes"],
        "events_bytes": status["events_bytes"],
        "parquet_bytes": parquet_bytes(a.warehouse) - status["index_bytes"],
    }
    out["replicas"] = None
    if a.base_warehouse:  # the one-replica warehouse the replicated one was made from
        bsnap = json.loads((a.base_warehouse / "_snapshot.json").read_text())
        base_events = sum(pq.ParquetFile(a.base_warehouse / r).metadata.num_rows for r in bsnap["tables"]["events"])
        out["replicas"] = round(events / base_events) if base_events else None
    copies = out["replicas"] or 1
    rows = []
    for word in a.words.split(","):
        idx, scan = timed_pair(
            [*TRACELAB, "search", word, "-w", wh, "--json", "-n", "50"], [*TRACELAB, "search", word, "-w", wh, "--json", "-n", "50", "--no-index"], a.repeat
        )
        same = json.loads(idx["stdout"]) == json.loads(scan["stdout"])
        s_idx, s_scan = timed_pair(
            [*TRACELAB, "sessions", "--search", word, "-w", wh, "--json"], [*TRACELAB, "sessions", "--search", word, "-w", wh, "--json", "--no-index"], a.repeat
        )
        s_same = json.loads(s_idx["stdout"]) == json.loads(s_scan["stdout"])
        # grep over the raw bytes the warehouse holds: the corpus once per replica (measured, not scaled)
        grep_all = ["sh", "-c", 'i=0; while [ "$i" -lt "$1" ]; do grep -r -c -- "$2" "$3"; i=$((i+1)); done', "sh", str(copies), word, str(a.corpus)]
        tab, grep = timed_pair([*TRACELAB, "search", word, "-w", wh], grep_all, a.repeat, ok=(0, 1))
        hits = json.loads(idx["stdout"])
        lines = sum(int(x.rsplit(":", 1)[1]) for x in grep["stdout"].splitlines() if ":" in x)
        rows.append(
            {
                "word": word,
                "total_matches": hits[0]["total_matches"] if hits else 0,
                "same_as_scan": same,
                "index": _strip(idx),
                "scan": _strip(scan),
                "index_table_output": _strip(tab),
                "sessions_index": _strip(s_idx),
                "sessions_scan": _strip(s_scan),
                "sessions_same": s_same,
                "sessions_found": len(json.loads(s_idx["stdout"])),
                "grep_all_replicas": {**_strip(grep), "lines": lines, "copies": copies},
            }
        )
        print(
            f"{word}: index {idx['wall_s']:.2f} s, scan {scan['wall_s']:.2f} s, same={same}; table output {tab['wall_s']:.2f} s; "
            f"sessions --search index {s_idx['wall_s']:.2f} s, scan {s_scan['wall_s']:.2f} s, same={s_same}; grep ({copies} copies of the corpus) {grep['wall_s']:.3f} s",
            flush=True,
        )
    out["searches"] = rows
    # build cost inside a cold ingest
    tmp = Path(tempfile.mkdtemp(prefix="tl_search_index_bench_"))
    try:
        m = IB.measure([*TRACELAB, "ingest", str(ingest_corpus), "--warehouse", str(tmp / "wh"), "--json", "--quiet"])
        s = json.loads(m.stdout)
        out["ingest"] = {
            "corpus": str(ingest_corpus),
            "corpus_mb": IB.input_bytes([ingest_corpus]) / 1e6,
            "events": s["rows"]["events"],
            "wall_s": m.wall_s,
            "cpu_s": m.cpu_s,
            "peak_rss_mb": m.peak_rss_mb,
            "seconds": s["seconds"],
            "index_s": s["phases"].get("index", 0.0),
            "phases": s["phases"],
            "index_bytes": parquet_bytes(tmp / "wh", "search_index"),
            "events_bytes": parquet_bytes(tmp / "wh", "events"),
            "parquet_bytes": parquet_bytes(tmp / "wh") - parquet_bytes(tmp / "wh", "search_index"),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["load_end"] = os.getloadavg()
    write(out, a.out)
    print(a.out.read_text())


def _ratio(x: float, y: float) -> str:
    return f"{x / y:.1f}×" if y else "-"


def write(r: dict, path: Path) -> None:
    m, w, ing = r["machine"], r["warehouse"], r["ingest"]
    reps = r["replicas"]
    lines = [
        "# Search index (`benchmarks/search_index_bench.py`)",
        "",
        f"- date: {r['date']}; machine: {m['cores']} cores ({m['cpu']}), {m['memory']} RAM; {m['os']}; Python {m['python']}",
        f"- command: `{r['command']}`",
        f"- 1/5/15-minute load average at the start {tuple(round(x, 1) for x in r['load_start'])}, at the end {tuple(round(x, 1) for x in r['load_end'])} "
        "(2 cores shared with other jobs: wall times are inflated by the load; CPU seconds are the process tree's)",
        f"- warehouse: {w['events']:,} events, the query benchmark's replicated warehouse"
        + (f" ({reps} replicas of the `--corpus`)" if reps else "")
        + f"; Parquet without the index {w['parquet_bytes'] / 1e9:.2f} GB, of it events {w['events_bytes'] / 1e9:.2f} GB",
        "- each command: a new process as a user runs it (start-up included), median of the runs after one warm-up, index and scan runs alternating",
        "",
        "| command | matches | with the index: wall s (CPU s) | `--no-index` scan: wall s (CPU s) | scan ÷ index, wall (CPU) | same output | "
        "`grep -r -c` over the raw files of every replica: wall s (CPU s) | grep ÷ index (wall) |",
        "|---|---:|---:|---:|---:|:---:|---:|---:|",
    ]
    for x in r["searches"]:
        i, s, t, g = x["index"], x["scan"], x["index_table_output"], x["grep_all_replicas"]
        est = _ratio(g["wall_s"], i["wall_s"])
        lines.append(
            f"| `tracelab search {x['word']} --json -n 50` | {x['total_matches']:,} events | {i['wall_s']:.2f} ({i['cpu_s']:.2f}) | "
            f"{s['wall_s']:.2f} ({s['cpu_s']:.2f}) | {_ratio(s['wall_s'], i['wall_s'])} ({_ratio(s['cpu_s'], i['cpu_s'])}) | "
            f"{'yes' if x['same_as_scan'] else 'NO'} | {g['wall_s']:.2f} ({g['cpu_s']:.2f}), {g['lines']:,} lines | {est} |"
        )
        lines.append(f"| `tracelab search {x['word']}` (table output, with the `--around` hints) | | {t['wall_s']:.2f} ({t['cpu_s']:.2f}) | | | | | |")
        si, ss = x["sessions_index"], x["sessions_scan"]
        lines.append(
            f"| `tracelab sessions --search {x['word']} --json` | {x['sessions_found']:,} sessions | {si['wall_s']:.2f} ({si['cpu_s']:.2f}) | "
            f"{ss['wall_s']:.2f} ({ss['cpu_s']:.2f}) | {_ratio(ss['wall_s'], si['wall_s'])} ({_ratio(ss['cpu_s'], si['cpu_s'])}) | "
            f"{'yes' if x['sessions_same'] else 'NO'} | | |"
        )
    lines += ["", "Index size and build cost:", ""]
    lines.append(
        f"- 10M warehouse: index {w['index_bytes'] / 1e6:.0f} MB = {w['index_bytes'] / w['events_bytes']:.0%} of the events parts, "
        f"{w['index_bytes'] / w['parquet_bytes']:.0%} of all its Parquet"
    )
    if "build" in r:
        b = r["build"]
        lines.append(
            f"- `tracelab index build` over the 10M warehouse: {b['wall_s']:.0f} s wall, {b['cpu_s']:.0f} s CPU, peak RSS {b['peak_rss_mb']:.0f} MB "
            f"(load at the end {b['load'][0]:.1f})"
        )
    lines.append(
        f"- cold ingest of `{ing['corpus']}` ({ing['corpus_mb']:.0f} MB, {ing['events']:,} events): {ing['seconds']:.1f} s ({ing['cpu_s']:.1f} CPU-s, "
        f"peak RSS {ing['peak_rss_mb']:.0f} MB), of which waiting for the index {ing['index_s']:.1f} s = **{ing['index_s'] / ing['seconds']:.0%}** "
        "(target <= 25%; ingest builds the segments in a background thread while it derives, so their CPU is inside the run's CPU-s "
        "and shows as a longer derive: the index's whole cost is the cold ingest against code without an index, `cold_ingest_bench`); "
        f"index {ing['index_bytes'] / 1e6:.1f} MB = {ing['index_bytes'] / ing['events_bytes']:.0%} of the events parts, "
        f"{ing['index_bytes'] / ing['parquet_bytes']:.0%} of all Parquet"
    )
    lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    path.with_suffix(".json").write_text(json.dumps(r, indent=1, default=str))


if __name__ == "__main__":
    main()
