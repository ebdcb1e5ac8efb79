"""Command start-up: how long a fresh ``tracelab`` process takes for a trivial answer.

    python -m benchmarks.startup_bench [--repeat 10] [--shared ../shared]

Builds a warehouse from every real sample in ``SHARED/samples`` once, then times fresh processes
(interpreter start included) of ``tracelab --help``, ``tracelab sql "select 1"`` and
``tracelab info`` against it, the median of ``--repeat`` runs each, wall and CPU seconds. The
baseline is the DuckDB CLI (``duckdb -c "select 1"``) when it is on PATH, else
``python -c "import duckdb; ..."`` (what any DuckDB-based tool pays at least). Target: warehouse
commands in at most 0.3 s. Writes ``benchmarks/results/startup.md`` and re-assembles
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import harness as H
from benchmarks import ingest_bench as IB
from benchmarks.refresh_bench import _commit

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "startup.md"
TARGET_S = 0.3
PY = sys.executable


def _once(argv: list[str]) -> tuple[float, float]:
    """(wall s, CPU s of the child) of one fresh process; fails loudly if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _median(argv: list[str], repeat: int) -> dict:
    _once(argv)  # warm the OS file cache; not counted
    runs = [_once(argv) for _ in range(repeat)]
    return {"wall": statistics.median(w for w, _ in runs), "cpu": statistics.median(c for _, c in runs), "runs": repeat}


def run(repeat: int, shared: Path, work: Path) -> dict:
    tracelab = [PY, "-m", "tracelab"]
    wh = work / "samples-warehouse"
    if not (wh / "_snapshot.json").exists():
        subprocess.run([*tracelab, "ingest", str(shared / "samples"), "-w", str(wh), "-q"], check=True, capture_output=True)
    duckdb_cli = shutil.which("duckdb")
    baseline = [duckdb_cli, "-c", "select 1"] if duckdb_cli else [PY, "-c", "import duckdb; duckdb.connect().execute('select 1').fetchall()"]
    cases = {
        "tracelab --help": [*tracelab, "--help"],
        'tracelab sql "select 1"': [*tracelab, "sql", "select 1", "-w", str(wh)],
        "tracelab info": [*tracelab, "info", "-w", str(wh)],
    }
    load0 = os.getloadavg()
    out = {name: _median(argv, repeat) for name, argv in cases.items()}
    base = _median(baseline, repeat)
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": IB.machine(),
        "commit": _commit(),
        "command": f"python -m benchmarks.startup_bench --repeat {repeat}",
        "load": (load0, os.getloadavg()),
        "cases": out,
        "baseline": {"name": 'duckdb -c "select 1"' if duckdb_cli else 'python -c "import duckdb; …select 1"', **base},
    }


def write(r: dict, path: Path = RESULTS) -> Path:
    m = r["machine"]
    (l0, l1) = r["load"]
    b = r["baseline"]
    lines = [
        "# Command start-up (`benchmarks/startup_bench.py`)",
        "",
        f"- date: {r['date']}; machine: {m['cores']} cores ({m['cpu']}), {m['memory']} RAM; {m['os']}; Python {m['python']}",
        f"- command: `{r['command']}`; code: commit `{r['commit']}`",
        f"- load average (1/5/15 min) at start: {l0[0]:.2f}, {l0[1]:.2f}, {l0[2]:.2f}; at end: {l1[0]:.2f}, {l1[1]:.2f}, {l1[2]:.2f}"
        " (other engineers' jobs share the cores: wall times include that contention; CPU seconds do not)",
        f"- each cell: median of {b['runs']} fresh processes (interpreter start included) after one untimed warm-up; warehouse: every real"
        " sample in `../shared/samples`; baseline: " + f"`{b['name']}`",
        "",
        "| command | wall s | CPU s | baseline wall s (CPU s) | ratio wall ÷ baseline | target (warehouse commands) | met? |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for name, c in r["cases"].items():
        warehouse_cmd = "--help" not in name
        target = f"≤ {TARGET_S} s" if warehouse_cmd else ""
        met = ("**met**" if c["wall"] <= TARGET_S else "**not met**") if warehouse_cmd else ""
        lines.append(f"| `{name}` | {c['wall']:.3f} | {c['cpu']:.3f} | {b['wall']:.3f} ({b['cpu']:.3f}) | {c['wall'] / b['wall']:.1f}× | {target} | {met} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("TRACELAB_SHARED", REPO.parent / "shared")))
    ap.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "startup")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    r = run(args.repeat, args.shared, args.work)
    print(write(r).read_text())
    H.assemble()


if __name__ == "__main__":
    main()
