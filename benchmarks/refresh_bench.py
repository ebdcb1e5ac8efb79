"""Refresh benchmark: what a routine re-ingest costs on a large warehouse.

    python -m benchmarks.refresh_bench [--size 5GB] [--refresh-size 10MB] [--work DIR]

Builds a ``tracelab synth`` corpus of ``--size`` (seed 0) and ingests it cold; then writes a
second, small corpus (``--refresh-size``, seed 1: new sessions) beside it and runs the same
ingest over both (the refresh a cron job or the start of a report does). Every step is one
fresh ``python -m tracelab ingest`` process measured like the ingest benchmark (wall, CPU and
peak RSS summed over its process tree: :func:`benchmarks.ingest_bench.measure`); the refresh's
own step times come from its ``--json`` summary. Baseline in the same run: deriving the
derived and failure tables again from all events of the same snapshot (``derive.rebuild`` +
``failures.api.rebuild_in_snapshot`` in a fresh process, written under a scratch batch id and
deleted), which is what the refresh's derive and failure steps cost before they became
incremental. Results go to ``benchmarks/results/refresh.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks import ingest_bench as IB

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "refresh.md"
PY = sys.executable

#: Full re-derivation of the snapshot a refresh produced, as the baseline.
_FULL = """
import copy, sys, time
from tracelab.failures import api
from tracelab.store import derive
from tracelab.store.warehouse import Warehouse
wh = Warehouse(sys.argv[1])
snap = copy.deepcopy(wh.snapshot())
t = time.perf_counter()
derive.rebuild(wh, snap, "zz-bench-full")
t1 = time.perf_counter()
api.rebuild_in_snapshot(wh, snap, "zz-bench-full")
t2 = time.perf_counter()
for p in wh.root.rglob("*zz-bench-full*"):
    p.unlink()
print(t1 - t, t2 - t1)
"""


def _commit() -> str:
    out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "tracelab"], capture_output=True, text=True).stdout.strip()
    return (out.stdout.strip() or "unknown") + (" (with uncommitted edits under tracelab/)" if dirty else "")


def _synth(out: Path, size: str, seed: int) -> dict:
    m = IB.measure([PY, "-m", "tracelab", "synth", "--out", str(out), "--size", size, "--seed", str(seed), "--json"])
    return json.loads(m.stdout)


def _roots(corpus: Path) -> list[Path]:
    return [corpus / a for a in IB.AGENTS if (corpus / a).is_dir()]


def run(size: str, refresh_size: str, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    base, extra, wh = work / "corpus", work / "refresh", work / "warehouse"
    for p in (base, extra, wh):
        shutil.rmtree(p, ignore_errors=True)
    print(f"synth {size} …", flush=True)
    _synth(base, size, 0)
    _synth(extra, refresh_size, 1)
    roots, more = _roots(base), _roots(extra)
    nbytes, add_bytes = IB.input_bytes(roots), IB.input_bytes(more)
    argv = lambda rs: [PY, "-m", "tracelab", "ingest", *map(str, rs), "--warehouse", str(wh), "--json", "--quiet"]  # noqa: E731
    print(f"cold ingest of {nbytes / 1e6:.0f} MB …", flush=True)
    cold = IB.measure(argv(roots))
    cold_summary = json.loads(cold.stdout)
    print(f"  {cold.wall_s:.1f} s; refresh with +{add_bytes / 1e6:.1f} MB …", flush=True)
    refresh = IB.measure(argv(roots + more))
    summary = json.loads(refresh.stdout)
    print(f"  {refresh.wall_s:.1f} s ({summary.get('derived')}); full re-derivation of the same snapshot …", flush=True)
    full = IB.measure([PY, "-c", _FULL, str(wh)])
    derive_s, failures_s = map(float, full.stdout.split())
    out = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": IB.machine(),
        "command": " ".join(["python -m benchmarks.refresh_bench", "--size", size, "--refresh-size", refresh_size]),
        "commit": _commit(),
        "corpus_mb": nbytes / 1e6,
        "refresh_mb": add_bytes / 1e6,
        "events": cold_summary["rows"]["events"],
        "sessions": cold_summary["rows"]["sessions"],
        "cold": cold.brief(),
        "cold_phases": cold_summary.get("phases", {}),
        "refresh": refresh.brief(),
        "refresh_phases": summary.get("phases", {}),
        "refresh_files": summary["files_parsed"],
        "refresh_derived": summary.get("derived", ""),
        "full_derive_s": derive_s,
        "full_failures_s": failures_s,
    }
    shutil.rmtree(work, ignore_errors=True)
    return out


def write(r: dict, path: Path = RESULTS) -> Path:
    m = r["machine"]
    c, f = r["cold"], r["refresh"]
    ph = r["refresh_phases"]
    before = f["wall_s"] - ph.get("derive", 0) - ph.get("failures", 0) + r["full_derive_s"] + r["full_failures_s"]
    steps = ", ".join(f"{k} {v:.2f} s" for k, v in ph.items())
    lines = [
        "# Refresh of a large warehouse (`benchmarks/refresh_bench.py`)",
        "",
        f"- date: {r['date']}; machine: {m['cores']} cores ({m['cpu']}), {m['memory']} RAM; {m['os']}; Python {m['python']}",
        f"- command: `{r['command']}`; code: commit `{r.get('commit', 'unknown')}`",
        f"- corpus: `tracelab synth` {r['corpus_mb']:.0f} MB (seed 0), {r['events']:,} events, {r['sessions']:,} sessions; "
        f"refresh: +{r['refresh_mb']:.1f} MB of new sessions (seed 1, {r['refresh_files']} files)",
        "- every step one fresh process; wall time, CPU of the whole process tree, peak RSS summed over it (`benchmarks/ingest_bench.py::measure`)",
        "",
        "| step | wall s | CPU s | peak RSS MB | detail |",
        "|---|---:|---:|---:|---|",
        f"| cold ingest | {c['wall_s']:.1f} | {c['cpu_s']:.1f} | {c['peak_rss_mb']:,.0f} | "
        f"{r['corpus_mb'] / c['wall_s']:.1f} MB/s; steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in r["cold_phases"].items()) + " |",
        f"| refresh (+{r['refresh_mb']:.1f} MB) | {f['wall_s']:.1f} | {f['cpu_s']:.1f} | {f['peak_rss_mb']:,.0f} | "
        f"derived {r['refresh_derived']}; steps: {steps} |",
        f"| baseline: derive and failure tables from all events of the same snapshot | "
        f"{r['full_derive_s'] + r['full_failures_s']:.1f} | | | derive {r['full_derive_s']:.1f} s, failures {r['full_failures_s']:.1f} s |",
        "",
        f"The refresh took {f['wall_s']:.1f} s = {100 * f['wall_s'] / c['wall_s']:.0f}% of the cold ingest. With its derive and "
        f"failure steps replaced by the full re-derivation (as every ingest did before they became incremental) it would take "
        f"~{before:.1f} s: {before / f['wall_s']:.1f}× longer.",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    (path.with_suffix(".json")).write_text(json.dumps(r, indent=1))
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="5GB", help="synthetic corpus size (default 5GB)")
    ap.add_argument("--refresh-size", default="10MB", help="size of the new sessions added for the refresh (default 10MB)")
    ap.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "refresh", help="scratch directory (deleted after)")
    a = ap.parse_args(argv)
    r = run(a.size, a.refresh_size, a.work)
    print(write(r).read_text())
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
