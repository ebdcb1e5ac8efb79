"""Cold ingest, before and after side by side: alternating runs, median per step.

    python -m benchmarks.cold_ingest_bench CORPUS --before-exe /work/before/.venv/bin/tracelab [--repeat 3] [--work DIR] [--json FILE]

Each round runs one cold ``tracelab ingest CORPUS -w NEW --json --quiet`` with the code
before (``--before-exe``: the ``tracelab`` script of another checkout's venv, or
``--before DIR``: this interpreter with ``PYTHONPATH=DIR``) and one with this checkout, in
alternating order (before first in odd rounds, after first in even ones), so a load that drifts
over the runs falls on both sides alike. Per run: wall seconds, CPU seconds of the whole
process tree (forkserver and pool workers included, :func:`benchmarks.ingest_bench.measure`),
largest single process RSS, the load average before it, and the ingest's own step times from
its ``--json`` summary (wall seconds per step: ``parse``, ``write``, ``derive``, ``failures``,
``compact``, ``index``, …). The table gives the median of each column over the rounds and
the steps' sum without ``index`` (the search index step, which another part of the
ingest owns), so the rest can be compared with code that had no index step.

The machine these runs share has 2 cores and other users: wall seconds are what a user waits
and move with the load; CPU seconds are what the work costs and move much less.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
from pathlib import Path

from benchmarks import ingest_bench as IB

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable


def _argv(exe: list[str], corpus: Path, warehouse: Path) -> list[str]:
    return [*exe, "ingest", str(corpus), "-w", str(warehouse), "--json", "--quiet"]


def _run(side: str, exe: list[str], env: dict[str, str], corpus: Path, work: Path, mb: float) -> dict:
    wh = work / f"wh_{side}"
    shutil.rmtree(wh, ignore_errors=True)
    # run from the work folder: a pool's forkserver puts its working directory first on sys.path,
    # so run from a checkout it would import that checkout's tracelab instead of the one measured
    m = IB.measure(_argv(exe, corpus, wh), env=env, cwd=work)
    summary = json.loads(m.stdout)
    shutil.rmtree(wh, ignore_errors=True)
    phases = {k: float(v) for k, v in summary.get("phases", {}).items()}
    return {
        "side": side,
        "started": m.started,
        "load": round(m.load_before, 2),
        "wall_s": round(m.wall_s, 2),
        "cpu_s": round(m.cpu_s, 2),
        "mb_s": round(mb / m.wall_s, 1),
        "largest_process_mb": round(m.largest_process_mb),
        "phases": phases,
        "steps_without_index": round(sum(v for k, v in phases.items() if k != "index"), 2),
    }


def _median(rows: list[dict], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return round(statistics.median(vals), 2) if vals else None


def _median_phase(rows: list[dict], name: str) -> float | None:
    vals = [r["phases"].get(name, 0.0) for r in rows]
    return round(statistics.median(vals), 2) if vals else None


def table(runs: list[dict]) -> list[str]:
    """Markdown: medians per side, then every run."""
    sides = [s for s in ("before", "after") if any(r["side"] == s for r in runs)]
    steps: list[str] = []
    for r in runs:
        steps += [k for k in r["phases"] if k not in steps]
    cols = ["wall_s", "cpu_s", "mb_s", "steps_without_index", "largest_process_mb"]
    out = ["| median of runs | " + " | ".join(sides) + " |", "|---|" + "---:|" * len(sides)]
    for c in cols:
        out.append(f"| {c} | " + " | ".join(str(_median([r for r in runs if r["side"] == s], c)) for s in sides) + " |")
    for name in steps:
        out.append(f"| step `{name}` (s) | " + " | ".join(str(_median_phase([r for r in runs if r["side"] == s], name)) for s in sides) + " |")
    out += ["", "| run | side | started (UTC) | load | wall s | CPU s | steps without index | " + " | ".join(steps) + " |"]
    out.append("|---:|---|---|---:|---:|---:|---:|" + "---:|" * len(steps))
    for i, r in enumerate(runs, 1):
        cells = " | ".join(str(r["phases"].get(s, "")) for s in steps)
        out.append(f"| {i} | {r['side']} | {r['started']} | {r['load']} | {r['wall_s']} | {r['cpu_s']} | {r['steps_without_index']} | {cells} |")
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--before-exe", help="the tracelab script of the checkout before (its own venv)")
    ap.add_argument("--before", help="a checkout of the code before, run with this interpreter and PYTHONPATH=DIR")
    ap.add_argument("--repeat", type=int, default=3, help="rounds (one run per side each)")
    ap.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "cold_ingest")
    ap.add_argument("--json", dest="json_out", type=Path, help="write every run as JSON here")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    mb = IB.input_bytes([args.corpus]) / 1e6
    sides: list[tuple[str, list[str], dict[str, str]]] = []
    if args.before_exe:
        sides.append(("before", [args.before_exe], {}))
    elif args.before:
        sides.append(("before", [PY, "-m", "tracelab"], {"PYTHONPATH": str(Path(args.before).resolve())}))
    sides.append(("after", [PY, "-m", "tracelab"], {}))
    runs: list[dict] = []
    for i in range(args.repeat):
        for side, exe, env in sides if i % 2 == 0 else list(reversed(sides)):
            r = _run(side, exe, env, args.corpus, args.work, mb)
            print(f"round {i + 1} {side}: wall {r['wall_s']} s, CPU {r['cpu_s']} s, load {r['load']}, steps {r['phases']}", file=sys.stderr)
            runs.append(r)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"corpus {args.corpus} ({mb:,.0f} MB of JSONL), {args.repeat} rounds, {when}, machine {IB.machine()}")
    print("\n".join(table(runs)))
    if args.json_out:
        args.json_out.write_text(json.dumps({"corpus": str(args.corpus), "mb": mb, "date": when, "machine": IB.machine(), "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
