"""Ingest benchmark: cold ingest MB/s and peak RSS, unchanged re-run, 1% refresh, side by side
with ccusage (whole process) and a DuckDB raw JSON scan of the same files.

    python -m benchmarks.ingest_bench --size-mb 600 [--agents claude,codex,pi] [--work DIR]

The corpus is built from the real shared samples (fresh ids per copy, `benchmarks/corpus.py`).
Each measured step runs in a fresh subprocess so peak RSS is that step's own (ru_maxrss of the
child's process tree). Results are written to `benchmarks/results/ingest.md`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import corpus as C

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable


def _run_measured(argv: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB of the child tree, stdout) for one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed: {p.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all waited-for children; measure in isolation
    return wall, max(peak, before) / 1024.0, p.stdout


def _peak_rss_tree(argv: list[str]) -> tuple[float, float, str]:
    """Run under /usr/bin/time -v when available (true peak of the whole process tree is the
    max over processes; GNU time reports the largest single process)."""
    gnu = Path("/usr/bin/time")
    if gnu.exists():
        t = time.perf_counter()
        p = subprocess.run([str(gnu), "-v", *argv], capture_output=True, text=True)
        wall = time.perf_counter() - t
        if p.returncode != 0:
            raise SystemExit(f"{argv[:4]} failed: {p.stderr[-2000:]}")
        rss = 0.0
        for line in p.stderr.splitlines():
            if "Maximum resident set size" in line:
                rss = int(line.split(":")[1]) / 1024.0
        return wall, rss, p.stdout
    return _run_measured(argv)


def duckdb_scan_seconds(root: Path) -> float:
    """DuckDB's own newline-delimited JSON reader over the same files: parse every line as JSON
    and aggregate a usage field (the floor for 'just read the JSON')."""
    code = (
        "import duckdb,sys,time;c=duckdb.connect();t=time.perf_counter();"
        "c.execute(\"SELECT count(*), sum(TRY_CAST(json_extract(json, '$.message.usage.output_tokens') AS BIGINT)) "
        "FROM read_ndjson_objects(?, ignore_errors=true)\", [sys.argv[1]]).fetchall();"
        "print(time.perf_counter()-t)"
    )
    p = subprocess.run([PY, "-c", code, str(root / "**" / "*.jsonl")], capture_output=True, text=True, check=True)
    return float(p.stdout.strip())


def bench_agent(agent: str, shared: Path, work: Path, size_mb: float) -> dict:
    info = C.build(shared, work / "corpus", agent, int(size_mb * 1e6))
    root = Path(info["root"])
    mb = info["bytes"] / 1e6
    wh = work / f"wh_{agent}"
    shutil.rmtree(wh, ignore_errors=True)
    argv = [PY, "-m", "tracelab", "ingest", str(root), "--warehouse", str(wh), "--json", "--agent", agent]
    cold_s, cold_rss, out = _peak_rss_tree(argv)
    summ = json.loads(out)
    rerun_s, _, out2 = _peak_rss_tree(argv)
    assert json.loads(out2)["files_parsed"] == 0
    # refresh: 1% new sessions
    extra = C.build(shared, work / "corpus_extra", agent, int(size_mb * 1e6 * 0.01))
    shutil.copytree(Path(extra["root"]), root / "refresh", dirs_exist_ok=True)
    refresh_s, _, out3 = _peak_rss_tree(argv)
    shutil.rmtree(root / "refresh")
    res = {
        "agent": agent,
        "mb": mb,
        "files": info["files"],
        "lines": summ["lines_total"],
        "events": summ["rows"]["events"],
        "cold_s": cold_s,
        "cold_mb_s": mb / cold_s,
        "cold_rss_mb": cold_rss,
        "rerun_s": rerun_s,
        "rerun_pct": 100 * rerun_s / cold_s,
        "refresh_s": refresh_s,
    }
    try:
        from tracelab.devtools import ccusage as cc

        exe = cc.ensure_ccusage()
    except Exception as exc:  # pragma: no cover - depends on node/npm
        exe = None
        res["ccusage_note"] = str(exc)
    if exe is not None:
        res["ccusage_s"] = cc.time_ccusage(agent, root, repeat=1, warmup=0)
        res["ratio_vs_ccusage"] = res["ccusage_s"] / cold_s
    res["duckdb_scan_s"] = duckdb_scan_seconds(root)
    res["ratio_vs_duckdb_scan"] = res["duckdb_scan_s"] / cold_s
    return res


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def write_results(rows: list[dict], cmd: str) -> Path:
    out = REPO / "benchmarks" / "results" / "ingest.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "## Ingest",
        "",
        f"- date: {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {machine()}",
        f"- command: `{cmd}`",
        "- corpus: real shared samples copied with fresh ids until the size is reached (`benchmarks/corpus.py`)",
        "- ratios: baseline time / tracelab cold-ingest time (> 1 means tracelab is faster)",
        "",
        "| agent | input MB | files | lines | events | cold ingest s | MB/s | peak RSS MB | unchanged re-run s (% of cold) | +1% refresh s | ccusage daily s (ratio) | DuckDB raw JSON scan s (ratio) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cc = f"{r['ccusage_s']:.2f} ({r['ratio_vs_ccusage']:.2f}×)" if "ccusage_s" in r else "n/a"
        lines.append(
            f"| {r['agent']} | {r['mb']:.0f} | {r['files']} | {r['lines']} | {r['events']} | {r['cold_s']:.2f} | {r['cold_mb_s']:.1f} | {r['cold_rss_mb']:.0f} | "
            f"{r['rerun_s']:.2f} ({r['rerun_pct']:.1f}%) | {r['refresh_s']:.2f} | {cc} | {r['duckdb_scan_s']:.2f} ({r['ratio_vs_duckdb_scan']:.2f}×) |"
        )
    out.write_text("\n".join(lines) + "\n")
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size-mb", type=float, default=600)
    ap.add_argument("--agents", default="claude")
    ap.add_argument("--work", default=str(REPO / "benchmarks" / "work"))
    ap.add_argument("--shared", default=os.environ.get("TRACELAB_SHARED", str(REPO.parent / "shared")))
    a = ap.parse_args(argv)
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    rows = [bench_agent(agent, Path(a.shared), work, a.size_mb) for agent in a.agents.split(",")]
    for r in rows:
        print(json.dumps(r))
    print(write_results(rows, "python -m benchmarks.ingest_bench " + " ".join(argv or sys.argv[1:])))


if __name__ == "__main__":
    main()
