"""The search index at 10M events: ``tracelab search WORD`` through the index against the full
scan (``--no-index``) and ``grep -r`` over the raw files, the index's build cost as a share of a
cold ingest, and its size as a share of the Parquet.

Not a test. Usage::

    cp -r /work/bench/q10m/big_wh /tmp/me/q10m          # never build into a shared warehouse
    .venv/bin/python -m benchmarks.search_index_bench --warehouse /tmp/me/q10m \\
        --corpus /work/bench/q10m/corpus --repeat 3

* ``--warehouse``: the query benchmark's replicated warehouse (``benchmarks/query_bench.py``,
  Parquet parts replicated with fresh keys, so made without ingest): its index is built here
  with ``tracelab index build`` when it is not complete (timed: wall and CPU of the process tree);
* each search runs as a user runs it, a new ``tracelab`` process (start-up included), once to
  warm up and ``--repeat`` times (median): ``--json -n 50`` (the search alone) with the index and
  with ``--no-index``, and the default table output with the index (which adds the
  ``tracelab session … --around N`` hint of each hit, :mod:`tracelab.session.locate`);
* ``grep -r -c WORD`` over ``--corpus``, one replica's raw files, also shown scaled by the
  replica count;
* the build cost as a share of a cold ingest is measured inside one ingest of ``--corpus``
  into a fresh warehouse: the ingest's ``index`` phase against its whole run (the same
  process indexes the parts it writes).

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


def timed(argv: list[str], repeat: int, ok=(0,)) -> tuple[float, float, str]:
    """Median wall and CPU seconds of ``repeat`` runs after one warm-up, and the last stdout."""
    IB.measure(argv, check=False)
    runs = []
    for _ in range(repeat):
        m = IB.measure(argv, check=False)
        if m.returncode not in ok:
            raise RuntimeError(f"{argv}: exit {m.returncode}: {m.stderr[-400:]}")
        runs.append(m)
    runs.sort(key=lambda m: m.wall_s)
    mid = runs[len(runs) // 2]
    return mid.wall_s, statistics.median(m.cpu_s for m in runs), mid.stdout


def parquet_bytes(root: Path, top: str | None = None) -> int:
    base = root / top if top else root
    return sum(p.stat().st_size for p in base.rglob("*.parquet"))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", type=Path, required=True, help="a copy of the replicated 10M-event warehouse (the index is built into it)")
    ap.add_argument("--corpus", type=Path, required=True, help="the raw corpus one replica was ingested from (grep, and the ingest share)")
    ap.add_argument("--words", default="ENOENT,Traceback", help="comma-separated words searched")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args(argv)
    load0 = os.getloadavg()
    wh = str(a.warehouse)
    out: dict = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": IB.machine(),
        "command": f"python -m benchmarks.search_index_bench --warehouse {a.warehouse} --corpus {a.corpus} --words {a.words} --repeat {a.repeat}",
        "load_start": load0,
    }
    status = json.loads(IB.measure([*TRACELAB, "index", "status", "-w", wh, "--json"]).stdout)
    if not status["complete"]:
        m = IB.measure([*TRACELAB, "index", "build", "-w", wh, "--json"])
        out["build"] = {"wall_s": m.wall_s, "cpu_s": m.cpu_s, "peak_rss_mb": m.peak_rss_mb, "load": os.getloadavg()}
        status = json.loads(IB.measure([*TRACELAB, "index", "status", "-w", wh, "--json"]).stdout)
    snap = json.loads((a.warehouse / "_snapshot.json").read_text())
    events = sum(__import__("pyarrow.parquet").parquet.ParquetFile(a.warehouse / r).metadata.num_rows for r in snap["tables"]["events"])
    out["warehouse"] = {
        "events": events,
        "index_bytes": status["index_bytes"],
        "events_bytes": status["events_bytes"],
        "parquet_bytes": parquet_bytes(a.warehouse) - status["index_bytes"],
    }
    corpus_mb = IB.input_bytes([a.corpus]) / 1e6
    base_events = None
    rows = []
    for word in a.words.split(","):
        w_idx, c_idx, o_idx = timed([*TRACELAB, "search", word, "-w", wh, "--json", "-n", "50"], a.repeat)
        w_scan, c_scan, o_scan = timed([*TRACELAB, "search", word, "-w", wh, "--json", "-n", "50", "--no-index"], a.repeat)
        same = json.loads(o_idx) == json.loads(o_scan)
        w_tab, c_tab, _ = timed([*TRACELAB, "search", word, "-w", wh], a.repeat)
        w_grep, c_grep, o_grep = timed(["grep", "-r", "-c", word, str(a.corpus)], a.repeat, ok=(0, 1))
        hits = json.loads(o_idx)
        lines = sum(int(x.rsplit(":", 1)[1]) for x in o_grep.splitlines() if ":" in x)
        rows.append(
            {
                "word": word,
                "total_matches": hits[0]["total_matches"] if hits else 0,
                "same_as_scan": same,
                "index": {"wall_s": w_idx, "cpu_s": c_idx},
                "scan": {"wall_s": w_scan, "cpu_s": c_scan},
                "index_table_output": {"wall_s": w_tab, "cpu_s": c_tab},
                "grep_one_replica": {"wall_s": w_grep, "cpu_s": c_grep, "lines": lines},
            }
        )
        print(f"{word}: index {w_idx:.2f} s, scan {w_scan:.2f} s, table output {w_tab:.2f} s, grep (1 replica) {w_grep:.3f} s, same={same}", flush=True)
    out["searches"] = rows
    # build cost inside a cold ingest of the corpus
    tmp = Path(tempfile.mkdtemp(prefix="tl_search_index_bench_"))
    try:
        m = IB.measure([*TRACELAB, "ingest", str(a.corpus), "--warehouse", str(tmp / "wh"), "--json", "--quiet"])
        s = json.loads(m.stdout)
        base_events = s["rows"]["events"]
        out["ingest"] = {
            "corpus_mb": corpus_mb,
            "events": base_events,
            "wall_s": m.wall_s,
            "cpu_s": m.cpu_s,
            "seconds": s["seconds"],
            "index_s": s["phases"].get("index", 0.0),
            "phases": s["phases"],
            "index_bytes": parquet_bytes(tmp / "wh", "search_index"),
            "events_bytes": parquet_bytes(tmp / "wh", "events"),
            "parquet_bytes": parquet_bytes(tmp / "wh") - parquet_bytes(tmp / "wh", "search_index"),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["replicas"] = round(events / base_events) if base_events else None
    out["load_end"] = os.getloadavg()
    write(out, a.out)
    print(a.out.read_text())


def write(r: dict, path: Path) -> None:
    m, w, ing = r["machine"], r["warehouse"], r["ingest"]
    reps = r["replicas"] or 1
    lines = [
        "# Search index (`benchmarks/search_index_bench.py`)",
        "",
        f"- date: {r['date']}; machine: {m['cores']} cores ({m['cpu']}), {m['memory']} RAM; {m['os']}; Python {m['python']}",
        f"- command: `{r['command']}`",
        f"- 1/5/15-minute load average at the start {tuple(round(x, 1) for x in r['load_start'])}, at the end {tuple(round(x, 1) for x in r['load_end'])} "
        "(2 cores shared with other jobs: wall times are inflated by the load; CPU seconds are the process tree's)",
        f"- warehouse: {w['events']:,} events, the query benchmark's replicated warehouse ({reps} replicas of the corpus below); "
        f"Parquet without the index {w['parquet_bytes'] / 1e9:.2f} GB, of it events {w['events_bytes'] / 1e9:.2f} GB",
        "- each search: a new `tracelab` process as a user runs it (start-up included), median of the runs after one warm-up",
        "",
        "| search | total matches | index wall s (CPU s) | `--no-index` scan wall s (CPU s) | speed-up (wall) | same rows | index, table output wall s | "
        "grep -r one replica s | grep ×replicas s (est.) |",
        "|---|---:|---:|---:|---:|:---:|---:|---:|---:|",
    ]
    for x in r["searches"]:
        i, s, t, g = x["index"], x["scan"], x["index_table_output"], x["grep_one_replica"]
        lines.append(
            f"| `tracelab search {x['word']}` | {x['total_matches']:,} | {i['wall_s']:.2f} ({i['cpu_s']:.2f}) | {s['wall_s']:.2f} ({s['cpu_s']:.2f}) | "
            f"{s['wall_s'] / i['wall_s']:.1f}× | {'yes' if x['same_as_scan'] else 'NO'} | {t['wall_s']:.2f} | {g['wall_s']:.3f} | {g['wall_s'] * reps:.1f} |"
        )
    lines += ["", "Index size and build cost:", ""]
    lines.append(
        f"- 10M warehouse: index {w['index_bytes'] / 1e6:.0f} MB = {w['index_bytes'] / w['events_bytes']:.0%} of the events parts, "
        f"{w['index_bytes'] / w['parquet_bytes']:.0%} of all its Parquet"
    )
    if "build" in r:
        b = r["build"]
        lines.append(f"- `tracelab index build` over the 10M warehouse: {b['wall_s']:.0f} s wall, {b['cpu_s']:.0f} s CPU (load at the end {b['load'][0]:.1f})")
    lines.append(
        f"- cold ingest of the corpus ({ing['corpus_mb']:.0f} MB, {ing['events']:,} events): {ing['seconds']:.1f} s, of which indexing "
        f"{ing['index_s']:.1f} s = {ing['index_s'] / ing['seconds']:.0%} (target <= 25%); index {ing['index_bytes'] / 1e6:.1f} MB = "
        f"{ing['index_bytes'] / ing['events_bytes']:.0%} of the events parts, {ing['index_bytes'] / ing['parquet_bytes']:.0%} of all Parquet"
    )
    lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    path.with_suffix(".json").write_text(json.dumps(r, indent=1, default=str))


if __name__ == "__main__":
    main()
